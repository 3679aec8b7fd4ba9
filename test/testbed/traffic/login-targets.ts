// What the matrix's SSH and FTP password-guessing tools (medusa, ncrack, patator) share: the
// target services and the run-drawn user and password lists (wordlists.ts), built as for hydra:
// a few common user names, sometimes the real account and its password among the guesses.
import type { ScenarioContext } from "../scenario.ts";
import { intBetween, maybe, type Rng } from "./random.ts";
import { passwordList, userList, writeList } from "./wordlists.ts";

export interface LoginTarget {
  service: "ssh" | "ftp";
  label: "SSH-BruteForce" | "FTP-BruteForce";
  port: (ctx: ScenarioContext) => number;
  account: (ctx: ScenarioContext) => { user: string; password: string };
}

export const SSH_TARGET: LoginTarget = { service: "ssh", label: "SSH-BruteForce", port: (ctx) => ctx.services.ssh.port, account: (ctx) => ctx.services.ssh };
export const FTP_TARGET: LoginTarget = { service: "ftp", label: "FTP-BruteForce", port: (ctx) => ctx.services.ftp.port, account: (ctx) => ctx.services.ftp };

export interface GuessLists {
  users: string[];
  userFile: string;
  /** One password file per run, each with passwords not tried before. */
  passwordFiles: string[];
  perRun: number;
}

/** `runs` password lists of about `guesses / users` passwords each, and the user list. */
export function guessLists(rng: Rng, ctx: ScenarioContext, target: LoginTarget, runs: number, guesses: [number, number], prefix: string): GuessLists {
  const account = target.account(ctx);
  const users = userList(rng, intBetween(rng, 2, 5), maybe(rng, 0.6, account.user));
  const userFile = writeList(ctx.workDir, `${prefix}-users.txt`, users);
  const perRun = Math.max(1, Math.ceil(intBetween(rng, ...guesses) / users.length));
  const passwords = passwordList(rng, perRun * runs, maybe(rng, 0.5, account.password));
  const passwordFiles = Array.from({ length: runs }, (_, i) => writeList(ctx.workDir, `${prefix}-passwords-${i}.txt`, passwords.slice(i * perRun, (i + 1) * perRun)));
  return { users, userFile, passwordFiles, perRun };
}

/** The largest number a pattern's first group takes in a tool's output (progress counters). */
export function largest(text: string, pattern: RegExp): number {
  let most = 0;
  for (const m of text.matchAll(pattern)) most = Math.max(most, Number(m[1]));
  return most;
}
