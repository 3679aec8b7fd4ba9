// Plugin conformance: run `runConformance(address)` against any plugin serving the xids plugin bus
// (any language, any process) to check that it honours the contract the core relies on. Each
// check is named; the result lists them all, so a plugin author sees every gap at once.
//
//   import { runConformance } from "./test/conformance/conformance.ts";
//   const report = await runConformance("unix:/run/my-plugin.sock");
//   if (!report.ok) console.log(report.failures.join("\n"));
import * as grpc from "@grpc/grpc-js";
import {
  DescribeRequest,
  FlowRecord,
  ConfigureRequest,
  HealthRequest,
  HealthResponse_Status,
  PluginKind,
  Verdict,
  type Classification,
  type PluginInfo,
} from "../../proto/gen/xids/plugin/v1/common.ts";
import { FeatureExtractorClient, StreamFlowsRequest } from "../../proto/gen/xids/plugin/v1/extractor.ts";
import { ClassifyRequest, ModelBackendClient, UpdateRequest } from "../../proto/gen/xids/plugin/v1/model.ts";
import { Detection, ResponderClient } from "../../proto/gen/xids/plugin/v1/responder.ts";
import { call } from "../../core/bus/grpc.ts";
import { kindName } from "../../core/config/plugin-kinds.ts";

export interface ConformanceReport {
  ok: boolean;
  kind: "model" | "responder" | "extractor" | "unknown";
  info: PluginInfo | null;
  checks: { name: string; ok: boolean; detail: string }[];
  failures: string[];
}

export interface ConformanceOptions {
  /** Deadline per call (default 5000 ms). */
  timeoutMs?: number;
  /** Expected kind; default: whatever Describe says. */
  kind?: "model" | "responder" | "extractor";
  /** The plugin's config (what its `config:` entry would hold), sent with Configure first. */
  config?: unknown;
}

/** Realistic flow records: a TCP request, a UDP exchange, a TCP probe, an ICMP echo, IPv6. */
export function sampleRecords(firstId = 1): FlowRecord[] {
  const f = (dport: number, proto: number, n: number, bytes: number) => {
    const x = new Array<number>(22).fill(0);
    x[0] = dport;
    x[1] = proto;
    x[2] = n;
    x[3] = bytes;
    x[4] = n ? Math.floor(bytes / n) : 0;
    x[6] = n ? Math.floor(bytes / n) : 0;
    x[8] = n > 1 ? 1500 * (n - 1) : 0;
    x[16] = 20 * n;
    x[19] = bytes ? n : 0;
    x[20] = proto === 6 ? 20 : 8;
    return x;
  };
  const rec = (i: number, src: string, dst: string, sport: number, dport: number, proto: number, n: number, bytes: number, family = 4) =>
    FlowRecord.create({
      id: firstId + i,
      family,
      protocol: proto,
      endReason: 1,
      srcAddr: src,
      srcPort: sport,
      dstAddr: dst,
      dstPort: dport,
      firstUs: 1_000_000 + i,
      lastUs: 1_002_000 + i,
      features: f(dport, proto, n, bytes),
      source: "conformance",
    });
  return [
    rec(0, "198.18.0.2", "198.18.0.1", 40000, 80, 6, 6, 420),
    rec(1, "198.18.0.3", "198.18.0.1", 5353, 53, 17, 1, 40),
    rec(2, "198.18.0.9", "198.18.0.1", 40001, 22, 6, 1, 0),
    rec(3, "198.18.0.4", "198.18.0.1", 0, 0, 1, 3, 168),
    rec(4, "2001:2::9", "2001:2::1", 40002, 443, 6, 8, 900, 6),
  ];
}

export function sampleDetection(): Detection {
  const record = sampleRecords(900)[2]!;
  return Detection.create({
    id: "conformance-1",
    timeUnixMs: Date.now(),
    record,
    classification: { flowId: record.id, verdict: Verdict.VERDICT_ATTACK, score: 1, label: "PortScan", model: "conformance" },
    detector: "conformance",
    blockTtlSeconds: 60,
  });
}


