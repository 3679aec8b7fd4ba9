// A capture of what the victim received on every link during a run (dumpcap, inbound only: the
// packets the XDP program saw and passed), so the same packets can be replayed through the kernel
// and the TypeScript reference afterwards and every flow record compared, source context included.
// One pcapng with one interface block per link; bounded by the run (stopped with it) and by a
// file-size ceiling.
import { existsSync, statSync } from "node:fs";
import type { Netns } from "../harness/netns.ts";

export interface Capture {
  path: string;
  /** Stops dumpcap, waits for the file to be complete; returns what dumpcap reported. */
  stop(): Promise<{ bytes: number; report: string }>;
}

/** A run of the full matrix makes a few hundred MB of packets; more than this is a runaway. */
const MAX_KB = 2_000_000;

export async function startCapture(victim: Netns, ifaces: readonly string[], path: string): Promise<Capture> {
  const argv = ["dumpcap", "-q", "-f", "inbound", "-a", `filesize:${MAX_KB}`, "-w", path, ...ifaces.flatMap((i) => ["-i", i])];
  const proc = victim.spawn(argv);
  const stderr = new Response(proc.stderr).text();
  // dumpcap says "Capturing on ..." once every interface is open; only then can traffic start.
  const deadline = Date.now() + 15_000;
  while (!existsSync(path) || statSync(path).size === 0) {
    if (proc.exitCode !== null) throw new Error(`dumpcap exited with ${proc.exitCode} before capturing: ${(await stderr).trim()}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`dumpcap did not start capturing on ${ifaces.length} interfaces within 15 s`);
    }
    await Bun.sleep(50);
  }
  return {
    path,
    async stop() {
      proc.kill("SIGINT"); // dumpcap finishes the file and prints its counts on SIGINT
      const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => null)]);
      if (code === null) {
        proc.kill("SIGKILL");
        throw new Error(`dumpcap did not stop within 10 s of SIGINT; ${path} may be incomplete`);
      }
      const report = (await stderr).trim();
      return { bytes: statSync(path).size, report };
    },
  };
}
