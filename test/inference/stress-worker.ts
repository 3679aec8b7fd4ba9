// One traffic source for the hot-update stress test, run pinned to a CPU (taskset): sends
// one-packet TCP flows (FIN + payload) through the pinned XDP program as fast as it can, so that
// its CPU is inside an inference as often as possible. Each packet creates a flow, ends it and has
// it classified. The frames come from a pool built up front, each with its own source address and
// port (the test finds a record's frame by them) and random features; reusing a frame starts a
// new flow, since a packet with payload is never absorbed as the tail of the flow it closed.
// One packet per BPF_PROG_TEST_RUN: with repeat > 1 the kernel puts the program into the XDP
// dispatcher and takes it out again around every run, each an RCU wait (~17 ms idle).
// usage: bun stress-worker.ts <pinned xdp prog> <worker id> <max flows> <max ms> <stop file>
// Runs until the stop file appears, or at the latest until the flow or time bound; prints the
// number of flows sent.
import { existsSync } from "node:fs";
import { Program } from "../../native/index.ts";
import { TCP, tcpFrame } from "../harness/packets.ts";
import { randInt, rng } from "./models.ts";

const POOL = 1024;

const [path, idArg, maxFlowsArg, maxMsArg, stopFile] = process.argv.slice(2);
const id = Number(idArg), maxFlows = Number(maxFlowsArg), maxMs = Number(maxMsArg);
if (!path || !stopFile || ![id, maxFlows, maxMs].every((n) => Number.isInteger(n) && n >= 0)) {
  throw new Error("usage: stress-worker.ts <pinned xdp prog> <worker id> <max flows> <max ms> <stop file>");
}
using prog = Program.fromPin(path);
const rand = rng(1000 + id);
const frames = Array.from({ length: POOL }, (_, i) =>
  tcpFrame({
    src: `198.18.${10 + id}.${1 + (i >> 8)}`,
    sport: 1024 + (i & 0xff),
    dst: "198.19.0.1",
    dport: randInt(rand, 1, 65535),
    flags: TCP.FIN | TCP.ACK | (rand() < 0.5 ? TCP.PSH : 0),
    win: randInt(rand, 0, 65535),
    payload: new Uint8Array(randInt(rand, 1, 1400)),
  }),
);
const deadline = performance.now() + maxMs;
let flows = 0;
while (flows < maxFlows) {
  const r = prog.testRun({ data: frames[flows % POOL]! });
  if (r.retval !== 2) throw new Error(`packet ${flows}: XDP action ${r.retval}`);
  flows++;
  // The stop file is the normal end; the bounds only keep a lost test from running on.
  if (flows % 256 === 0 && (existsSync(stopFile) || performance.now() > deadline)) break;
}
console.log(String(flows));
