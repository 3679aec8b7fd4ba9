// The scenario matrix on the real kernel: each matrix scenario runs for a few seconds from its
// own host against the victim's real services (plus the DNS/NTP servers and the password ssh
// account, started here when services.ts does not start them yet), with xids extracting flows in
// alert-only mode and no model. For every scenario: it returned a result (no throw) saying it did
// something, the victim's data plane saw flows from its address, it stopped within its budget
// plus the tools' grace, and no process of it was left in its namespace. Scenarios run in groups
// of one kind, the members of a group at the same time, the groups one after another.
// XIDS_MATRIX_SCENARIOS=id,id,... runs only those (for working on one tool).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../../core/agent/agent.ts";
import { checkConfig } from "../../core/config/load.ts";
import { createLogger } from "../../core/util/log.ts";
import { rng } from "../../models/data/split.ts";
import type { XdpExtractorApi } from "../../plugins/extractors/xdp/index.ts";
import { builtinCatalog, builtins } from "../../plugins/index.ts";
import { MATRIX_SCENARIOS } from "./matrix.ts";
import { BENIGN, type Scenario, type ScenarioResult } from "./scenario.ts";
import { ALL_SCENARIOS, selectScenarios } from "./scenarios.ts";
import { startVictimServices, type VictimServices } from "./services.ts";
import { buildStar, type StarHost, type StarTopology } from "./topology.ts";
import { GRACE_MS } from "./traffic/bounded.ts";
import { seedOf } from "./traffic/random.ts";

const SEED = 11;
const ATTACK_MS = 5_000;
const BENIGN_MS = 6_000;
/** Patator imports a large Python module set (1.5 s idle, 4 s and more beside seven other crackers). */
const SLOW_START_MS: Record<string, number> = { "patator-ssh": 9_000, "patator-ftp": 9_000, "patator-web-login": 9_000 };
/** Past budget + grace: process start-up and the last tool's own exit. */
const SLACK_MS = 3_000;

/** Scenarios of one kind run at once; a group's tools share the victim's services. */
const GROUPS: { name: string; ids: string[] }[] = [
  { name: "scans", ids: ["nmap-syn-timing", "nmap-connect-timing", "nmap-mixed-timing", "nmap-version", "masscan-scan"] },
  { name: "packet floods", ids: ["t50-syn-flood", "t50-ack-flood", "t50-udp-flood", "hping3-ack-flood", "hping3-udp-flood"] },
  { name: "HTTP floods and slow HTTP", ids: ["ab-http-flood", "siege-http-flood", "slowloris-script", "slow-post-script"] },
  { name: "brute force", ids: ["medusa-ssh", "medusa-ftp", "ncrack-ssh", "ncrack-ftp", "patator-ssh", "patator-ftp", "patator-web-login", "ffuf-web-login"] },
  { name: "web attacks", ids: ["ffuf-xss", "web-sqli", "sqlmap"] },
  { name: "benign", ids: ["wget-mirror", "ssh-password-session", "rsync-ssh", "dns-lookups", "ntp-sync", "ping", "busy-nat-client"] },
];

const only = (process.env.XIDS_MATRIX_SCENARIOS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const groups = GROUPS.map((g) => ({ ...g, ids: only.length ? g.ids.filter((id) => only.includes(id)) : g.ids })).filter((g) => g.ids.length > 0);
const scenarios = new Map(MATRIX_SCENARIOS.map((s) => [s.id, s]));

describe("the matrix's lists", () => {
  test("every matrix scenario has a unique id, a label and a description; the demo's default set is unchanged", () => {
    const ids = [...ALL_SCENARIOS, ...MATRIX_SCENARIOS].map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of MATRIX_SCENARIOS) {
      expect(s.label.length).toBeGreaterThan(0);
      expect(s.description.length).toBeGreaterThan(10);
    }
    // The demo runs ALL_SCENARIOS: none of the matrix's may be in it.
    for (const s of MATRIX_SCENARIOS) expect(ALL_SCENARIOS.map((d) => d.id)).not.toContain(s.id);
    expect(selectScenarios([]).length).toBe(ALL_SCENARIOS.length);
    expect(selectScenarios(["masscan-scan", "web-browse"]).map((s) => s.id)).toEqual(["masscan-scan", "web-browse"]);
    expect(selectScenarios(["matrix"]).length).toBe(MATRIX_SCENARIOS.length);
    expect(() => selectScenarios(["no-such-scenario"])).toThrow(/unknown scenario/);
  });

  test("every attack class is made by at least two tools or modes; benign by at least four kinds", () => {
    const byLabel = new Map<string, string[]>();
    for (const s of [...ALL_SCENARIOS, ...MATRIX_SCENARIOS]) byLabel.set(s.label, [...(byLabel.get(s.label) ?? []), s.id]);
    for (const [label, ids] of byLabel) expect(ids.length, `${label}: ${ids.join(", ")}`).toBeGreaterThanOrEqual(2);
    expect(MATRIX_SCENARIOS.filter((s) => s.label === BENIGN).length).toBeGreaterThanOrEqual(4);
  });

  test("the run below covers every matrix scenario", () => {
    expect(GROUPS.flatMap((g) => g.ids).sort()).toEqual(MATRIX_SCENARIOS.map((s) => s.id).sort());
  });
});

interface Outcome {
  id: string;
  ip: string;
  budgetMs: number;
  elapsedMs: number;
  result: ScenarioResult | { error: string };
  /** Processes still in the host's namespace after the scenario returned. */
  leftover: string[];
}

