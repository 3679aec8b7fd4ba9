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
import { curlGlobOff, remoteTarget, urlHost } from "./addresses.ts";
import { Budget, runTool, type ToolRun } from "./bounded.ts";
import { BUSY_CLIENT_SCENARIOS } from "./busy-client.ts";
import {
  browseRequests, loginRequests, runUsers, SCP_SOURCES, searchRequests, shellWord, sizeOf, SSH_COMMANDS, sshOptions, Tally, typo,
} from "./clients.ts";
import { randomBrowser, runCurlSession, webOrigin, type HttpRequest } from "./curl-session.ts";
import { chance, intBetween, pick, pickWeighted, sample, type Rng } from "./random.ts";
import { PING_SCENARIOS } from "./ping.ts";
import { RSYNC_SCENARIOS } from "./rsync-ssh.ts";
import { SSH_PASSWORD_SCENARIOS } from "./ssh-password.ts";
import { UDP_CLIENT_SCENARIOS } from "./udp-clients.ts";
import { WGET_SCENARIOS } from "./wget-mirror.ts";

// ---------------------------------------------------------------------------------------------
// web-browse: page views over keep-alive connections, log-ins through the form, searches

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
      : ["curl", ...curlGlobOff(ctx), "-s", "-o", "/dev/null", "-w", "%{http_code}", "-A", pick(rng, DOWNLOAD_USER_AGENTS), "--connect-timeout", "4",
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


async function sshSession(ctx: ScenarioContext): Promise<ScenarioResult> {
  const budget = new Budget(ctx.durationMs);
  const tally = new Tally();
  const { user } = ctx.services.ssh;
  // ssh takes an IPv6 address bare; scp wants it bracketed before the ':' of the path.
  const target = `${user}@${ctx.victimIp}`;
  const scpTarget = remoteTarget(user, ctx.victimIp);
  let copies = 0;
  const sessions = await runUsers(ctx, budget, { workers: [2, 3], thinkMs: [500, 5_000], minSessionMs: 2_000 }, async (rng, worker) => {
    const kind = pickWeighted(rng, [["exec", 5], ["typed", 3], ["scp", 2]] as const);
    let run: ToolRun;
    if (kind === "scp") {
      // scp's port option is -P; its other options are ssh's.
      const options = sshOptions(ctx).map((o) => (o === "-p" ? "-P" : o));
      const dest = join(ctx.workDir, `copy-${worker}-${copies++}`);
      run = await runTool(ctx, budget, ["scp", "-q", ...options, `${scpTarget}:${pick(rng, SCP_SOURCES)}`, dest], { maxMs: 15_000 });
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
  const origin = `ftp://${urlHost(ctx.victimIp)}:${ctx.services.ftp.port}`;
  const uploads = makeUploadFiles(join(ctx.workDir, "ftp-uploads"));
  const common = [...curlGlobOff(ctx), "-s", "--ftp-pasv", "--connect-timeout", "4", "-m", "20", "-w", "%{response_code}\\n"];
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
      const name = `${ctx.srcIp.replace(/[.:]/g, "-")}-${worker}-${uploaded++}.dat`;
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
  { id: "web-browse", label: BENIGN, tool: "curl", ipv6: true, description: "curl browser sessions: keep-alive page views, form log-ins (some after a typo), searches", run: webBrowse },
  { id: "web-download", label: BENIGN, tool: "curl", ipv6: true, description: "curl and wget downloads of 1 KB to 8 MB, some rate-limited or partial", run: webDownload },
  { id: "ssh-session", label: BENIGN, tool: "ssh", ipv6: true, description: "ssh key log-ins running everyday commands (scripted or typed), occasional scp", run: sshSession },
  { id: "ftp-session", label: BENIGN, tool: "curl", ipv6: true, description: "curl FTP sessions (passive): log-in, listings, downloads, uploads", run: ftpSession },
  { id: "iperf3", label: BENIGN, tool: "iperf3", ipv6: true, description: "short bounded iperf3 measurements: TCP by time or bytes, some reverse or UDP", run: iperfRuns },
];

/**
 * The scenario matrix's benign clients (test/testbed/matrix.ts): wget, password ssh, rsync,
 * DNS and NTP, ping, and one busy client with many users behind it. Not in BENIGN_SCENARIOS, which
 * the demo runs by default. dns-lookups and ntp-sync need the victim's DNS/NTP servers
 * (services/dns-ntp.ts), ssh-password-session the password account (services/ssh-password-account.ts).
 */
export const MATRIX_BENIGN_SCENARIOS: Scenario[] = [
  ...WGET_SCENARIOS,
  ...SSH_PASSWORD_SCENARIOS,
  ...RSYNC_SCENARIOS,
  ...UDP_CLIENT_SCENARIOS,
  ...PING_SCENARIOS,
  ...BUSY_CLIENT_SCENARIOS,
];
