// DCSO's FEVER (Debian package `fever`), a real consumer of Suricata's EVE JSON, driven the way a
// sensor drives it: EVE lines written into its input socket, and what it forwards read from the
// socket it forwards to. FEVER parses every line (event type, addresses, ports, flow id; a line
// it cannot parse is dropped with a warning) and forwards the event types it is told to (alerts
// by default). `fever alertify` turns events into alerts and re-reads their timestamps in
// Suricata's form, warning about any it cannot. Everything is bounded in time and cleaned up.
import { existsSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { exec } from "./exec.ts";
import { Proc, TempDir, waitFor } from "../core/util.ts";

export const FEVER = "/usr/bin/fever";
const PACE_MS = 100;
// A readiness probe: an alert FEVER forwards, told apart from the caller's lines by its flow id.
const PROBE_MARK = '"flow_id":4242424242';
const PROBE = { flow_id: 4242424242, event_type: "alert", src_ip: "198.18.255.1", src_port: 1, dest_ip: "198.18.255.2", dest_port: 2, proto: "UDP", alert: { action: "allowed", gid: 1, signature_id: 1, rev: 1, signature: "readiness probe", category: "", severity: 3 } };

export interface FeverRun {
  /** The lines FEVER forwarded, in order. */
  forwarded: string[];
  /** FEVER's own log (JSON lines), warnings included. */
  log: { level: string; msg: string }[];
}

/**
 * Feeds `lines` to `fever run` (after a readiness probe has come out; probes are not returned)
 * and returns what it forwarded once `expectForwarded` lines have
 * arrived (or `ms` have passed; the caller asserts on the count).
 */
export async function feverRun(lines: string[], expectForwarded: number, ms = 15_000): Promise<FeverRun> {
  using dir = new TempDir();
  const inSock = dir.file("in.sock");
  const outSock = dir.file("out.sock");
  let received = "";
  let dialled = false;
  // FEVER dials the forwarding socket at start (and retries only every 10 s): listen first.
  const sink = createServer((c) => ((dialled = true), c.on("data", (b) => (received += b.toString("utf8")))));
  await new Promise<void>((ok, fail) => sink.once("error", fail).listen(outSock, ok));
  const args = ["run", "--dummy", "-i", inSock, "-o", outSock, "--mgmt-socket", dir.file("mgmt.sock"), "--logjson", "--reconnect-retries", "1", "--in-buffer-drop=false"];
  using fever = new Proc([FEVER, ...args]);
  try {
    await waitFor("FEVER's input socket", () => existsSync(inSock), 10_000);
    // It drops what it would forward until it is connected to the forwarding socket.
    await waitFor("FEVER to connect to the forwarding socket", () => dialled, 10_000);
    const conn = createConnection(inSock);
    await new Promise<void>((ok, fail) => conn.once("error", fail).once("connect", ok));
    const write = (l: string) => new Promise<void>((ok, fail) => conn.write(l + "\n", (e) => (e ? fail(e) : ok())));
    // It marks the forwarding connection usable some time after dialling, and until then drops
    // what it would forward (on a loaded machine, seconds): probe alerts until one comes out.
    const probe = JSON.stringify({ ...PROBE, timestamp: new Date().toISOString().replace("Z", "+0000") });
    await waitFor("FEVER to forward a readiness probe", async () => received.includes(PROBE_MARK) || (await write(probe), false), 10_000, PACE_MS * 2);
    // Paced, as a sensor writes them: FEVER 1.3.5 loses lines that arrive back to back (seen: 1
    // of 3 forwarded, with --in-buffer-drop=false 2 of 3; all of them 100 ms apart).
    for (const l of lines) {
      await write(l);
      await Bun.sleep(PACE_MS);
    }
    conn.end();
    const forwarded = () => received.split("\n").filter((l) => l && !l.includes(PROBE_MARK));
    const deadline = Date.now() + ms;
    while (forwarded().length < expectForwarded && Date.now() < deadline) await Bun.sleep(25);
    await Bun.sleep(200); // anything beyond the expected count shows up too
    fever.proc.kill("SIGTERM");
    await fever.exited(5_000);
    return { forwarded: forwarded(), log: fever.err.split("\n").filter(Boolean).map(parseLogLine) };
  } catch (e) {
    throw new Error(`${(e as Error).message}\nFEVER's log:\n${fever.err}`);
  } finally {
    sink.close();
  }
}

function parseLogLine(l: string): { level: string; msg: string } {
  try {
    return JSON.parse(l) as { level: string; msg: string };
  } catch {
    return { level: "unparsed", msg: l };
  }
}

/** `fever alertify` over `lines`: the alerts it made and its warnings (stderr). */
export async function feverAlertify(lines: string[], ioc: string): Promise<{ alerts: Record<string, unknown>[]; stderr: string }> {
  const r = await exec([FEVER, "alertify", "-i", ioc], { stdin: lines.map((l) => l + "\n").join(""), timeoutMs: 10_000 });
  return { alerts: r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), stderr: r.stderr };
}