export async function runConformance(address: string, opts: ConformanceOptions = {}): Promise<ConformanceReport> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const checks: ConformanceReport["checks"] = [];
  const check = async (name: string, fn: () => Promise<string | void>) => {
    try {
      const detail = await fn();
      checks.push({ name, ok: true, detail: detail ?? "" });
    } catch (err) {
      const e = err as grpc.ServiceError;
      checks.push({ name, ok: false, detail: typeof e.code === "number" ? `${grpc.status[e.code]}: ${e.details}` : (err as Error).message });
    }
  };
  const expect = (cond: unknown, msg: string) => {
    if (!cond) throw new Error(msg);
  };
  const creds = grpc.credentials.createInsecure();
  // Describe/Health are on every service: ask through the one the caller expects, else try all.
  const probe = {
    model: new ModelBackendClient(address, creds),
    responder: new ResponderClient(address, creds),
    extractor: new FeatureExtractorClient(address, creds),
  };
  let info: PluginInfo | null = null;
  let kind: ConformanceReport["kind"] = opts.kind ?? "unknown";
  try {
    await check("Describe answers with id, kind and api xids.plugin.v1", async () => {
      const order = opts.kind ? [opts.kind] : (["model", "responder", "extractor"] as const);
      let lastErr: unknown = null;
      for (const k of order) {
        const c = probe[k];
        try {
          info = await call(c.describe.bind(c), DescribeRequest.create(), { timeoutMs });
          kind = k;
          break;
        } catch (err) {
          lastErr = err;
          if ((err as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) break;
        }
      }
      if (!info) throw lastErr;
      const i = info as PluginInfo;
      expect(i.id !== "", "PluginInfo.id is empty");
      expect(i.api === "xids.plugin.v1", `PluginInfo.api is "${i.api}", expected "xids.plugin.v1"`);
      expect(kindName(i.kind) === kind, `PluginInfo.kind is ${PluginKind[i.kind]}, but the plugin serves the ${kind} service`);
      return `${i.id} ${i.version} (${kind})`;
    });
    if (kind === "unknown") return finish();
    const c = probe[kind];
    await check("Health answers SERVING", async () => {
      const h = await call(c.health.bind(c), HealthRequest.create(), { timeoutMs });
      expect(h.status === HealthResponse_Status.STATUS_SERVING, `status ${HealthResponse_Status[h.status]} (${h.message})`);
    });
    // With a config: it must be taken. Without: taken, UNIMPLEMENTED (takes none) or refused with a reason.
    await check(opts.config ? "Configure takes the given config" : "Configure answers an empty config (taken, UNIMPLEMENTED, or INVALID_ARGUMENT with the reason)", async () => {
      const configJson = JSON.stringify(opts.config ?? {});
      return call((c as ModelBackendClient).configure.bind(c), ConfigureRequest.create({ pluginId: "conformance", configJson }), { timeoutMs }).then(
        () => "taken",
        (e: grpc.ServiceError) => {
          const ok = !opts.config && (e.code === grpc.status.UNIMPLEMENTED || (e.code === grpc.status.INVALID_ARGUMENT && e.details !== ""));
          if (!ok) throw e;
          return `${grpc.status[e.code]}${e.details ? `: ${e.details}` : ""}`;
        },
      );
    });
    if (kind === "model") await modelChecks(probe.model, timeoutMs, check, expect);
    if (kind === "responder") await responderChecks(probe.responder, timeoutMs, check, expect);
    if (kind === "extractor") await extractorChecks(probe.extractor, timeoutMs, check, expect);
    return finish();
  } finally {
    for (const c of Object.values(probe)) c.close();
  }

  function finish(): ConformanceReport {
    const failures = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    return { ok: failures.length === 0 && checks.length > 0, kind, info, checks, failures };
  }
}

type Check = (name: string, fn: () => Promise<string | void>) => Promise<void>;
type Expect = (cond: unknown, msg: string) => void;

function checkResults(records: FlowRecord[], results: Classification[], expect: Expect): void {
  expect(results.length === records.length, `${results.length} results for ${records.length} records`);
  results.forEach((r, i) => {
    expect(r.flowId === records[i]!.id, `result ${i} has flow_id ${r.flowId}, expected ${records[i]!.id} (answers must be in input order)`);
    expect(r.verdict in Verdict && r.verdict >= 0 && r.verdict <= 2, `result ${i}: verdict ${r.verdict} is not a Verdict`);
    expect(Number.isFinite(r.score), `result ${i}: score ${r.score} is not finite`);
  });
}

