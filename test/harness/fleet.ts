// Fleet tests' agents. FleetHost: a real `xids run` process with a real XDP data plane on a
// namespace pair of its own (client -> server), joined to a test nats-server, with the in-kernel
// one-split tree (UDP to a port >= 1000 is an attack, so one datagram decides a block) and the
// shared attacker addresses on its client. memoryAgent: a real Agent in this process on the
// in-memory data plane (the faults and rollout logic, no kernel needed).
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { connectControl, type Control } from "../../client/control.ts";
import { MemoryDataPlane } from "../../core/ebpf/memory-dataplane.ts";
import { FleetAgent } from "../../plugins/fleet/fleet-agent.ts";
import { builtins } from "../../plugins/index.ts";
import { FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import { BUN, Proc, REPO, TempDir, quietLog, waitFor } from "../core/util.ts";
import { twoHosts, type TwoHosts } from "./netns.ts";
import type { NatsServer } from "./nats-server.ts";

export const ATTACK_PORT = 5000;

/** A DT artifact in `dir`: attack iff Dst Port > `threshold` (one split, two leaves). */
export function portTree(dir: string, name = "port-tree", threshold = 999): string {
  const out = join(dir, name);
  cpSync(join(REPO, "models/artifacts/dt"), out, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  const port = manifest.features.findIndex((f: { index: number }) => f.index === 0);
  manifest.tree = { ...manifest.tree, nodes: 3, depth: 1 };
  writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest));
  writeFileSync(
    join(out, "tree.json"),
    JSON.stringify({ feature: [port, -1, -1], threshold: [threshold, 0, 0], float_threshold: [threshold + 0.5, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 0, 65536], cls: [0, 0, 1] }),
  );
  return out;
}

/** An artifact folder every check refuses (its manifest is not JSON). */
export function brokenArtifact(dir: string): string {
  const out = join(dir, "broken-model");
  cpSync(join(REPO, "models/artifacts/dt"), out, { recursive: true });
  writeFileSync(join(out, "manifest.json"), "{ this is not json");
  return out;
}

export class FleetHost {
  readonly hosts: TwoHosts;
  readonly sock: string;
  readonly config: string;
  readonly c: Control;
  proc: Proc | null = null;

  /** `index` picks the namespace pair's addresses; `attackers` are added to its client; with
   *  `pinDir` the data plane's state maps are pinned there (they outlive the agent). */
  constructor(
    readonly name: string,
    index: number,
    readonly dir: TempDir,
    nats: NatsServer,
    attackers: string[],
    fleet: Record<string, unknown> = {},
    pinDir = "",
  ) {
    this.hosts = twoHosts({ clientIp: `198.18.${10 + index}.1`, serverIp: `198.18.${10 + index}.2` });
    for (const a of attackers) {
      const v6 = a.includes(":");
      this.hosts.client.execSync(["ip", ...(v6 ? ["-6"] : []), "addr", "add", `${a}/${v6 ? 128 : 32}`, "dev", "eth0", ...(v6 ? ["nodad"] : [])]);
    }
    // The server answers the attackers (ping) through the client's end of the pair.
    this.hosts.server.execSync(["ip", "route", "add", "198.18.0.0/15", "dev", "eth0"]);
    this.hosts.server.execSync(["ip", "-6", "route", "add", "2001:2::/48", "dev", "eth0"]);
    const state = join(dir.path, name);
    mkdirSync(state, { recursive: true });
    this.sock = join(state, "control.sock");
    this.config = join(state, "xids.yaml");
    const fleetYaml = JSON.stringify({ servers: [nats.url], agent: name, heartbeat_ms: 500, reconnect_wait_ms: 200, ...fleet });
    writeFileSync(
      this.config,
      `dataplane: { interfaces: [eth0], netns: ${this.hosts.server.name}, idle_timeout_ms: 300, state_dir: ${state}, pin_dir: "${pinDir}" }
pipeline:
  models: [kernel-tree]
  block: { ttl_seconds: 300, min_attacks: 1, min_attack_pct: 0 }
plugins:
  - { id: xdp, kind: extractor, builtin: xdp }
  - { id: kernel-tree, kind: model, builtin: kernel, config: { artifact: "${portTree(state)}" } }
  - { id: xdp-drop, kind: responder, builtin: xdp-drop }
control: { socket: ${this.sock} }
fleet: ${fleetYaml}
`,
    );
    this.c = connectControl({ socket: this.sock, timeoutMs: 3_000 });
  }

