// Sends `count` UDP datagrams from <src> to <dst>:<port>, one every 2 ms, then exits. Run inside a
// test namespace (nsenter) to produce real flows through the XDP data plane. Bounded: at most 1000.
import { createSocket } from "node:dgram";

const [src, dst, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Math.min(Number(countText ?? "1"), 1000);
if (!src || !dst || !port) {
  console.error("usage: udp-send.ts <src> <dst> <port> [count]");
  process.exit(2);
}
const sock = createSocket(src.includes(":") ? "udp6" : "udp4");
await new Promise<void>((resolve, reject) => {
  sock.once("error", reject);
  sock.bind({ address: src, port: 0 }, () => resolve());
});
for (let i = 0; i < count; i++) {
  await new Promise<void>((resolve, reject) => sock.send(Buffer.from(`xids-e2e ${i}`), port, dst, (err) => (err ? reject(err) : resolve())));
  await Bun.sleep(2);
}
sock.close();
