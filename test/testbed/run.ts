// One testbed run: a victim with real services protected by xids (the agent, native XDP on every
// link), one host per scenario driving real benign or attack traffic, and every flow record the
// kernel produced, labelled by its source address. Benign clients run for the whole run; attacks
// start one after another while they run. Everything is torn down afterwards, also on failure.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import type { XidsConfig } from "../../core/config/config.ts";
import type { BlockEntryInfo } from "../../core/ebpf/dataplane.ts";
import { KernelDataPlane } from "../../core/ebpf/kernel-dataplane.ts";
import { builtinCatalog, builtins } from "../../plugins/index.ts";
import type { XdpExtractorApi } from "../../plugins/extractors/xdp/index.ts";
import { createLogger } from "../../core/util/log.ts";
import { monotonicNs } from "../../native/index.ts";
import { rng } from "../../models/data/split.ts";
import type { FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import { BENIGN, type Label, type Scenario, type ScenarioResult } from "./scenario.ts";
import { startCapture } from "./capture.ts";
import { startVictimServices } from "./services.ts";
import { describeCondition, drawConditions, NO_CONDITION } from "./link-conditions.ts";
import { buildStarWithConditions } from "./topology.ts";

const REPO_ROOT = resolve(import.meta.dir, "..", "..");

export interface TestbedOptions {
  scenarios: Scenario[];
  /** Artifact folder of the in-kernel model (MLP or tree); null records without verdicts. */
  model: string | null;
  /** Block on attack verdicts (the real-time run) or only record them (recording a data set). */
  protect: boolean;
  seed: number;
  /** Each attack's budget. */
  attackMs: number;
  /** Gap between attack starts (the first starts after leadMs of benign-only traffic). */
  attackStaggerMs: number;
  leadMs: number;
  /** Benign-only traffic after the last attack's budget. */
  tailMs: number;
  /** Namespace/interface name prefix ("xidsd" for the demo, "xidst" for tests). */
  prefix: string;
  log: (line: string) => void;
  /** The agent's own log level (its lines go to stderr). */
  agentLogLevel?: "debug" | "info" | "warn" | "error";
  /** Link conditions per host: drawn from the seed ("drawn"), or none (plain veth links). */
  links?: "none" | "drawn";
  /** Capture every packet the victim receives (inbound, all links) to this pcapng file. */
  capture?: string;
}

export const DEFAULT_TIMING = { attackMs: 20_000, attackStaggerMs: 3_000, leadMs: 3_000, tailMs: 3_000 } as const;

export interface LabelledFlow {
  scenario: string;
  label: Label;
  /** The scenario's tool (Scenario.tool). */
  tool: string;
  /** Its place among its source's records in arrival order (0, 1, ...), before any sampling. */
  seq: number;
  record: FlowRecord;
  /** When the agent received the record (data-plane clock, µs): about when the flow ended. */
  endedUs: number;
  /** The link condition band of the host that sent it ("none" for a plain link). */
  link: string;
}

export interface HostOutcome {
  scenario: Scenario;
  ip: string;
  /** Data-plane clock (CLOCK_MONOTONIC) when the generator was started and when it returned. */
  startedNs: bigint;
  endedNs: bigint;
  result: ScenarioResult | { error: string };
  /** The block-list entry of this host at the end of the run, if any. */
  block: BlockEntryInfo | null;
}

export interface TestbedRun {
  flows: LabelledFlow[];
  /** The capture, when asked for: its path, size and dumpcap's own counts. */
  capture: { path: string; bytes: number; report: string } | null;
  /** Records from addresses that are no scenario's (should be none). */
  strays: number;
  hosts: HostOutcome[];
  xdpMode: string;
  model: { artifact: string; version: number } | null;
  counters: Record<string, number>;
  lostRecords: number;
  seed: number;
  durationMs: number;
}

function seedOf(seed: number, id: string): number {
  let h = seed >>> 0;
  for (const c of id) h = (Math.imul(h ^ c.charCodeAt(0), 0x01000193) + 0x9e3779b9) >>> 0;
  return h;
}

/**
 * How the testbed's agent cuts flows. Real time: a verdict comes when a flow ends, so no flow may
 * stay open long. Probes that get no answer (scans, floods) end after 2 s without a packet; long
 * connections (keep-alive sessions, slow HTTP, bulk transfers) are cut every 3 s, and each piece
 * is classified.
 */
export const TESTBED_FLOW_RULES = { idle_timeout_ms: 2_000, active_timeout_ms: 3_000, sweep_interval_ms: 250 } as const;

function agentConfig(opts: TestbedOptions, netns: string, ifaces: string[], workDir: string): XidsConfig {
  const raw = {
    version: 1,
    dataplane: {
      interfaces: ifaces,
      netns,
      xdp_mode: "native",
      ...TESTBED_FLOW_RULES,
    },
    pipeline: {
      models: opts.model ? ["kernel"] : [],
      responders: [],
      // A client is not cut off for one wrong verdict among many right ones; a scanner, flood or
      // brute force has nearly only attack flows.
      block: { enabled: opts.protect, ttl_seconds: 3_600, reason: 2, min_attacks: 2, min_attack_pct: 50, window_seconds: 30 },
    },
    plugins: [
      { id: "xdp", kind: "extractor", builtin: "xdp" },
      ...(opts.model ? [{ id: "kernel", kind: "model", builtin: "kernel", config: { artifact: resolve(REPO_ROOT, opts.model) } }] : []),
    ],
    control: { socket: join(workDir, "control.sock") },
    http: { listen: "" },
    log: { level: opts.agentLogLevel ?? "warn" },
  };
  const checked = checkConfig(raw, builtinCatalog);
  if (!checked.ok) throw new Error(`testbed agent config: ${checked.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  return checked.config;
}

export async function runTestbed(opts: TestbedOptions): Promise<TestbedRun> {
  const started = performance.now();
  const { log } = opts;
  const workDir = mkdtempSync(join(tmpdir(), "xids-testbed-"));
  try {
    const ids = opts.scenarios.map((s) => s.id);
    const conditions = opts.links === "drawn" ? drawConditions(ids, opts.seed) : ids.map(() => NO_CONDITION);
    const runMs = opts.leadMs + opts.scenarios.length * opts.attackStaggerMs + opts.attackMs + opts.tailMs;
    await using topo = await buildStarWithConditions(ids, conditions, { prefix: opts.prefix, seed: opts.seed, timeLimitS: Math.ceil(runMs / 1000) + 300 });
    log(`testbed: victim + ${topo.hosts.length} hosts (198.18.10.0/24 .. 198.18.${9 + topo.hosts.length}.0/24)`);
    if (opts.links === "drawn") for (const h of topo.hosts) log(`  link ${h.id}: ${describeCondition(h.condition)}`);
    await using services = await startVictimServices(topo.victim, join(workDir, "victim"), log);
    log(`victim services up: nginx :${services.web.port}, sshd :${services.ssh.port}, vsftpd :${services.ftp.port}, iperf3 :${services.iperf.port}`);

    const agent = await Agent.start(agentConfig(opts, topo.victim.path, topo.victimIfaces, workDir), {
      ...builtins,
      log: createLogger("xids", opts.agentLogLevel ?? "warn"),
    });
    try {
      const dataplane = agent.dataplane;
      if (!(dataplane instanceof KernelDataPlane)) throw new Error("the testbed needs the kernel data plane");
      const extractor = agent.host.api("xdp", "extractor") as XdpExtractorApi | null;
      if (!extractor) throw new Error("the testbed's flow extractor did not start");
      const status = agent.control.status();
      const model = opts.model ? { artifact: opts.model, version: status.modelVersion } : null;
      log(`xids: XDP ${dataplane.xdpMode} on ${topo.victimIfaces.length} victim links; model ${opts.model ?? "none"}; ${opts.protect ? "attack verdicts block the source" : "alert only (recording)"}`);

      const capture = opts.capture ? await startCapture(topo.victim, topo.victimIfaces, opts.capture) : null;
      if (capture) log(`capturing what the victim receives on ${topo.victimIfaces.length} links to ${capture.path}`);
      const byIp = new Map(topo.hosts.map((h, i) => [h.ip, { scenario: opts.scenarios[i]!, link: h.condition.label }]));
      const flows: LabelledFlow[] = [];
      const seqOf = new Map<string, number>();
      let strays = 0;
      const unsubscribe = agent.pipeline.onFlow((record) => {
        const host = byIp.get(record.srcAddr);
        if (!host) strays++;
        else {
          const seq = seqOf.get(record.srcAddr) ?? 0;
          seqOf.set(record.srcAddr, seq + 1);
          const s = host.scenario;
          flows.push({ scenario: s.id, label: s.label, tool: s.tool, seq, record, endedUs: Number(monotonicNs() / 1000n), link: host.link });
        }
      });

      const attacks = opts.scenarios.filter((s) => s.label !== BENIGN);
      const benignMs = opts.leadMs + Math.max(0, attacks.length - 1) * opts.attackStaggerMs + opts.attackMs + opts.tailMs;
      let attackIndex = 0;
      const outcomes = await Promise.all(
        topo.hosts.map(async (host, i): Promise<HostOutcome> => {
          const scenario = opts.scenarios[i]!;
          const isAttack = scenario.label !== BENIGN;
          if (isAttack) await Bun.sleep(opts.leadMs + attackIndex++ * opts.attackStaggerMs);
          const dir = join(workDir, "scenarios", scenario.id);
          mkdirSync(dir, { recursive: true });
          const startedNs = monotonicNs();
          log(`${isAttack ? "attack" : "benign"} ${scenario.id} from ${host.ip}: ${scenario.description}`);
          let result: HostOutcome["result"];
          try {
            result = await scenario.run({
              ns: host.ns,
              srcIp: host.ip,
              victimIp: host.victimIp,
              services,
              rng: rng(seedOf(opts.seed, scenario.id)),
              durationMs: isAttack ? opts.attackMs : benignMs,
              workDir: dir,
              log: (line) => log(`  ${scenario.id}: ${line}`),
            });
          } catch (err) {
            result = { error: (err as Error).message };
            log(`  ${scenario.id}: failed: ${result.error}`);
          }
          return { scenario, ip: host.ip, startedNs, endedNs: monotonicNs(), result, block: null };
        }),
      );

      // Let the last exchanges close, then end every live flow so each one is counted.
      await Bun.sleep(1_000);
      const captured = capture ? { path: capture.path, ...(await capture.stop()) } : null;
      extractor.flush();
      await agent.whenIdle();
      unsubscribe();
      const blocks = new Map(dataplane.kernel.blocks().map((b) => [b.addr, b]));
      for (const o of outcomes) o.block = blocks.get(o.ip) ?? null;
      return {
        flows,
        capture: captured,
        strays,
        hosts: outcomes,
        xdpMode: dataplane.xdpMode,
        model,
        counters: dataplane.stats(),
        lostRecords: dataplane.lostRecords(),
        seed: opts.seed,
        durationMs: performance.now() - started,
      };
    } finally {
      await agent.stop();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
