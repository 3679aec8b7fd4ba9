// Counts the UDP datagrams arriving on <port>, by source address, until SIGTERM or <ms>
// milliseconds, then prints {"<src>": count, ...} and exits. Run inside a test namespace.
import { createSocket } from "node:dgram";

const port = Number(process.argv[2]);
const ms = Math.min(Number(process.argv[3] ?? "5000"), 60_000);
const counts: Record<string, number> = {};
const sock = createSocket("udp4");
sock.on("message", (_msg, rinfo) => (counts[rinfo.address] = (counts[rinfo.address] ?? 0) + 1));
await new Promise<void>((resolve) => sock.bind(port, "0.0.0.0", resolve));
const done = () => {
  sock.close();
  process.stdout.write(JSON.stringify(counts) + "\n", () => process.exit(0));
};
process.once("SIGTERM", done);
setTimeout(done, ms);
