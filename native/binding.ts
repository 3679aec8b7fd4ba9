// Loads the compiled addon and declares the shape of its thin libbpf layer. Nothing outside
// native/ imports this file: the typed API (index.ts) is the only face of the addon.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface RawGlobal { section: string; name: string; offset: number; size: number }
export interface RawProgram { name: string; section: string; fd: number; type: number }
export interface RawMap {
  name: string; fd: number; type: number; keySize: number; valueSize: number;
  maxEntries: number; flags: number; internal: boolean; pinPath?: string;
}
export interface RawBpfObject {
  globals(): RawGlobal[];
  setInitial(section: string, offset: number, bytes: Uint8Array): void;
  setMaxEntries(map: string, n: number): void;
  setPinPath(map: string, path: string): void;
  load(): void;
  programs(): RawProgram[];
  maps(): RawMap[];
  close(): void;
}
export interface RawRingBuf {
  consume(): { bytes: Uint8Array; ends: Uint32Array };
  poll(timeoutMs: number): { bytes: Uint8Array; ends: Uint32Array };
  epollFd(): number;
  close(): void;
}
export interface RawTestRun { retval: number; data: Uint8Array; durationNs: number; ctx?: Uint8Array }

export interface NativeBinding {
  BpfObject: new (path: string) => RawBpfObject;
  RingBuf: new (mapFd: number) => RawRingBuf;
  mapLookup(fd: number, key: Uint8Array, valueBytes: number): Uint8Array | null;
  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: number): void;
  mapDelete(fd: number, key: Uint8Array): boolean;
  mapNextKey(fd: number, key: Uint8Array | null, keySize: number): Uint8Array | null;
  mapDump(fd: number, keySize: number, valueBytes: number, maxEntries: number): { keys: Uint8Array; values: Uint8Array; count: number };
  progTestRun(fd: number, data: Uint8Array, repeat: number, ctx: Uint8Array | null, dataOutCapacity: number): RawTestRun;
  objPin(fd: number, path: string): void;
  objGet(path: string): number;
  closeFd(fd: number): void;
  lockFile(path: string): number;
  mapInfo(fd: number): { name: string; id: number; type: number; keySize: number; valueSize: number; maxEntries: number; flags: number };
  progInfo(fd: number): { name: string; id: number; type: number; runCount: number; runTimeNs: number };
  linkInfo(fd: number): { id: number; type: number; progId: number; ifindex?: number };
  progFdById(id: number): number;
  numPossibleCpus(): number;
  monotonicNs(): bigint;
  ifNameToIndex(name: string, netns: string | null): number;
  xdpLinkCreate(progFd: number, ifindex: number, mode: "native" | "generic", netns: string | null): number;
  xdpQuery(ifindex: number, netns: string | null): { progId: number; drvProgId: number; skbProgId: number; mode: string };
  linkDetach(fd: number): void;
  linkUpdate(linkFd: number, progFd: number): void;
}

const addonPath = join(import.meta.dir, "build", "Release", "xids_native.node");
if (!existsSync(addonPath)) {
  throw new Error(`native addon not built (${addonPath} is missing): run 'npm run setup' first`);
}

export const native = createRequire(import.meta.url)(addonPath) as NativeBinding;
