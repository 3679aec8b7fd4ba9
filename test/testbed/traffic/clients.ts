// The benign clients' shared machinery: concurrent "users" with their own seeded rngs, outcome
// tallies, the scripted-browser request lists of a person's web visit, and ssh client options.
// benign.ts and the matrix's benign scenarios (wget, password ssh, rsync, DNS/NTP, the busy
// client) all build on it, so their users behave alike and differ only in what they do.
import type { ScenarioContext } from "../scenario.ts";
import { Budget, firstErrorLine, type ToolRun } from "./bounded.ts";
import { formEncode, type HttpRequest, type SessionOutcome } from "./curl-session.ts";
import { rng } from "../../../models/data/split.ts";
import { chance, intBetween, pick, sample, type Rng } from "./random.ts";

// ---------------------------------------------------------------------------------------------
// Shared machinery

/**
 * A generator of a worker's own, seeded from the scenario's (mulberry32): concurrent workers
 * interleave differently from run to run, and each must still make the same choices.
 */
export function forkRng(parent: Rng): Rng {
  return rng(Math.floor(parent() * 2 ** 32));
}

/** Counts by outcome, and the first error seen (for the result's note). */
export class Tally {
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

export interface ClientPlan {
  /** How many users run at once. */
  workers: [number, number];
  /** Think time between two sessions of one user, ms. */
  thinkMs: [number, number];
  /** Least time a session needs; none starts with less of the budget left. */
  minSessionMs: number;
}

/** Runs concurrent users, each repeating `session` with think times until the budget ends. */
export async function runUsers(ctx: ScenarioContext, budget: Budget, plan: ClientPlan, session: (rng: Rng, user: number) => Promise<void>): Promise<number> {
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
export function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// A person's web visit as scripted-browser requests: page views, log-ins through the form, searches

export const SEARCH_TERMS = ["router", "firewall", "backup storage", "vpn gateway", "switch 24 port", "support plan", "wireless access point", "network monitor", "price list", "firmware update"];

export function splitSite(pages: string[]): { html: string[]; assets: string[] } {
  const isHtml = (p: string) => p === "/" || p.endsWith("/") || p.endsWith(".html");
  return { html: pages.filter(isHtml), assets: pages.filter((p) => !isHtml(p)) };
}

/** A few page views; the first fetches the page assets, later ones find them in the cache. */
export function browseRequests(rng: Rng, pages: string[]): HttpRequest[] {
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

export function typo(rng: Rng, password: string): string {
  const at = intBetween(rng, 0, password.length - 1);
  return chance(rng, 0.5) ? password.slice(0, at) + password.slice(at + 1) : password.slice(0, at) + pick(rng, ["a", "1", "s", "0"]) + password.slice(at);
}

/** Opens the site, goes to the form, signs in (sometimes after a typo), carries on. */
export function loginRequests(rng: Rng, ctx: ScenarioContext, withTypo: boolean): HttpRequest[] {
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

export function searchRequests(rng: Rng, ctx: ScenarioContext): HttpRequest[] {
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

// ---------------------------------------------------------------------------------------------
// ssh clients

export const SSH_COMMANDS = [
  "uname -a", "uptime", "df -h", "free -m", "cat /etc/os-release", "ps -e -o pid,stat,comm --sort=-pcpu | head -20", "id", "date",
  "ls -la /var/log", "ls /etc | head -40", "cat /proc/loadavg", "hostname", "ip -brief addr", "who", "ls -la /tmp | head -20",
];
export const SCP_SOURCES = ["/etc/os-release", "/etc/services", "/etc/protocols"];

export function sshOptions(ctx: ScenarioContext): string[] {
  return [
    "-i", ctx.services.ssh.keyFile, "-p", String(ctx.services.ssh.port),
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
  ];
}

// ---------------------------------------------------------------------------------------------
// downloads

/** The download's size in bytes, from its name (file-64k.bin); unknown sizes count as 1 MB. */
export function sizeOf(path: string): number {
  const m = /(\d+)([km])\b/i.exec(path);
  if (!m) return 1 << 20;
  return Number(m[1]) * (m[2]!.toLowerCase() === "k" ? 1 << 10 : 1 << 20);
}
