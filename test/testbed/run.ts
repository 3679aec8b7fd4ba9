// One testbed run: a victim with real services protected by xids (the agent, native XDP on every
// link), one host per scenario driving real benign or attack traffic, and every flow record the
// kernel produced, labelled by its source address. Benign clients run for the whole run; attacks
// start one after another while they run. Everything is torn down afterwards, also on failure.
// The star is IPv4 or IPv6 (family); an IPv6 run leaves out, and reports, the scenarios whose
// tools cannot speak it.
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
import { parseIp } from "../../core/util/net.ts";
import { monotonicNs } from "../../native/index.ts";
import { rng } from "../../models/data/split.ts";
import { seedOf } from "./traffic/random.ts";
import { Verdict, type FlowRecord } from "../../proto/gen/xids/plugin/v1/common.ts";
import type { ShadowSummary } from "../../proto/gen/xids/control/v1/control.ts";
import { BENIGN, type Label, type Scenario, type ScenarioResult } from "./scenario.ts";
import { startCapture } from "./capture.ts";
import { startVictimServices } from "./services.ts";
import { describeCondition, drawConditions, NO_CONDITION } from "./link-conditions.ts";
import { buildStarWithConditions, describeAddressPlan, type Family } from "./topology.ts";

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
  /**
   * The star's address family (default 4). With 6 every link is IPv6 only (2001:2:0:(10+i)::/64),
   * the victim's services listen on IPv6 too, and scenarios whose tools cannot use IPv6 are
   * skipped, each with its reason (TestbedRun.skipped).
   */
  family?: Family;
  /** `xids model shadow` during the run: this candidate artifact judged beside the kernel model. */
  shadow?: string;
  /** Runs after the traffic, while the agent still serves its control socket (tests: `xids explain`). */
  beforeStop?: (run: { controlSocket: string; blocked: string[] }) => Promise<void>;
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

/** A scenario left out of the run, and why (an IPv6 run and a tool without IPv6). */
export interface SkippedScenario {
  scenario: Scenario;
  reason: string;
}

export interface TestbedRun {
  family: Family;
  /** The scenarios that did not run; every other one has a host. */
  skipped: SkippedScenario[];
  flows: LabelledFlow[];
  /** The capture, when asked for: its path, size and dumpcap's own counts. */
  capture: { path: string; bytes: number; report: string } | null;
  /** Records from addresses that are no scenario's (should be none). */
  strays: number;
  /** How many of them came from each such source address (which says what sent them). */
  straySources: Record<string, number>;
  /**
   * IPv6 records from link-local or unspecified sources: the hosts' kernels keeping their links
   * (neighbour discovery, MLD reports), not any scenario's traffic. Unlabelled, and no strays.
   */
  linkLocal: number;
  /** ... of which the kernel judged (it must judge none) ... */
  linkLocalJudged: number;
  /** ... and link-local addresses in the block list at the end (must be none). */
  linkLocalBlocked: number;
  hosts: HostOutcome[];
  xdpMode: string;
  model: { artifact: string; version: number } | null;
  counters: Record<string, number>;
  lostRecords: number;
  seed: number;
  durationMs: number;
  /** The shadow's final report (TestbedOptions.shadow), every flow of the run judged. */
  shadow: ShadowSummary | null;
}

/**
 * The testbed's agent runs the default configuration's flow rules and block policy (what an
 * operator gets from an empty file, and what the shipped model was trained on): flows end after
 * 2 s without a forward packet and every 3 s of a long connection, each piece classified.
 */
const DEFAULTS = (() => {
  const r = checkConfig({}, builtinCatalog);
  if (!r.ok) throw new Error(`the default configuration does not check: ${r.issues.map((i) => i.message).join("; ")}`);
  return r.config;
})();
export const TESTBED_FLOW_RULES = {
  idle_timeout_ms: DEFAULTS.dataplane.idle_timeout_ms,
  active_timeout_ms: DEFAULTS.dataplane.active_timeout_ms,
  sweep_interval_ms: DEFAULTS.dataplane.sweep_interval_ms,
} as const;

