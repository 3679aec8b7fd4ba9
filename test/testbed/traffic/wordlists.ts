// User and password lists for the brute-force scenarios, generated per run from the scenario's
// rng the way attackers build them: the most common passwords of leaked lists plus the usual
// mutations (capitalised, digits and years appended, leetspeak).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { intBetween, pick, shuffled, type Rng } from "./random.ts";

/** Default and service account names that brute-force tools try first. */
export const COMMON_USERS = [
  "root", "admin", "administrator", "user", "test", "guest", "ubuntu", "debian", "pi", "oracle",
  "postgres", "mysql", "ftp", "ftpuser", "www-data", "webmaster", "support", "operator", "backup", "deploy",
] as const;

/** The top of the usual leaked-password lists. */
const COMMON_PASSWORDS = [
  "123456", "password", "123456789", "12345678", "12345", "qwerty", "abc123", "football", "1234567",
  "monkey", "111111", "letmein", "1234", "1234567890", "dragon", "baseball", "sunshine", "iloveyou",
  "trustno1", "princess", "adobe123", "123123", "welcome", "login", "admin", "qwerty123", "solo",
  "1q2w3e4r", "master", "666666", "photoshop", "1qaz2wsx", "qwertyuiop", "ashley", "mustang",
  "121212", "starwars", "654321", "bailey", "access", "flower", "555555", "passw0rd", "shadow",
  "lovely", "7777777", "michael", "!@#$%^&*", "jesus", "password1", "superman", "hello", "charlie",
  "888888", "696969", "hottie", "freedom", "aa123456", "qazwsx", "ninja", "azerty",
  "loveme", "whatever", "donald", "batman", "zaq1zaq1", "Football", "000000", "123qwe", "toor",
  "changeme", "root", "raspberry", "default", "secret", "server", "linux", "test123", "P@ssw0rd",
] as const;

const LEET: Record<string, string> = { a: "@", e: "3", i: "1", o: "0", s: "$" };

function mutate(rng: Rng, word: string): string {
  switch (intBetween(rng, 0, 4)) {
    case 0:
      return word.charAt(0).toUpperCase() + word.slice(1);
    case 1:
      return `${word}${intBetween(rng, 0, 99)}`;
    case 2:
      return `${word}${intBetween(rng, 1970, 2025)}`;
    case 3:
      return word.replace(/[aeios]/g, (c) => LEET[c] ?? c);
    default:
      return `${word}${pick(rng, ["!", "123", "1", "@", "#"])}`;
  }
}

/**
 * `count` distinct passwords: the common list in a run-specific order, topped up with mutations.
 * `extra` (e.g. the real password, so some runs succeed) is placed at a random position.
 */
export function passwordList(rng: Rng, count: number, extra: string[] = []): string[] {
  const words = new Set<string>();
  const base = shuffled(rng, [...new Set(COMMON_PASSWORDS)]);
  // Attackers try the most common ones first: keep a run-specific share of the list's head.
  for (const w of base.slice(0, Math.min(count, intBetween(rng, 20, base.length)))) words.add(w);
  for (let guard = 0; words.size < count && guard < count * 20; guard++) words.add(mutate(rng, pick(rng, base)));
  const list = [...words].slice(0, Math.max(0, count - extra.length));
  for (const e of extra) list.splice(intBetween(rng, 0, list.length), 0, e);
  return list;
}

/** `count` user names: the common ones in a run-specific order, plus `include` (the real account). */
export function userList(rng: Rng, count: number, include: string[] = []): string[] {
  const users = new Set<string>(shuffled(rng, COMMON_USERS).slice(0, Math.max(0, count - include.length)));
  for (const u of include) users.add(u);
  return shuffled(rng, [...users]);
}

/** Writes one entry per line into the work directory and returns the file's path. */
export function writeList(dir: string, name: string, entries: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${entries.join("\n")}\n`);
  return path;
}