async function modelChecks(c: ModelBackendClient, timeoutMs: number, check: Check, expect: Expect): Promise<void> {
  const classify = (records: FlowRecord[]) => call(c.classify.bind(c), ClassifyRequest.create({ records }), { timeoutMs }).then((r) => r.results);
  await check("Classify of an empty batch answers an empty batch", async () => {
    const r = await classify([]);
    expect(r.length === 0, `${r.length} results for 0 records`);
  });
  await check("Classify answers one result per record, in order, with its flow_id", async () => {
    const recs = sampleRecords(101);
    const r = await classify(recs);
    checkResults(recs, r, expect);
    return r.map((x) => Verdict[x.verdict]).join(",");
  });
  await check("Classify is deterministic", async () => {
    const recs = sampleRecords(201);
    const a = await classify(recs);
    const b = await classify(recs);
    expect(JSON.stringify(a.map((x) => [x.verdict, x.score])) === JSON.stringify(b.map((x) => [x.verdict, x.score])), "two identical batches got different answers");
  });
  await check("Classify handles a batch of 1000 records within the deadline", async () => {
    const recs = Array.from({ length: 200 }, (_, k) => sampleRecords(10_000 + k * 5)).flat();
    const t0 = performance.now();
    checkResults(recs, await classify(recs), expect);
    return `${(performance.now() - t0).toFixed(0)} ms`;
  });
  await check("Classify serves 8 concurrent calls", async () => {
    const all = await Promise.all(Array.from({ length: 8 }, (_, k) => sampleRecords(20_000 + k * 5)).map(async (recs) => [recs, await classify(recs)] as const));
    for (const [recs, r] of all) checkResults(recs, r, expect);
  });
  await check("Update of an artifact that is not there is refused (or UNIMPLEMENTED), and Classify still answers", async () => {
    const res = await call(c.update.bind(c), UpdateRequest.create({ artifactDir: "/nonexistent/xids-conformance", name: "none", kind: "dt" }), { timeoutMs }).then(
      (r) => `answered ${r.model} v${r.version}`,
      (e: grpc.ServiceError) => (typeof e.code === "number" ? grpc.status[e.code] : `${e}`),
    );
    expect(!res.startsWith("answered"), `took a missing artifact: ${res}`);
    checkResults(sampleRecords(401), await classify(sampleRecords(401)), expect);
    return res;
  });
}

async function responderChecks(c: ResponderClient, timeoutMs: number, check: Check, expect: Expect): Promise<void> {
  const handle = (d: Detection) => call(c.handle.bind(c), d, { timeoutMs });
  await check("Handle acknowledges a detection", async () => {
    const ack = await handle(sampleDetection());
    expect(ack.accepted, `not accepted: ${ack.message}`);
  });
  await check("Handle acknowledges 20 concurrent detections within the deadline", async () => {
    const acks = await Promise.all(Array.from({ length: 20 }, (_, i) => handle({ ...sampleDetection(), id: `conformance-c${i}` })));
    expect(acks.every((a) => typeof a.accepted === "boolean"), "malformed Ack");
    return `${acks.filter((a) => a.accepted).length}/20 accepted`;
  });
}

async function extractorChecks(c: FeatureExtractorClient, timeoutMs: number, check: Check, expect: Expect): Promise<void> {
  await check("StreamFlows opens, delivers well-formed records and stops on cancel", async () => {
    const got: FlowRecord[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = c.streamFlows(StreamFlowsRequest.create());
      s.on("data", (r: FlowRecord) => got.push(r));
      s.on("error", (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? resolve() : reject(err)));
      s.on("end", () => resolve());
      setTimeout(() => s.cancel(), Math.min(timeoutMs, 1_000));
    });
    for (const r of got) {
      expect(r.family === 4 || r.family === 6, `record ${r.id}: family ${r.family}`);
      expect(r.features.length === 22, `record ${r.id}: ${r.features.length} features`);
    }
    return `${got.length} record(s) in 1 s`;
  });
}
