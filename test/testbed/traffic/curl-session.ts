// A scripted browser session driven by curl: one curl process sends a list of requests in turn
// over one keep-alive connection (reconnecting when the server closes it), with a browser's
// headers and at a browser's pace (--rate). CIC-IDS-2017's web attacks drove a real browser with
// Selenium; this produces the same shape of traffic: form pages fetched, forms submitted.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ScenarioContext } from "../scenario.ts";
import { urlHost } from "./addresses.ts";
import { Budget, runTool } from "./bounded.ts";
import { intBetween, pick, pickWeighted, type Rng } from "./random.ts";

export interface HttpRequest {
  method: "GET" | "POST";
  /** Path with its (already encoded) query string. */
  path: string;
  /** application/x-www-form-urlencoded body of a POST. */
  form?: string;
  /** The page the request comes from (a submitted form's page). */
  referer?: string;
}

export interface SessionOutcome {
  /** Requests curl finished (answered or failed). */
  sent: number;
  /** Requests that got no HTTP answer (connect failure, time-out). */
  failed: number;
  /** Answers by HTTP status. */
  statuses: Map<string, number>;
  killed: boolean;
}

const USER_AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
  "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/119.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
] as const;

/** The browser a session pretends to be: fixed for the session, as a real browser's would be. */
export interface Browser {
  userAgent: string;
  language: string;
}

export function randomBrowser(rng: Rng): Browser {
  return { userAgent: pick(rng, USER_AGENTS), language: pick(rng, ["en-US,en;q=0.5", "en-US,en;q=0.9", "de-DE,de;q=0.8,en-US;q=0.5", "en-GB,en;q=0.7"]) };
}

/**
 * How many form submissions one browser session (one curl process, so one connection) makes:
 * scripts that restart the browser for every try, short sessions, and long keep-alive ones.
 */
export function submissionsPerSession(rng: Rng): number {
  return pickWeighted<() => number>(rng, [
    [() => 1, 3],
    [() => intBetween(rng, 2, 10), 4],
    [() => intBetween(rng, 10, 40), 2],
  ])();
}

export function webOrigin(ctx: ScenarioContext): string {
  const port = ctx.services.web.port;
  return `http://${urlHost(ctx.victimIp)}${port === 80 ? "" : `:${port}`}`;
}

/** Form encoding as a browser submits it: everything but [A-Za-z0-9*-._] escaped, spaces as '+'. */
export function formEncode(fields: Record<string, string>): string {
  const encode = (s: string) =>
    encodeURIComponent(s)
      .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replace(/%20/g, "+");
  return Object.entries(fields).map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
}

/** A value in curl's config-file syntax (double-quoted, backslash escapes). */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`;
}

function curlConfig(origin: string, browser: Browser, requests: HttpRequest[], perMinute: number, globOff: boolean): string {
  const groups = requests.map((req, i) => {
    const lines = [
      `url = ${quoted(origin + req.path)}`,
      `user-agent = ${quoted(browser.userAgent)}`,
      `header = ${quoted("Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")}`,
      `header = ${quoted(`Accept-Language: ${browser.language}`)}`,
      `header = ${quoted("Accept-Encoding: gzip, deflate")}`,
      `header = ${quoted("Upgrade-Insecure-Requests: 1")}`,
      'output = "/dev/null"',
      'write-out = "%{http_code}\\n"',
      // A blocked victim must not hold one request for long; the session then moves on.
      "connect-timeout = 4",
      "max-time = 10",
    ];
    // Per transfer, as every option after "next": an IPv6 URL's brackets are no glob range.
    if (globOff) lines.push("globoff");
    if (req.referer) lines.push(`referer = ${quoted(origin + req.referer)}`);
    if (req.method === "POST") {
      lines.push(`data-raw = ${quoted(req.form ?? "")}`);
      lines.push(`header = ${quoted(`Origin: ${origin}`)}`);
    }
    // --rate is global: set once, it paces every transfer of the session.
    if (i === 0) lines.unshift(`rate = "${Math.max(1, Math.round(perMinute))}/m"`);
    return lines.join("\n");
  });
  return `${groups.join("\nnext\n")}\n`;
}

let sessionCounter = 0;

/** Sends `requests` in one curl session at `perMinute`, within the budget. */
export async function runCurlSession(
  ctx: ScenarioContext,
  budget: Budget,
  browser: Browser,
  requests: HttpRequest[],
  perMinute: number,
): Promise<SessionOutcome> {
  const config = join(ctx.workDir, `session-${sessionCounter++}.curl`);
  writeFileSync(config, curlConfig(webOrigin(ctx), browser, requests, perMinute, ctx.family === 6));
  // Paced time plus room for slow answers; cut to the budget by runTool.
  const expectedMs = (requests.length * 60_000) / perMinute;
  const run = await runTool(ctx, budget, ["curl", "-s", "-K", config], { maxMs: expectedMs * 2 + 10_000 });
  const statuses = new Map<string, number>();
  let sent = 0;
  let failed = 0;
  for (const line of run.stdout.split("\n")) {
    const code = line.trim();
    if (!/^\d{3}$/.test(code)) continue;
    sent++;
    if (code === "000") failed++;
    else statuses.set(code, (statuses.get(code) ?? 0) + 1);
  }
  return { sent, failed, statuses, killed: run.killed };
}

export interface SubmissionsOutcome {
  /** Items handed to sessions (the budget may stop before all are). */
  queued: number;
  sessions: number;
  sent: number;
  failed: number;
  statuses: Map<string, number>;
}

/** Submits `items` in browser sessions of a few dozen each (one curl session per batch, each at a
 *  rate drawn from `perMinute`, a pause between sessions) until they or the budget run out. */
export async function runSubmissionSessions<T>(
  ctx: ScenarioContext,
  budget: Budget,
  items: T[],
  requestsOf: (batch: T[]) => HttpRequest[],
  perMinute: [number, number],
): Promise<SubmissionsOutcome> {
  const { rng } = ctx;
  const out: SubmissionsOutcome = { queued: 0, sessions: 0, sent: 0, failed: 0, statuses: new Map() };
  while (out.queued < items.length && budget.allows(1_000)) {
    const batch = items.slice(out.queued, out.queued + submissionsPerSession(rng));
    out.queued += batch.length;
    const rate = intBetween(rng, perMinute[0], perMinute[1]);
    const outcome = await runCurlSession(ctx, budget, randomBrowser(rng), requestsOf(batch), rate);
    out.sessions++;
    out.sent += outcome.sent;
    out.failed += outcome.failed;
    for (const [code, n] of outcome.statuses) out.statuses.set(code, (out.statuses.get(code) ?? 0) + n);
    await budget.pause(intBetween(rng, 100, 1_500));
  }
  return out;
}

export function describeStatuses(statuses: Map<string, number>): string {
  return [...statuses.entries()].sort().map(([code, n]) => `${n}x${code}`).join(" ") || "none";
}