function agentConfig(opts: TestbedOptions, netns: string, ifaces: string[], workDir: string): XidsConfig {
  const raw = {
    version: 1,
    dataplane: {
      interfaces: ifaces,
      netns,
      xdp_mode: "native",
      ...TESTBED_FLOW_RULES,
      // The run's own model version counter (the model loaded at start is version 1).
      state_dir: join(workDir, "state"),
    },
    pipeline: {
      models: opts.model ? ["kernel"] : [],
      responders: [],
      // The default policy: a client is not cut off for one wrong verdict among many right ones;
      // a scanner, flood or brute force has nearly only attack flows. Blocks outlast the run.
      block: { enabled: opts.protect, ttl_seconds: 3_600, reason: 2 },
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

/** The scenarios a run of this family can run, and the others with the reason each cannot. */
export function partitionScenarios(scenarios: Scenario[], family: Family): { runnable: Scenario[]; skipped: SkippedScenario[] } {
  if (family === 4) return { runnable: scenarios, skipped: [] };
  const runnable: Scenario[] = [];
  const skipped: SkippedScenario[] = [];
  for (const s of scenarios) {
    if (s.ipv6 === true) runnable.push(s);
    else skipped.push({ scenario: s, reason: s.ipv6.unsupported });
  }
  return { runnable, skipped };
}

/** fe80::/10 or :: (what neighbour discovery and MLD send from before or beside a global address). */
function isLinkLocalSource(addr: string): boolean {
  const ip = parseIp(addr);
  if (!ip || ip.family !== 6) return false;
  return (ip.bytes[0] === 0xfe && (ip.bytes[1]! & 0xc0) === 0x80) || ip.bytes.every((b) => b === 0);
}

/** An address as flow records and the block list print it (RFC 5952 for IPv6). */
function canonical(ip: string): string {
  const parsed = parseIp(ip);
  if (!parsed) throw new Error(`testbed: '${ip}' is not an IP address`);
  return parsed.text;
}

export async function runTestbed(opts: TestbedOptions): Promise<TestbedRun> {
  const started = performance.now();
  const { log } = opts;
  const family = opts.family ?? 4;
  if (family !== 4 && family !== 6) throw new RangeError(`testbed: family must be 4 or 6, got ${String(family)}`);
  const { runnable: scenarios, skipped } = partitionScenarios(opts.scenarios, family);
  for (const s of skipped) log(`skipped ${s.scenario.id} (${s.scenario.tool}): no IPv6: ${s.reason}`);
  if (scenarios.length === 0) throw new Error(`testbed: none of the ${opts.scenarios.length} scenarios can run over IPv${family}`);
  const workDir = mkdtempSync(join(tmpdir(), "xids-testbed-"));
  try {
    const ids = scenarios.map((s) => s.id);
    const conditions = opts.links === "drawn" ? drawConditions(ids, opts.seed) : ids.map(() => NO_CONDITION);
    const runMs = opts.leadMs + scenarios.length * opts.attackStaggerMs + opts.attackMs + opts.tailMs;
    await using topo = await buildStarWithConditions(ids, conditions, { prefix: opts.prefix, seed: opts.seed, timeLimitS: Math.ceil(runMs / 1000) + 300, family });
    log(`testbed: victim + ${topo.hosts.length} hosts (${describeAddressPlan(topo.hosts.length, family)})`);
    if (opts.links === "drawn") for (const h of topo.hosts) log(`  link ${h.id}: ${describeCondition(h.condition)}`);
    await using services = await startVictimServices(topo.victim, join(workDir, "victim"), log, { ipv6: family === 6 });
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

      if (opts.shadow) {
        if (!agent.shadow) throw new Error("the testbed's agent has no shadow evaluator");
        const s = await agent.shadow.start(resolve(opts.shadow));
        log(`shadow: candidate ${s.candidate} (${s.artifactPath}) beside ${s.activeModel}`);
      }
      const capture = opts.capture ? await startCapture(topo.victim, topo.victimIfaces, opts.capture) : null;
      if (capture) log(`capturing what the victim receives on ${topo.victimIfaces.length} links to ${capture.path}`);
      // Keyed by the text the data plane prints (FlowRecord.srcAddr, block entries: RFC 5952).
      const byIp = new Map(topo.hosts.map((h, i) => [canonical(h.ip), { scenario: scenarios[i]!, link: h.condition.label }]));
      const flows: LabelledFlow[] = [];
      const seqOf = new Map<string, number>();
      let strays = 0;
      let linkLocal = 0;
      let linkLocalJudged = 0;
      const straySources: Record<string, number> = {};
      const unsubscribe = agent.pipeline.onFlow((record) => {
        const host = byIp.get(record.srcAddr);
        if (host) {
          const seq = seqOf.get(record.srcAddr) ?? 0;
          seqOf.set(record.srcAddr, seq + 1);
          const s = host.scenario;
          flows.push({ scenario: s.id, label: s.label, tool: s.tool, seq, record, endedUs: Number(monotonicNs() / 1000n), link: host.link });
        } else if (isLinkLocalSource(record.srcAddr)) {
          linkLocal++;
          if (record.kernelVerdict !== Verdict.VERDICT_NONE) linkLocalJudged++;
        } else {
          strays++;
          straySources[record.srcAddr] = (straySources[record.srcAddr] ?? 0) + 1;
        }
      });

      const attacks = scenarios.filter((s) => s.label !== BENIGN);
      const benignMs = opts.leadMs + Math.max(0, attacks.length - 1) * opts.attackStaggerMs + opts.attackMs + opts.tailMs;
      let attackIndex = 0;
      const outcomes = await Promise.all(
        topo.hosts.map(async (host, i): Promise<HostOutcome> => {
          const scenario = scenarios[i]!;
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
              family,
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
      const shadow = opts.shadow ? await finalShadowReport(agent) : null;
      const blocks = new Map(dataplane.kernel.blocks().map((b) => [b.addr, b]));
      for (const o of outcomes) o.block = blocks.get(canonical(o.ip)) ?? null;
      await opts.beforeStop?.({ controlSocket: join(workDir, "control.sock"), blocked: [...blocks.keys()] });
      return {
        family,
        skipped,
        flows,
        capture: captured,
        strays,
        straySources,
        linkLocal,
        linkLocalJudged,
        linkLocalBlocked: [...blocks.keys()].filter(isLinkLocalSource).length,
        hosts: outcomes,
        xdpMode: dataplane.xdpMode,
        model,
        counters: dataplane.stats(),
        lostRecords: dataplane.lostRecords(),
        seed: opts.seed,
        durationMs: performance.now() - started,
        shadow,
      };
    } finally {
      await agent.stop();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The shadow's report once it has judged every flow it was handed (bounded: 30 s), then stopped. */
async function finalShadowReport(agent: Agent): Promise<ShadowSummary> {
  const shadow = agent.shadow!;
  const deadline = performance.now() + 30_000;
  while ((await shadow.report(0)).pending > 0) {
    if (performance.now() > deadline) throw new Error("the shadow still had flows pending 30 s after the run");
    await Bun.sleep(100);
  }
  return shadow.stop();
}
