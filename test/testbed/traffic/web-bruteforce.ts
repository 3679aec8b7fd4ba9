// Password guessing against the web login form, as CIC-IDS-2017's "Brute Force - Web" did with a
// scripted browser: load the form, submit a user and password, read the 401, submit the next,
// reload the form now and then, in browser sessions of a few dozen attempts. (hydra's
// http-post-form refuses a form that fails with 401: it takes that for HTTP authentication.)
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget } from "./bounded.ts";
import { describeStatuses, formEncode, runSubmissionSessions, type HttpRequest } from "./curl-session.ts";
import { chance, intBetween, maybe } from "./random.ts";
import { passwordList, userList } from "./wordlists.ts";

function loginRequests(ctx: ScenarioContext, guesses: [string, string][]): HttpRequest[] {
  const { loginPath } = ctx.services.web;
  const requests: HttpRequest[] = [{ method: "GET", path: loginPath }];
  for (const [user, password] of guesses) {
    requests.push({ method: "POST", path: loginPath, form: formEncode({ user, password }), referer: loginPath });
    // The script reloads the form after some failures, as the failed page is left behind.
    if (chance(ctx.rng, 0.15)) requests.push({ method: "GET", path: loginPath, referer: loginPath });
  }
  return requests;
}

async function runWebBruteForce(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const { user, password } = ctx.services.web;
  const users = userList(rng, intBetween(rng, 1, 4), maybe(rng, 0.7, user));
  const passwords = passwordList(rng, Math.ceil(intBetween(rng, 100, 300) / users.length), maybe(rng, 0.5, password));
  const guesses: [string, string][] = users.flatMap((u) => passwords.map((p): [string, string] => [u, p]));
  const run = await runSubmissionSessions(ctx, budget, guesses, (batch) => loginRequests(ctx, batch), [120, 480]);
  const note = `${run.queued} of ${guesses.length} guesses (${users.length} users) queued in ${run.sessions} sessions, answers ${describeStatuses(run.statuses)}, ${run.failed} unanswered`;
  return { actions: run.sent, note };
}

export const WEB_BRUTEFORCE_SCENARIOS: Scenario[] = [
  {
    id: "web-login-bruteforce",
    label: "Web-BruteForce",
    tool: "curl",
    ipv6: true,
    description: "scripted-browser (curl) password guessing against the login form",
    run: runWebBruteForce,
  },
];
