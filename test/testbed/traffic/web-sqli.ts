// SQL-injection probing of the victim's web app with a scripted browser (curl-session.ts), as the
// XSS scenario does: open the log-in form or the search page, submit a payload in the user or
// password field or the query, look at the answer, next payload; now and then back to the form.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget } from "./bounded.ts";
import { describeStatuses, formEncode, runSubmissionSessions, type HttpRequest } from "./curl-session.ts";
import { chance, intBetween, pick } from "./random.ts";
import { sqliPayloads } from "./sqli-payloads.ts";

function probeRequests(ctx: ScenarioContext, payloads: string[]): HttpRequest[] {
  const { rng } = ctx;
  const { searchPath, loginPath, user } = ctx.services.web;
  // Log-in forms are the classic target; the search's query string the other.
  const start = chance(rng, 0.6) ? loginPath : searchPath;
  const requests: HttpRequest[] = [{ method: "GET", path: start }];
  for (const payload of payloads) {
    if (chance(rng, 0.6)) {
      const field = pick(rng, ["user", "user", "password"] as const);
      const known = chance(rng, 0.5) ? user : pick(rng, ["admin", "root", "test"]);
      const form = field === "user" ? { user: payload, password: `x${intBetween(rng, 0, 9_999)}` } : { user: known, password: payload };
      requests.push({ method: "POST", path: loginPath, form: formEncode(form), referer: loginPath });
    } else {
      requests.push({ method: "GET", path: `${searchPath}?${formEncode({ q: payload })}`, referer: searchPath });
    }
    if (chance(rng, 0.1)) requests.push({ method: "GET", path: pick(rng, [loginPath, searchPath]) });
  }
  return requests;
}

async function runSqli(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const payloads = sqliPayloads(rng, intBetween(rng, 100, 300));
  const run = await runSubmissionSessions(ctx, budget, payloads, (batch) => probeRequests(ctx, batch), [90, 400]);
  const note = `${run.queued} of ${payloads.length} distinct payloads queued in ${run.sessions} sessions, answers ${describeStatuses(run.statuses)}, ${run.failed} unanswered`;
  return { actions: run.sent, note };
}

export const SQLI_SCENARIOS: Scenario[] = [
  {
    id: "web-sqli",
    label: "Web-SQLi",
    tool: "curl",
    ipv6: true,
    description: "scripted-browser (curl) SQL-injection payloads into the login form and the search",
    run: runSqli,
  },
];
