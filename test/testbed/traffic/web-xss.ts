// Reflected-XSS probing of the victim's web app, as CIC-IDS-2017's XSS attack drove a browser
// through payload lists: open the search page, submit a payload, look at the reflection, next
// payload; now and then through the login form's user field instead.
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget } from "./bounded.ts";
import { describeStatuses, formEncode, runSubmissionSessions, type HttpRequest } from "./curl-session.ts";
import { chance, intBetween } from "./random.ts";
import { xssPayloads } from "./xss-payloads.ts";

function probeRequests(ctx: ScenarioContext, payloads: string[]): HttpRequest[] {
  const { rng } = ctx;
  const { searchPath, loginPath } = ctx.services.web;
  const requests: HttpRequest[] = [{ method: "GET", path: searchPath }];
  for (const payload of payloads) {
    // The search form submits by GET; the login form is the page's POST form.
    if (chance(rng, 0.7)) {
      requests.push({ method: "GET", path: `${searchPath}?${formEncode({ q: payload })}`, referer: searchPath });
    } else {
      if (chance(rng, 0.5)) requests.push({ method: "GET", path: loginPath, referer: searchPath });
      requests.push({ method: "POST", path: loginPath, form: formEncode({ user: payload, password: `x${intBetween(rng, 0, 9_999)}` }), referer: loginPath });
    }
    // The browser goes back to the empty form now and then.
    if (chance(rng, 0.1)) requests.push({ method: "GET", path: searchPath });
  }
  return requests;
}

async function runXss(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const payloads = xssPayloads(rng, intBetween(rng, 100, 300));
  const run = await runSubmissionSessions(ctx, budget, payloads, (batch) => probeRequests(ctx, batch), [90, 400]);
  const note = `${run.queued} of ${payloads.length} distinct payloads queued in ${run.sessions} sessions, answers ${describeStatuses(run.statuses)}, ${run.failed} unanswered`;
  return { actions: run.sent, note };
}

export const XSS_SCENARIOS: Scenario[] = [
  {
    id: "web-xss",
    label: "Web-XSS",
    tool: "curl",
    ipv6: true,
    description: "scripted-browser (curl) reflected-XSS payloads into the search and login forms",
    run: runXss,
  },
];