  start(): void {
    this.proc = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", this.config]);
  }

  /** The agent runs, and its fleet plugin is in sync with the fleet. */
  async ready(ms = 30_000): Promise<void> {
    await waitFor(`agent ${this.name} in sync with the fleet`, async () => {
      if (this.proc && this.proc.proc.exitCode !== null) throw new Error(`agent ${this.name} exited ${this.proc.proc.exitCode}: ${this.proc.err.slice(-2000)}`);
      return existsSync(this.sock) && (await this.c.status()).state === "running";
    }, ms, 100);
  }

  /** The server's address of `src`'s family. */
  private server(src: string): string {
    return src.includes(":") ? this.hosts.serverIp6 : this.hosts.serverIp;
  }

  /** One attack flow from `src` to this host's server (a flow of its own: port + n). */
  async attack(src: string, n = 0): Promise<void> {
    await this.hosts.client.exec([BUN, join(REPO, "test/core/udp-send.ts"), src, this.server(src), String(ATTACK_PORT + n), "3"], { timeoutMs: 10_000 }); // 3 datagrams: not a lone packet
  }

  /** True when the server answers a ping from `src` (the tree calls ICMP benign). */
  async reaches(src: string): Promise<boolean> {
    const r = await this.hosts.client.exec(["ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "1", "-I", src, this.server(src)], { allowFail: true, timeoutMs: 5_000 });
    return r.code === 0;
  }

  async blocked(): Promise<string[]> {
    return (await this.c.listBlocked()).hosts.map((h) => h.address);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    p.proc.kill("SIGTERM");
    await p.exited(15_000);
  }

  async close(): Promise<void> {
    this.c.close();
    await this.stop().catch(() => {});
    this.hosts[Symbol.dispose]();
  }
}

/** A flow record the port tree calls an attack (UDP to ATTACK_PORT), from `src`. */
export function attackRecord(src: string, id: number): FlowRecord {
  const features = new Array<number>(22).fill(0);
  features[0] = ATTACK_PORT;
  features[1] = 17;
  features[2] = 3;
  return FlowRecord.create({ id, family: src.includes(":") ? 6 : 4, protocol: 17, endReason: 1, srcAddr: src, srcPort: 40_000, dstAddr: src.includes(":") ? "2001:2::2" : "198.18.0.2", dstPort: ATTACK_PORT, firstUs: 1, lastUs: 2, features });
}

/** A real agent in this process on the memory data plane, with the artifact model `dt` and the
 *  XDP-drop responder, joined to the fleet as `name`. */
export async function memoryAgent(dir: TempDir, nats: NatsServer, name: string, fleet: Record<string, unknown> = {}): Promise<{ agent: Agent; fleet: FleetAgent; dp: MemoryDataPlane }> {
  const state = join(dir.path, name);
  mkdirSync(state, { recursive: true });
  const r = checkConfig(
    {
      dataplane: { state_dir: state },
      control: { socket: join(state, "control.sock") },
      pipeline: { batch_wait_ms: 1, block: { ttl_seconds: 300 } },
      plugins: [
        { id: "dt", kind: "model", builtin: "artifact", config: { artifact: portTree(state) } },
        { id: "xdp-drop", kind: "responder", builtin: "xdp-drop" },
      ],
      fleet: { servers: [nats.url], agent: name, heartbeat_ms: 300, reconnect_wait_ms: 100, ...fleet },
    },
    builtins.catalog,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  const dp = new MemoryDataPlane(r.config.dataplane);
  const agent = await Agent.start(r.config, { ...builtins, dataplane: dp, log: quietLog });
  return { agent, fleet: agent.host.api("fleet", "responder") as FleetAgent, dp };
}
