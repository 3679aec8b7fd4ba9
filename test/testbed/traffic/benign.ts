// Benign clients of the victim's real services: people browsing the web site and logging in,
// downloads, administrators' SSH sessions, FTP transfers and iperf3 measurements. Each scenario
// runs a few concurrent "users" that repeat sessions with random think times until the budget
// ends; every command is bounded (bounded.ts), and a failure is counted, never thrown.
// Web sessions reuse the attack scenarios' scripted browser (curl-session.ts), so a benign log-in
// and a guessed one differ in what they do, not in how their requests are built.
import { mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { BENIGN, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.ts";
import { Budget, firstErrorLine, runTool, type ToolRun } from "./bounded.ts";
import { describeStatuses, formEncode, randomBrowser, runCurlSession, webOrigin, type HttpRequest, type SessionOutcome } from "./curl-session.ts";
import { chance, intBetween, pick, pickWeighted, sample, type Rng } from "./random.ts";

// ---------------------------------------------------------------------------------------------
// Shared machinery

/**
 * A generator of a worker's own, seeded from the scenario's (mulberry32): concurrent workers
 * interleave differently from run to run, and each must still make the same choices.
 */
function forkRng(parent: Rng): Rng {
  let state = Math.floor(parent() * 2 ** 32) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Counts by outcome, and the first error seen (for the result's note). */
class Tally {
  readonly counts = new Map<string, number>();
  firstError: string | undefined;

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  fail(key: string, run: ToolRun): void {
    this.add(key);
    this.firstError ??= run.killed ? `killed at its time limit` : firstErrorLine(run);
  }

  addStatuses(outcome: SessionOutcome): void {
    for (const [code, n] of outcome.statuses) this.add(`http ${code}`, n);
    this.add("unanswered", outcome.failed);
  }

  describe(): string {
    const parts = [...this.counts.entries()].filter(([, n]) => n > 0).map(([k, n]) => `${k}: ${n}`);
    if (this.firstError) parts.push(`first error: ${this.firstError}`);
    return parts.join(", ");
  }
}

interface ClientPlan {
  /** How many users run at once. */
  workers: [number, number];
  /** Think time between two sessions of one user, ms. */
  thinkMs: [number, number];
  /** Least time a session needs; none starts with less of the budget left. */
  minSessionMs: number;
}

/** Runs concurrent users, each repeating `session` with think times until the budget ends. */
async function runUsers(ctx: ScenarioContext, budget: Budget, plan: ClientPlan, session: (rng: Rng, user: number) => Promise<void>): Promise<number> {
  const workers = intBetween(ctx.rng, ...plan.workers);
  const rngs = Array.from({ length: workers }, () => forkRng(ctx.rng));
  let sessions = 0;
  await Promise.all(
    rngs.map(async (rng, user) => {
      // Users do not all start at the same instant.
      await budget.pause(intBetween(rng, 0, plan.thinkMs[1]));
      while (budget.allows(plan.minSessionMs)) {
        await session(rng, user);
        sessions++;
        await budget.pause(intBetween(rng, ...plan.thinkMs));
      }
    }),
  );
  return sessions;
}

/** Single-quotes a word for sh (the words here are fixed commands and generated paths). */
function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// web-browse: page views over keep-alive connections, log-ins through the form, searches

const SEARCH_TERMS = ["router", "firewall", "backup storage", "vpn gateway", "switch 24 port", "support plan", "wireless access point", "network monitor", "price list", "firmware update"];

function splitSite(pages: string[]): { html: string[]; assets: string[] } {
  const isHtml = (p: string) => p === "/" || p.endsWith("/") || p.endsWith(".html");
  return { html: pages.filter(isHtml), assets: pages.filter((p) => !isHtml(p)) };
}

/** A few page views; the first fetches the page assets, later ones find them in the cache. */
function browseRequests(rng: Rng, pages: string[]): HttpRequest[] {
  const { html, assets } = splitSite(pages);
  const views = [pick(rng, ["/", ...html]), ...sample(rng, html, intBetween(rng, 1, 5))];
  const requests: HttpRequest[] = [];
  let previous: string | undefined;
  views.forEach((path, i) => {
    requests.push({ method: "GET", path, ...(previous ? { referer: previous } : {}) });
    const wanted = i === 0 ? assets : assets.filter(() => chance(rng, 0.1));
    for (const asset of wanted) requests.push({ method: "GET", path: asset, referer: path });
    previous = path;
  });
  return requests;
}

function typo(rng: Rng, password: string): string {
  const at = intBetween(rng, 0, password.length - 1);
  return chance(rng, 0.5) ? password.slice(0, at) + password.slice(at + 1) : password.slice(0, at) + pick(rng, ["a", "1", "s", "0"]) + password.slice(at);
}

/** Opens the site, goes to the form, signs in (sometimes after a typo), carries on. */
function loginRequests(rng: Rng, ctx: ScenarioContext, withTypo: boolean): HttpRequest[] {
  const { loginPath, user, password } = ctx.services.web;
  const requests: HttpRequest[] = [
    { method: "GET", path: "/" },
    { method: "GET", path: loginPath, referer: "/" },
  ];
  if (withTypo) requests.push({ method: "POST", path: loginPath, form: formEncode({ user, password: typo(rng, password) }), referer: loginPath });
  requests.push({ method: "POST", path: loginPath, form: formEncode({ user, password }), referer: loginPath });
  requests.push({ method: "GET", path: pick(rng, splitSite(ctx.services.web.pages).html), referer: loginPath });
  return requests;
}

function searchRequests(rng: Rng, ctx: ScenarioContext): HttpRequest[] {
  const { searchPath } = ctx.services.web;
  const requests: HttpRequest[] = [{ method: "GET", path: "/" }];
  let previous = "/";
  for (const term of sample(rng, SEARCH_TERMS, intBetween(rng, 1, 3))) {
    const path = `${searchPath}?q=${encodeURIComponent(term).replace(/%20/g, "+")}`;
    requests.push({ method: "GET", path, referer: previous });
    previous = path;
  }
  return requests;
}

async function webBrowse(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const sessions = await runUsers(ctx, budget, { workers: [3, 6], thinkMs: [500, 4_000], minSessionMs: 1_000 }, async (rng) => {
    const activity = pickWeighted(rng, [["browse", 6], ["login", 2], ["search", 2]] as const);
    let requests: HttpRequest[];
    if (activity === "login") {
      const withTypo = chance(rng, 0.3);
      requests = loginRequests(rng, ctx, withTypo);
      tally.add(withTypo ? "log-ins after a typo" : "log-ins");
    } else {
      requests = activity === "browse" ? browseRequests(rng, ctx.services.web.pages) : searchRequests(rng, ctx);
      tally.add(activity === "browse" ? "browse sessions" : "search sessions");
    }
    // A browser's pace, evened out by curl's --rate: one to four requests a second.
    const outcome = await runCurlSession(ctx, budget, randomBrowser(rng), requests, intBetween(rng, 60, 240));
    tally.add("requests", outcome.sent);
    tally.addStatuses(outcome);
    if (outcome.killed) tally.add("sessions cut at the deadline");
  });
  return { actions: tally.get("requests"), note: `${sessions} sessions from ${webOrigin(ctx)}; ${tally.describe()}` };
}

// ---------------------------------------------------------------------------------------------
// web-download: files of every size, by curl and wget, some through slow links

const DOWNLOAD_USER_AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36"];

/** The download's size in bytes, from its name (file-64k.bin); unknown sizes count as 1 MB. */
function sizeOf(path: string): number {
  const m = /(\d+)([km])\b/i.exec(path);
  if (!m) return 1 << 20;
  return Number(m[1]) * (m[2]!.toLowerCase() === "k" ? 1 << 10 : 1 << 20);
}

async function webDownload(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const downloads = ctx.services.web.downloads;
  // Small files are fetched far more often than large ones.
  const weighted = downloads.map((path, i) => [path, downloads.length - i] as const);
  const origin = webOrigin(ctx);
  const sessions = await runUsers(ctx, budget, { workers: [2, 4], thinkMs: [300, 3_000], minSessionMs: 1_000 }, async (rng) => {
    const path = pickWeighted(rng, weighted);
    const size = sizeOf(path);
    // A slow client takes 2 to 8 s for the file (never below 16 KB/s).
    const slowRate = size > 16 << 10 && chance(rng, 0.3) ? Math.max(16 << 10, Math.round(size / intBetween(rng, 2, 8))) : undefined;
    const partial = size >= 64 << 10 && chance(rng, 0.1) ? `0-${Math.floor(size / intBetween(rng, 2, 4))}` : undefined;
    const useWget = !partial && chance(rng, 0.4);
    const argv = useWget
      ? ["wget", "-q", "-O", "/dev/null", "--tries=1", "--timeout=10", ...(slowRate ? [`--limit-rate=${slowRate}`] : []), origin + path]
      : ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-A", pick(rng, DOWNLOAD_USER_AGENTS), "--connect-timeout", "4",
         ...(slowRate ? ["--limit-rate", String(slowRate)] : []), ...(partial ? ["-r", partial] : []), origin + path];
    const run = await runTool(ctx, budget, argv, { maxMs: 15_000 });
    const ok = run.code === 0 && (useWget || /^20[06]$/.test(run.stdout.trim()));
    if (ok) tally.add(partial ? "partial downloads" : slowRate ? "slow downloads" : "downloads");
    else tally.fail("failed", run);
    if (ok) tally.add("bytes", partial ? Number(partial.split("-")[1]) + 1 : size);
  });
  const done = tally.get("downloads") + tally.get("slow downloads") + tally.get("partial downloads");
  return { actions: done, note: `${sessions} downloads tried; ${tally.describe()}` };
}

// ---------------------------------------------------------------------------------------------
// ssh-session: an administrator's commands, typed or scripted, and the odd scp

const SSH_COMMANDS = [
  "uname -a", "uptime", "df -h", "free -m", "cat /etc/os-release", "ps -e -o pid,stat,comm --sort=-pcpu | head -20", "id", "date",
  "ls -la /var/log", "ls /etc | head -40", "cat /proc/loadavg", "hostname", "ip -brief addr", "who", "ls -la /tmp | head -20",
];
const SCP_SOURCES = ["/etc/os-release", "/etc/services", "/etc/protocols"];

function sshOptions(ctx: ScenarioContext): string[] {
  return [
    "-i", ctx.services.ssh.keyFile, "-p", String(ctx.services.ssh.port),
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
  ];
}

async function sshSession(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const { user } = ctx.services.ssh;
  const target = `${user}@${ctx.victimIp}`;
  let copies = 0;
  const sessions = await runUsers(ctx, budget, { workers: [2, 3], thinkMs: [500, 5_000], minSessionMs: 2_000 }, async (rng, worker) => {
    const kind = pickWeighted(rng, [["exec", 5], ["typed", 3], ["scp", 2]] as const);
    let run: ToolRun;
    if (kind === "scp") {
      // scp's port option is -P; its other options are ssh's.
      const options = sshOptions(ctx).map((o) => (o === "-p" ? "-P" : o));
      const dest = join(ctx.workDir, `copy-${worker}-${copies++}`);
      run = await runTool(ctx, budget, ["scp", "-q", ...options, `${target}:${pick(rng, SCP_SOURCES)}`, dest], { maxMs: 15_000 });
    } else if (kind === "exec") {
      const commands = sample(rng, SSH_COMMANDS, intBetween(rng, 1, 3));
      run = await runTool(ctx, budget, ["ssh", ...sshOptions(ctx), target, commands.join("; ")], { maxMs: 15_000 });
    } else {
      // Commands typed one after another into a shell, with pauses, as a person works.
      const steps = sample(rng, SSH_COMMANDS, intBetween(rng, 2, 5)).flatMap((c) => [`echo ${shellWord(c)}`, `sleep ${(intBetween(rng, 3, 25) / 10).toFixed(1)}`]);
      const ssh = ["ssh", "-T", ...sshOptions(ctx), target].map(shellWord).join(" ");
      run = await runTool(ctx, budget, ["bash", "-c", `{ ${steps.join("; ")}; echo exit; } | ${ssh}`], { maxMs: 20_000 });
    }
    const ok = run.code === 0 && (kind === "scp" || run.stdout.trim() !== "");
    if (ok) tally.add(`${kind} sessions`);
    else tally.fail("failed", run);
  });
  const done = tally.get("exec sessions") + tally.get("typed sessions") + tally.get("scp sessions");
  return { actions: done, note: `${sessions} sessions as ${user}; ${tally.describe()}` };
}

// ---------------------------------------------------------------------------------------------
// ftp-session: log in, list, download, sometimes upload (passive mode)

function makeUploadFiles(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return [2, 16, 64, 256].map((kb) => {
    const file = join(dir, `upload-${kb}k.dat`);
    writeFileSync(file, randomBytes(kb << 10));
    return file;
  });
}

async function ftpSession(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const { user, password, files, uploadDir } = ctx.services.ftp;
  const origin = `ftp://${ctx.victimIp}:${ctx.services.ftp.port}`;
  const uploads = makeUploadFiles(join(ctx.workDir, "ftp-uploads"));
  const common = ["-s", "--ftp-pasv", "--connect-timeout", "4", "-m", "20", "-w", "%{response_code}\\n"];
  let uploaded = 0;
  const sessions = await runUsers(ctx, budget, { workers: [2, 3], thinkMs: [500, 5_000], minSessionMs: 2_000 }, async (rng, worker) => {
    // Now and then a user mistypes the password first (vsftpd answers 530 after its 1 s delay).
    if (chance(rng, 0.07)) {
      const wrong = await runTool(ctx, budget, ["curl", ...common, "--user", `${user}:${typo(rng, password)}`, `${origin}/`], { maxMs: 10_000 });
      tally.add(wrong.stdout.includes("530") ? "mistyped log-ins (530)" : "mistyped log-ins (no 530)");
    }
    // One curl, one control connection: every transfer of the session reuses it.
    const argv = ["curl", ...common, "--user", `${user}:${password}`, "-o", "/dev/null", `${origin}/`];
    let transfers = 1;
    if (chance(rng, 0.7)) {
      argv.push("-o", "/dev/null", `${origin}/pub/`);
      transfers++;
    }
    for (const file of sample(rng, files, intBetween(rng, 1, 2))) {
      argv.push("-o", "/dev/null", origin + file);
      transfers++;
    }
    if (chance(rng, 0.5)) {
      const name = `${ctx.srcIp.replace(/\./g, "-")}-${worker}-${uploaded++}.dat`;
      argv.push("--next", ...common, "--user", `${user}:${password}`, "-T", pick(rng, uploads), `${origin}${uploadDir}${name}`);
      transfers++;
      tally.add("uploads tried");
    }
    const run = await runTool(ctx, budget, argv, { maxMs: 30_000 });
    const completed = run.stdout.split("\n").filter((l) => /^2\d\d$/.test(l.trim())).length;
    tally.add("transfers", completed);
    if (run.code === 0 && completed === transfers) tally.add("sessions ok");
    else tally.fail("sessions failed", run);
  });
  return { actions: tally.get("transfers"), note: `${sessions} sessions; ${tally.describe()}` };
}

// ---------------------------------------------------------------------------------------------
// iperf3: short measured transfers, one at a time (the server runs one test at a time)

interface IperfResult {
  error?: string;
  end?: { sum_received?: { bytes?: number }; sum?: { bytes?: number } };
}

function iperfArgs(rng: Rng, ctx: ScenarioContext): { argv: string[]; seconds: number; kind: string } {
  const base = ["iperf3", "-c", ctx.victimIp, "-p", String(ctx.services.iperf.port), "-J", "--connect-timeout", "3000"];
  const kind = pickWeighted(rng, [["tcp-time", 5], ["tcp-bytes", 3], ["udp", 2]] as const);
  const reverse = chance(rng, 0.25) ? ["-R"] : [];
  if (kind === "udp") {
    const seconds = intBetween(rng, 1, 3);
    return { argv: [...base, "-u", "-b", `${intBetween(rng, 1, 20)}M`, "-t", String(seconds), ...reverse], seconds, kind };
  }
  // A bitrate cap keeps a measurement from taking the whole machine (TCP is otherwise unlimited).
  const mbps = intBetween(rng, 20, 400);
  const streams = chance(rng, 0.15) ? ["-P", "2"] : [];
  if (kind === "tcp-bytes") {
    // At most 4 s at the capped rate, like the timed tests.
    const mbytes = intBetween(rng, 1, Math.max(1, Math.min(48, Math.floor((mbps * 4) / 8))));
    const seconds = Math.ceil((mbytes * 8) / mbps);
    return { argv: [...base, "-n", `${mbytes}M`, "-b", `${mbps}M`, ...streams, ...reverse], seconds, kind };
  }
  const seconds = intBetween(rng, 1, 4);
  return { argv: [...base, "-t", String(seconds), "-b", `${mbps}M`, ...streams, ...reverse], seconds, kind };
}

async function iperfRuns(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const sessions = await runUsers(ctx, budget, { workers: [1, 1], thinkMs: [500, 4_000], minSessionMs: 2_000 }, async (rng) => {
    const { argv, seconds, kind } = iperfArgs(rng, ctx);
    const run = await runTool(ctx, budget, argv, { maxMs: seconds * 1_000 + 8_000 });
    let result: IperfResult = {};
    try {
      result = JSON.parse(run.stdout) as IperfResult;
    } catch {
      // killed or no output: counted below
    }
    if (run.code === 0 && !result.error) {
      tally.add(`${kind} tests`);
      tally.add("MB", Math.round((result.end?.sum_received?.bytes ?? result.end?.sum?.bytes ?? 0) / 1e6));
    } else if (result.error?.includes("busy")) {
      tally.add("server busy");
    } else {
      tally.fail("failed", result.error ? { ...run, stderr: result.error } : run);
    }
  });
  const done = tally.get("tcp-time tests") + tally.get("tcp-bytes tests") + tally.get("udp tests");
  return { actions: done, note: `${sessions} tests; ${tally.describe()}` };
}

// ---------------------------------------------------------------------------------------------

export const BENIGN_SCENARIOS: Scenario[] = [
  { id: "web-browse", label: BENIGN, description: "curl browser sessions: keep-alive page views, form log-ins (some after a typo), searches", run: webBrowse },
  { id: "web-download", label: BENIGN, description: "curl and wget downloads of 1 KB to 8 MB, some rate-limited or partial", run: webDownload },
  { id: "ssh-session", label: BENIGN, description: "ssh key log-ins running everyday commands (scripted or typed), occasional scp", run: sshSession },
  { id: "ftp-session", label: BENIGN, description: "curl FTP sessions (passive): log-in, listings, downloads, uploads", run: ftpSession },
  { id: "iperf3", label: BENIGN, description: "short bounded iperf3 measurements: TCP by time or bytes, some reverse or UDP", run: iperfRuns },
];
