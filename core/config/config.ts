// The xids configuration: one YAML file, checked against this schema. Every key has a default
// except where noted, so an empty file (or no file) runs the demo: control socket, the in-kernel
// model entry and the alert log, no interface attached until `dataplane.interfaces` is set.
import { resolve } from "node:path";
import { grpcAddressError, parseCidr } from "../util/net.ts";
import { type Infer, Issues, s } from "./schema.ts";
import { PLUGIN_KINDS } from "./plugin-kinds.ts";

export const PLUGIN_ID = /^[a-z][a-z0-9-]{0,62}$/;

const address = s.string({ expected: "a gRPC address (unix:/path or host:port)", check: (v) => grpcAddressError(v) });

const restart = s.object({
  /** First delay after a crash; doubles on each consecutive crash up to max_backoff_ms. */
  initial_backoff_ms: s.default(s.int({ min: 10, max: 60_000 }), 200),
  max_backoff_ms: s.default(s.int({ min: 10, max: 600_000 }), 10_000),
  /** A process that stays up this long resets the backoff. */
  reset_after_ms: s.default(s.int({ min: 100, max: 3_600_000 }), 30_000),
});

const external = s.object({
  /** Where the plugin serves its bus service. */
  address,
  /** If set, the core starts this process (argv) and supervises it; otherwise it only connects. */
  command: s.optional(s.array(s.string({ min: 1 }), { min: 1 })),
  env: s.default(s.record(s.string()), {}),
  /** How long the process has to answer Describe after (re)start. */
  start_timeout_ms: s.default(s.int({ min: 100, max: 120_000 }), 10_000),
  restart,
});

export const pluginEntrySchema = s.object({
  /** Instance id, unique in the file; names the plugin in logs, status and errors. */
  id: s.string({ pattern: PLUGIN_ID, expected: "an id of lowercase letters, digits and '-' starting with a letter" }),
  kind: s.enum(PLUGIN_KINDS),
  /** Exactly one of: a built-in plugin's name; a module (a path relative to this file, or a
   *  package) whose default export is a plugin factory, run in process; an external process. */
  builtin: s.optional(s.string({ min: 1, expected: "the name of a built-in plugin" })),
  module: s.optional(s.string({ min: 1, expected: "a module path or package name exporting a plugin factory" })),
  external: s.optional(external),
  /** The plugin's own typed settings, checked against its schema. */
  config: s.default(s.any(), () => ({})),
  /** A failure at start: abort the whole start-up, or run degraded without this plugin. */
  on_start_failure: s.default(s.enum(["abort", "degrade"] as const), "abort"),
  /** Deadline for every call into the plugin (init, classify, handle, stop). */
  timeout_ms: s.default(s.int({ min: 1, max: 600_000 }), 2_000),
  enabled: s.default(s.bool(), true),
});

const tls = s.object({
  cert: s.string({ min: 1, expected: "a PEM certificate file path" }),
  key: s.string({ min: 1, expected: "a PEM private key file path" }),
  /** CA that client certificates must chain to: set = mTLS. */
  client_ca: s.optional(s.string({ min: 1, expected: "a PEM CA file path" })),
});

/** A TCP listen address, host:port (port 0 = any free port); with `off`, "" turns it off. */
const listenAddress = (expected: string, off = false) =>
  s.string({ expected, check: (v) => (off && v === "" ? null : v.startsWith("unix:") ? "a TCP address, not a unix socket" : grpcAddressError(v, { allowPort0: true })) });

const tcp = s.object({
  listen: listenAddress("host:port (port 0 = any free port; unix sockets: control.socket)"),
  /** Bearer token clients must send (Authorization: Bearer <token>); at least 16 characters. */
  token: s.optional(s.string({ min: 16, expected: "a token of at least 16 characters" })),
  token_file: s.optional(s.string({ min: 1, expected: "a file path" })),
  tls: s.optional(tls),
});