interface Harness {
  topo: StarTopology;
  services: VictimServices;
  /** The services a scenario sees (ssh-password-session: the port of the password sshd). */
  agent: Agent;
  extractor: XdpExtractorApi;
  flowsBySource: Map<string, number>;
  workDir: string;
}

let harness: Harness | undefined;
const cleanups: (() => void | Promise<void>)[] = [];
const log = (line: string) => console.log(line);

/** Processes (pid and name) in a namespace, as `ip netns pids` lists them. */
function processesIn(host: StarHost): string[] {
  const pids = Bun.spawnSync(["ip", "netns", "pids", host.ns.name], { stdout: "pipe" }).stdout.toString().split("\n").filter(Boolean);
  return pids.flatMap((pid) => {
    try {
      return [`${pid} ${readFileSync(`/proc/${pid}/comm`, "utf8").trim()}`];
    } catch {
      return []; // exited meanwhile
    }
  });
}

beforeAll(async () => {
  const workDir = mkdtempSync(join(tmpdir(), "xids-matrix-"));
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
  const ids = groups.flatMap((g) => g.ids);
  const topo = buildStar(ids, "xidst");
  cleanups.push(() => topo[Symbol.dispose]());
  const services = await startVictimServices(topo.victim, join(workDir, "victim"), log);
  cleanups.push(() => services.stop());

  const checked = checkConfig(
    {
      version: 1,
      dataplane: { interfaces: topo.victimIfaces, netns: topo.victim.path, xdp_mode: "native", idle_timeout_ms: 2_000, active_timeout_ms: 3_000, sweep_interval_ms: 250 },
      pipeline: { models: [], responders: [], block: { enabled: false, ttl_seconds: 3_600, reason: 2, min_attacks: 2, min_attack_pct: 50, window_seconds: 30 } },
      plugins: [{ id: "xdp", kind: "extractor", builtin: "xdp" }],
      control: { socket: join(workDir, "control.sock") },
      http: { listen: "" },
      log: { level: "warn" },
    },
    builtinCatalog,
  );
  if (!checked.ok) throw new Error(`matrix agent config: ${checked.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  const agent = await Agent.start(checked.config, { ...builtins, log: createLogger("xids", "warn") });
  cleanups.push(() => agent.stop());
  const extractor = agent.host.api("xdp", "extractor") as XdpExtractorApi | null;
  if (!extractor) throw new Error("the flow extractor did not start");
  const flowsBySource = new Map<string, number>();
  agent.pipeline.onFlow((r) => flowsBySource.set(r.srcAddr, (flowsBySource.get(r.srcAddr) ?? 0) + 1));
  harness = { topo, services, agent, extractor, flowsBySource, workDir };
}, 90_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      console.error(`matrix cleanup: ${(err as Error).message}`);
    }
  }
}, 60_000);

async function runScenario(h: Harness, scenario: Scenario): Promise<Outcome> {
  const host = h.topo.hosts.find((x) => x.id === scenario.id)!;
  const budgetMs = SLOW_START_MS[scenario.id] ?? (scenario.label === BENIGN ? BENIGN_MS : ATTACK_MS);
  const dir = join(h.workDir, "scenarios", scenario.id);
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  let result: Outcome["result"];
  try {
    result = await scenario.run({
      ns: host.ns,
      family: h.topo.family,
      srcIp: host.ip,
      victimIp: host.victimIp,
      services: h.services,
      rng: rng(seedOf(SEED, scenario.id)),
      durationMs: budgetMs,
      workDir: dir,
      log: (line) => log(`  ${scenario.id}: ${line}`),
    });
  } catch (err) {
    result = { error: (err as Error).message };
  }
  const elapsedMs = performance.now() - started;
  // A killed tool's processes are gone at once; give reaping a moment before calling them left over.
  let leftover = processesIn(host);
  for (let i = 0; i < 20 && leftover.length > 0; i++) {
    await Bun.sleep(100);
    leftover = processesIn(host);
  }
  return { id: scenario.id, ip: host.ip, budgetMs, elapsedMs, result, leftover };
}

describe("each matrix scenario, a few seconds on the real kernel", () => {
  for (const group of groups) {
    test(`${group.name}: ${group.ids.join(", ")}`, async () => {
      const h = harness!;
      const outcomes = await Promise.all(group.ids.map((id) => runScenario(h, scenarios.get(id)!)));
      // Let the last exchanges close, then end every live flow so each one is counted.
      await Bun.sleep(1_000);
      h.extractor.flush();
      await h.agent.whenIdle();
      for (const o of outcomes) {
        const flows = h.flowsBySource.get(o.ip) ?? 0;
        const what = "error" in o.result ? `error: ${o.result.error}` : `${o.result.actions} actions; ${o.result.note ?? ""}`;
        log(`${o.id}: ${(o.elapsedMs / 1_000).toFixed(1)} s, ${flows} flows at the victim, ${what}`);
      }
      for (const o of outcomes) {
        const context = `${o.id}: ${JSON.stringify(o.result)}`;
        expect("error" in o.result, context).toBe(false);
        if ("error" in o.result) continue;
        expect(o.result.actions, context).toBeGreaterThan(0);
        expect(o.result.note ?? "", context).not.toBe("");
        expect(h.flowsBySource.get(o.ip) ?? 0, `${context}: no flows from ${o.ip} at the victim`).toBeGreaterThan(0);
        expect(o.elapsedMs, `${context}: ran ${Math.round(o.elapsedMs)} ms on a ${o.budgetMs} ms budget`).toBeLessThanOrEqual(o.budgetMs + GRACE_MS + SLACK_MS);
        expect(o.leftover, `${context}: processes left in its namespace`).toEqual([]);
      }
    }, 60_000);
  }
});
