#!/usr/bin/env bun
// An example external model plugin: its own process, serving xids.plugin.v1.ModelBackend over
// gRPC. It is written against the generated contract only (proto/gen), the way a plugin in any
// language would be: implement Describe, Health, Configure, Classify and Update, listen where the
// core's config says (`external.address`), exit cleanly on SIGTERM.
//
// The model is a transparent rule, so its answers are easy to predict in tests:
//   ATTACK if the destination port is one of --attack-ports, or if the flow is a probe
//   (TCP, at most --probe-packets forward packets, no payload) to one of --probe-ports;
//   BENIGN otherwise. score = 1 for ATTACK, 0 for BENIGN.
//
// usage: bun plugins/models/example-external/main.ts --listen unix:/run/xids/example.sock
//          [--attack-ports 4444,31337] [--probe-ports 22,23,3389] [--probe-packets 2] [--id example-rule]
import { unlinkSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import {
  Classification,
  ConfigureResponse,
  HealthResponse,
  HealthResponse_Status,
  PluginInfo,
  PluginKind,
  Verdict,
  type FlowRecord,
} from "../../../proto/gen/xids/plugin/v1/common.ts";
import { ClassifyResponse, ModelBackendService, type ModelBackendServer } from "../../../proto/gen/xids/plugin/v1/model.ts";

// Feature indices (bpf/FEATURES.md).
const F_PROTOCOL = 1;
const F_TOTAL_FWD_PACKETS = 2;
const F_TOTAL_FWD_BYTES = 3;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const listen = arg("listen", "");
if (!listen) {
  console.error("usage: main.ts --listen <unix:/path | 127.0.0.1:port> [--attack-ports p,q] [--probe-ports p,q] [--probe-packets n]");
  process.exit(2);
}
const ports = (s: string) => new Set(s.split(",").filter(Boolean).map(Number));
let attackPorts = ports(arg("attack-ports", "4444,31337"));
let probePorts = ports(arg("probe-ports", "22,23,3389"));
let probePackets = Number(arg("probe-packets", "2"));

/** The entry's `config:` (Configure) overrides the flags: { attack_ports, probe_ports, probe_packets }. */
function configure(config: Record<string, unknown>): string | null {
  const portList = (k: string) => Array.isArray(config[k]) && (config[k] as unknown[]).every((p) => Number.isInteger(p) && (p as number) >= 0 && (p as number) <= 65535);
  for (const k of Object.keys(config)) {
    if (k === "attack_ports" || k === "probe_ports") {
      if (!portList(k)) return `${k}: expected a list of ports (0..65535)`;
    } else if (k === "probe_packets") {
      if (!Number.isInteger(config[k]) || (config[k] as number) < 1) return "probe_packets: expected a whole number >= 1";
    } else return `${k}: unknown key (attack_ports, probe_ports, probe_packets)`;
  }
  if (config.attack_ports) attackPorts = new Set(config.attack_ports as number[]);
  if (config.probe_ports) probePorts = new Set(config.probe_ports as number[]);
  if (config.probe_packets) probePackets = config.probe_packets as number;
  return null;
}
const id = arg("id", "example-rule");
let classified = 0;

function classify(r: FlowRecord): Classification {
  const f = (i: number) => r.features[i] ?? 0;
  const probe = f(F_PROTOCOL) === 6 && f(F_TOTAL_FWD_PACKETS) <= probePackets && f(F_TOTAL_FWD_BYTES) === 0 && probePorts.has(r.dstPort);
  const attack = attackPorts.has(r.dstPort) || probe;
  classified++;
  return Classification.create({
    flowId: r.id,
    verdict: attack ? Verdict.VERDICT_ATTACK : Verdict.VERDICT_BENIGN,
    score: attack ? 1 : 0,
    label: attack ? (probe ? "PortScan" : "ATTACK") : "BENIGN",
    model: `${id} (pid ${process.pid})`,
  });
}

function badRecord(r: FlowRecord): string | null {
  if (r.features.length < 22) return `record ${r.id}: expected at least the 22 flow features, got ${r.features.length}`;
  return null;
}

const service: ModelBackendServer = {
  describe: (_call, cb) =>
    cb(
      null,
      PluginInfo.create({
        id,
        kind: PluginKind.PLUGIN_KIND_MODEL,
        version: "1.0.0",
        description: "example external model plugin (port rule)",
        api: "xids.plugin.v1",
        properties: { pid: String(process.pid), attack_ports: [...attackPorts].join(","), classified: String(classified) },
      }),
    ),
  health: (_call, cb) => cb(null, HealthResponse.create({ status: HealthResponse_Status.STATUS_SERVING })),
  configure(call, cb) {
    let why: string | null;
    try {
      why = configure(JSON.parse(call.request.configJson || "{}"));
    } catch (err) {
      why = `config_json: ${(err as Error).message}`;
    }
    if (why) return cb({ code: grpc.status.INVALID_ARGUMENT, details: why, name: "", message: why, metadata: new grpc.Metadata() });
    cb(null, ConfigureResponse.create());
  },
  classify(call, cb) {
    for (const r of call.request.records) {
      const why = badRecord(r);
      if (why) return cb({ code: grpc.status.INVALID_ARGUMENT, details: why, name: "", message: why, metadata: new grpc.Metadata() });
    }
    cb(null, ClassifyResponse.create({ results: call.request.records.map(classify) }));
  },
  // A rule, not an artifact: there is nothing to update live (redeploy with other flags).
  update: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: "a rule model: restart it with other flags", name: "", message: "", metadata: new grpc.Metadata() }),
};

const server = new grpc.Server();
server.addService(ModelBackendService, service);
if (listen.startsWith("unix:")) {
  try {
    unlinkSync(listen.replace(/^unix:(\/\/)?/, ""));
  } catch {
    // no stale socket
  }
}
server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(`example-external: cannot listen on ${listen}: ${err.message}`);
    process.exit(1);
  }
  console.log(`example-external: serving ModelBackend on ${listen} (pid ${process.pid})`);
});

const shutdown = () => server.tryShutdown(() => process.exit(0));
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
// If the core that started us dies without stopping us, do not linger as an orphan.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) shutdown();
}, 1_000).unref();