export const configSchema = s.object({
  version: s.default(s.int({ min: 1, max: 1 }), 1),
  dataplane: s.object({
      /** Interfaces to protect (one XDP attachment each, shared maps); none: xdp_mode "none". */
      interfaces: s.default(s.array(s.string({ pattern: /^[^\s/]{1,15}$/, expected: "an interface name (1-15 characters)" })), []),
      /** Network namespace (name under /run/netns) the interfaces live in; empty = the current one. */
      netns: s.default(s.string(), ""),
      xdp_mode: s.default(s.enum(["native", "generic"] as const), "native"),
      /** Fall back to generic XDP when native is not available (otherwise that is an error). */
      allow_generic_fallback: s.default(s.bool(), false),
      /** The XDP object; relative to the repository root. */
      object: s.default(s.string({ min: 1 }), "bpf/build/xids.bpf.o"),
      /** Flows end soon (verdicts come at flow end), as the shipped model was trained. */
      idle_timeout_ms: s.default(s.int({ min: 1, max: 86_400_000 }), 2_000),
      active_timeout_ms: s.default(s.int({ min: 1, max: 86_400_000 }), 3_000),
      /** End a flow after this many forward packets (0 = never): earlier verdicts. */
      early_end_packets: s.default(s.int({ min: 0, max: 1_000_000 }), 0),
      /** How often user space ends idle flows when no traffic arrives. */
      sweep_interval_ms: s.default(s.int({ min: 10, max: 600_000 }), 250),
      /** No sweep for this long (agent down): the XDP program sweeps by itself; 0 = never. */
      kernel_sweep_ms: s.default(s.int({ min: 0, max: 600_000 }), 1_000),
      /** Block list capacity (sources; expired ones are swept out; full: block.when_full). */
      block_entries: s.default(s.int({ min: 16, max: 16_777_216 }), 65_536),
      /** SYNs per second per destination beyond which SYNs are dropped (random-source floods); 0 = no limit. */
      syn_limit_per_destination: s.default(s.int({ min: 0, max: 100_000_000 }), 0),
      /** Ring buffer of flow records, bytes (a power of two); records beyond it are counted lost. */
      ring_bytes: s.default(s.int({ min: 4_096, max: 1 << 30 }), 4 << 20),
      /** Sources whose context (FEATURES.md 22..31) is kept, LRU, 232 bytes each. */
      source_contexts: s.default(s.int({ min: 64, max: 16_777_216 }), 65_536),
      /** bpffs directory for pinned state ("" = none): maps and XDP links survive a killed agent,
       *  the next run takes them over. A clean stop detaches and unpins the links; maps stay. */
      pin_dir: s.default(s.string({ pattern: /^(|\/sys\/fs\/bpf\/.+)$/, expected: "a directory under /sys/fs/bpf, or empty" }), ""),
      /** State bpffs cannot hold: the kernel model's version counter (unusable: start/push fails). */
      state_dir: s.default(s.string({ pattern: /^\/.+/, expected: "an absolute directory path" }), "/var/lib/xids"),
    }),
  pipeline: s.object({
      /** Model plugins in order: a record goes to the first; a model that abstains (verdict NONE)
       *  or fails passes it to the next. Default: every enabled model plugin, in file order. */
      models: s.optional(s.array(s.string({ pattern: PLUGIN_ID, expected: "a plugin id" }))),
      /** Responder plugins; every detection goes to each of them. Default: every enabled responder. */
      responders: s.optional(s.array(s.string({ pattern: PLUGIN_ID, expected: "a plugin id" }))),
      /** Records classified together in one call to a model plugin. */
      batch_size: s.default(s.int({ min: 1, max: 4096 }), 64),
      /** Longest a record waits for its batch to fill. */
      batch_wait_ms: s.default(s.int({ min: 0, max: 10_000 }), 5),
      /** Batches classified at once: one slow model call does not hold up the rest. */
      batches_in_flight: s.default(s.int({ min: 1, max: 64 }), 4),
      /** Records waiting for classification beyond this are dropped and counted. */
      queue_size: s.default(s.int({ min: 1, max: 1_000_000 }), 16_384),
      block: s.object({
          enabled: s.default(s.bool(), true),
          ttl_seconds: s.default(s.int({ min: 0, max: 31_536_000 }), 300),
          reason: s.default(s.int({ min: 0, max: 15 }), 1),
          /** Names of the reason codes (index = code; "": the default) for the live page and /api/blocked. */
          reason_names: s.default(s.array(s.string(), { max: 16 }), []),
          /** Block a source once it has this many attack verdicts in the window (1: the first) ...
           *  One wrong verdict among a busy client's hundreds must not cut it off. */
          min_attacks: s.default(s.int({ min: 1, max: 1_000_000 }), 3),
          /** ... and they are at least this share (%) of its verdicts there (0: any share). */
          min_attack_pct: s.default(s.int({ min: 0, max: 100 }), 50),
          window_seconds: s.default(s.int({ min: 1, max: 86_400 }), 30),
          /** Block list full: evict the entry closest to expiry (never a permanent one), or refuse. */
          when_full: s.default(s.enum(["evict-soonest", "refuse"] as const), "evict-soonest"),
          /** Block a source whose whole traffic is one packet (it may be spoofed; off: its second flow can). */
          lone_packet_sources: s.default(s.bool(), false),
        }),
    }),
  plugins: s.default(s.array(pluginEntrySchema), () => DEFAULT_PLUGINS.map((p) => pluginEntrySchema.check(p, "", new Issues())!)),
  control: s.object({
      socket: s.default(s.string({ pattern: /^\/.+/, expected: "an absolute socket path" }), "/run/xids/control.sock"),
      tcp: s.optional(tcp),
    }),
  /** Prometheus metrics (/metrics) and the live page (/) over plain HTTP. No authentication:
   *  keep it on a loopback address. */
  http: s.object({
      /** host:port ("" = off; port 0 = any free port, logged at start). */
      listen: s.default(listenAddress("host:port (e.g. 127.0.0.1:9464), or empty for off", true), ""),
    }),
  watch: s.object({
      /** Events buffered per Watch client; beyond this the client gets LostEvents. */
      queue_size: s.default(s.int({ min: 1, max: 1_000_000 }), 1_024),
      max_clients: s.default(s.int({ min: 1, max: 1_000 }), 64),
    }),
  /** Sources never blocked (CIDRs), installed at start. */
  allow: s.default(
    s.array(s.string({ expected: "an IPv4/IPv6 CIDR", check: (v) => { const c = parseCidr(v); return "error" in c ? c.error : null; } })),
    [],
  ),
  log: s.object({
      level: s.default(s.enum(["debug", "info", "warn", "error"] as const), "info"),
      /** text: "<time> <level> [<component>] msg"; json: one object per line (journald, log shippers). */
      format: s.default(s.enum(["text", "json"] as const), "text"),
    }),
  /** Fleet mode: the `fleet` plugin's config (plugins/fleet/README.md); load.ts adds its instance. */
  fleet: s.optional(s.any()),
});

type Parsed = Infer<typeof configSchema>;
/** The checked configuration: pipeline lists are always filled in (load.ts). */
export type XidsConfig = Omit<Parsed, "pipeline"> & { pipeline: Omit<Parsed["pipeline"], "models" | "responders"> & { models: string[]; responders: string[] } };
export type PluginEntry = Infer<typeof pluginEntrySchema>;

/** The shipped int32 MLP on flow and source-context features, trained on the testbed's scenario
 *  matrix; the default configuration loads it into the kernel. */
export const SHIPPED_MLP = resolve(import.meta.dir, "..", "..", "models", "artifacts", "matrix-mlp");

/** Used when the file has no `plugins` key: the data plane's flows, the in-kernel MLP (shipped
 *  model), blocking in the kernel's block list, and the alert log. */
export const DEFAULT_PLUGINS: readonly Record<string, unknown>[] = [
  { id: "xdp", kind: "extractor", builtin: "xdp" },
  { id: "kernel-mlp", kind: "model", builtin: "kernel", config: { artifact: SHIPPED_MLP } },
  { id: "xdp-drop", kind: "responder", builtin: "xdp-drop" },
  { id: "alert-log", kind: "responder", builtin: "alert-log" },
];

