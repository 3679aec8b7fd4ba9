// One traffic source for the hot-update stress test, run pinned to a CPU (taskset): sends
// one-packet TCP flows (FIN) with varied features through the pinned XDP program.
// usage: bun stress-worker.ts <pinned xdp prog> <worker id> <max flows> <stop file>
// Stops at the flow bound, or when the stop file appears (checked between bursts).
import { existsSync } from "node:fs";
import { Program } from "../../native/index.ts";
import { TCP, tcpFrame } from "../harness/packets.ts";
import { randInt, rng } from "./models.ts";

const [path, idArg, countArg, stopFile] = process.argv.slice(2);
const id = Number(idArg), count = Number(countArg);
using prog = Program.fromPin(path!);
const rand = rng(1000 + id);
let i = 0;
for (; i < count; i++) {
  const frame = tcpFrame({
    src: `198.18.${10 + id}.${1 + (i >> 16)}`,
    sport: 1024 + (i & 0xffff) % 60000,
    dst: "198.19.0.1",
    dport: randInt(rand, 1, 65535),
    flags: TCP.FIN | TCP.ACK | (rand() < 0.5 ? TCP.PSH : 0),
    win: randInt(rand, 0, 65535),
    payload: new Uint8Array(randInt(rand, 0, 1400)),
  });
  const r = prog.testRun({ data: frame });
  if (r.retval !== 2) throw new Error(`packet ${i}: XDP action ${r.retval}`);
  // Bounded bursts leave the consumer (and the model swapper) room on the same CPUs.
  if (i % 16 === 15) {
    if (stopFile && existsSync(stopFile)) break;
    await Bun.sleep(1);
  }
}
console.log(`${Math.min(i + 1, count)}`);
