// The agent's HTTP side (Bun.serve): GET /metrics (Prometheus text), GET /api/live (the JSON the
// live page polls: counts, history, the block list's first page), GET /api/blocked (any page of
// the block list, searchable), GET /api/explain (why a source is blocked), GET / (the live page:
// HTML, inline JS and SVG, nothing from elsewhere). A sampler keeps one point a second so rates and charts have data from the start.
import type { Detection } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BlockedEntry } from "../ebpf/port.ts";
import type { Logger } from "../util/log.ts";
import { PageError, type BlockPages } from "./block-pages.ts";

/** The live page, an HTML document of its own, read once. */
const LIVE_PAGE = readFileSync(join(import.meta.dir, "live-page.html"), "utf8");

export interface LiveSample {
  /** unix ms */
  t: number;
  pkts: number;
  drops: number;
  detections: number;
  blocks: number;
}

export interface LiveView {
  time: number;
  version: string;
  uptimeMs: number;
  interface: string;
  xdpMode: string;
  model: string;
  modelVersion: number;
  totals: {
    pkts_seen: number;
    pkts_passed: number;
    pkts_dropped: number;
    drop_blocked: number;
    flows_received: number;
    detections: number;
    blocks: number;
  };
  /** Over the last sampling interval. */
  rates: { pkts_per_s: number; drops_per_s: number };
  history: LiveSample[];
  /** Hosts in the block list; `blocked` is its first page (GET /api/blocked for the rest). */
  blockedTotal: number;
  blocked: BlockedRow[];
  recent: { time: number; src: string; dst: string; dstPort: number; protocol: number; label: string; score: number; detector: string; action: string }[];
}

export type BlockedRow = BlockedEntry & { reasonName: string };
export type RecentDetection = LiveView["recent"][number];

/** A detection as the live page lists it: what the inline responder did, in words. */
export function recentRow(d: Detection): RecentDetection {
  const r = d.record!, c = d.classification!;
  const action =
    d.action === "blocked" || d.action === "kernel-blocked" ? `blocked ${d.blockTtlSeconds}s`
    : d.action === "allowed" ? `not blocked (allow ${d.actionDetail})`
    : d.action === "refused" ? `not blocked (${d.actionDetail})`
    : d.action === "not-yet" ? `not blocked yet (${d.actionDetail})`
    : d.action === "failed" ? `block failed: ${d.actionDetail}`
    : "alert";
  return { time: d.timeUnixMs, src: r.srcAddr, dst: r.dstAddr, dstPort: r.dstPort, protocol: r.protocol, label: c.label, score: c.score, detector: d.detector, action };
}

/** What the HTTP side reads from the agent. */
export interface ObserveSource {
  /** The Prometheus exposition text and its content type. */
  metrics(): Promise<{ text: string; contentType: string }>;
  live(): Omit<LiveView, "rates" | "history" | "blocked" | "blockedTotal">;
  /** The block list's snapshot and pages (shared with the control API). */
  readonly blockPages: BlockPages;
  /** The block reason codes' names, index = code. */
  readonly reasonNames: readonly string[];
  /** Why a source is blocked (GET /api/explain?address=): the Explain answer, explained. */
  explain(address: string): Promise<unknown>;
}

export interface HttpHandle {
  /** host:port actually bound. */
  readonly address: string;
  readonly url: string;
  close(): Promise<void>;
}

const HISTORY = 120, FIRST_PAGE = 50, MAX_PAGE = 500;

export function startHttp(listen: string, src: ObserveSource, log: Logger, sampleMs = 1_000): HttpHandle {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(i + 1));
  const history: LiveSample[] = [];
  const sample = () => {
    try {
      const v = src.live();
      history.push({ t: v.time, pkts: v.totals.pkts_seen, drops: v.totals.pkts_dropped, detections: v.totals.detections, blocks: v.totals.blocks });
      if (history.length > HISTORY) history.shift();
    } catch (err) {
      log.warn(`live sample: ${(err as Error).message}`);
    }
  };
  sample();
  const timer = setInterval(sample, sampleMs);
  const named = (rows: BlockedEntry[]): BlockedRow[] => rows.map((b) => ({ ...b, reasonName: src.reasonNames[b.reason] ?? `reason ${b.reason}` }));
  const blocked = (p: URLSearchParams) => {
    const int = (name: string, dflt: number, max: number) => {
      const s = p.get(name) ?? String(dflt);
      if (!/^\d+$/.test(s) || Number(s) > max) throw new PageError(`${name}: expected an integer in [0, ${max}], got "${s}"`);
      return Number(s);
    };
    const q = p.get("q") ?? "", page = src.blockPages.page(int("offset", 0, 1e9), int("limit", FIRST_PAGE, MAX_PAGE), q);
    return { ...page, q: q.toLowerCase(), hosts: named(page.hosts) };
  };
  const live = (): LiveView => {
    const v = src.live(), first = src.blockPages.page(0, FIRST_PAGE, "");
    const last = history.at(-1);
    let rates = { pkts_per_s: 0, drops_per_s: 0 };
    // The rate over the last interval: from the newest sample to now (or the sample before it).
    const ref = last && v.time - last.t >= 200 ? last : history.at(-2);
    if (ref && v.time > ref.t) {
      const dt = (v.time - ref.t) / 1000;
      rates = { pkts_per_s: Math.max(0, (v.totals.pkts_seen - ref.pkts) / dt), drops_per_s: Math.max(0, (v.totals.pkts_dropped - ref.drops) / dt) };
    }
    return { ...v, rates, history, blockedTotal: first.total, blocked: named(first.hosts) };
  };
  const server = Bun.serve({
    hostname: host,
    port,
    async fetch(req) {
      const u = new URL(req.url), path = u.pathname;
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
      try {
        if (path === "/metrics") {
          const m = await src.metrics();
          return new Response(m.text, { headers: { "content-type": m.contentType } });
        }
        if (path === "/api/live") return Response.json(live(), { headers: { "cache-control": "no-store" } });
        if (path === "/api/blocked") return Response.json(blocked(u.searchParams), { headers: { "cache-control": "no-store" } });
        if (path === "/api/explain") return Response.json(await src.explain(u.searchParams.get("address") ?? ""), { headers: { "cache-control": "no-store" } });
        if (path === "/" || path === "/index.html") return new Response(LIVE_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
      } catch (err) {
        if (err instanceof PageError) return new Response(`bad request: ${err.message}\n`, { status: 400 });
        log.error(`GET ${path}: ${(err as Error).message}`);
        return new Response(`internal error: ${(err as Error).message}\n`, { status: 500 });
      }
      return new Response("not found (try /, /metrics, /api/live, /api/blocked, /api/explain?address=)\n", { status: 404 });
    },
  });
  const address = `${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  log.info(`http: metrics at http://${address}/metrics, live page at http://${address}/`);
  return {
    address,
    url: `http://${address}`,
    async close() {
      clearInterval(timer);
      await server.stop(true);
    },
  };
}
