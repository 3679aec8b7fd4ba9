// A strict parser of the Prometheus text exposition format (0.0.4), written from the format's
// specification, for checking what /metrics serves: every line must be a HELP, a TYPE, a comment,
// a sample or empty (ignored, as the format says); names and label names must be valid; label values correctly escaped; values
// valid floats; a family's TYPE comes before its samples and at most once; a family's samples are
// contiguous; no series appears twice; counters are never negative; the text ends with "\n".
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string | null;
  samples: Sample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export class ExpositionError extends Error {}

function parseValue(text: string, line: number): number {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!FLOAT.test(text)) throw new ExpositionError(`line ${line}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

function unescapeHelp(text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    throw new ExpositionError(`line ${line}: bad escape \\${c} in HELP`);
  });
}

/** Family name a sample belongs to (histogram/summary suffixes fold into their family). */
function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f && (f.type === "histogram" || f.type === "summary")) return base;
    }
  }
  return name;
}

export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new ExpositionError("the exposition must end with a line feed");
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  const closed = new Set<string>(); // families whose sample block has ended
  let current: string | null = null;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw.includes("\r")) throw new ExpositionError(`line ${n}: carriage return`);
    // The format: "Empty lines are ignored" (prom-client separates families with one).
    if (raw === "") return;
    if (raw.trim() === "") throw new ExpositionError(`line ${n}: a line of only white space`);
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string | undefined];
      if (!METRIC.test(name)) throw new ExpositionError(`line ${n}: bad metric name ${JSON.stringify(name)}`);
      let f = families.get(name);
      if (f && (closed.has(name) || f.samples.length > 0)) throw new ExpositionError(`line ${n}: ${kind} for ${name} after its samples`);
      if (!f) {
        f = { name, type: "untyped", help: null, samples: [] };
        families.set(name, f);
      }
      if (kind === "HELP") {
        if (f.help !== null) throw new ExpositionError(`line ${n}: second HELP for ${name}`);
        f.help = unescapeHelp(rest ?? "", n);
      } else {
        if ((f as Family & { typed?: boolean }).typed) throw new ExpositionError(`line ${n}: second TYPE for ${name}`);
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest ?? "")) throw new ExpositionError(`line ${n}: bad type ${JSON.stringify(rest)}`);
        f.type = rest as Family["type"];
        (f as Family & { typed?: boolean }).typed = true;
      }
      if (current && current !== name) closed.add(current);
      current = name;
      return;
    }
    // name [{labels}] value [timestamp]
    const nm = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(raw);
    if (!nm) throw new ExpositionError(`line ${n}: not a sample: ${JSON.stringify(raw)}`);
    const name = nm[1]!;
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (raw[pos] === "{") {
      pos++;
      for (;;) {
        if (raw[pos] === "}") {
          pos++;
          break;
        }
        const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(raw.slice(pos));
        if (!lm || !LABEL.test(lm[1]!)) throw new ExpositionError(`line ${n}: bad label at column ${pos + 1}`);
        pos += lm[0].length;
        let value = "";
        for (;;) {
          const c = raw[pos];
          if (c === undefined) throw new ExpositionError(`line ${n}: unterminated label value`);
          pos++;
          if (c === '"') break;
          if (c === "\\") {
            const e = raw[pos++];
            if (e === "\\") value += "\\";
            else if (e === '"') value += '"';
            else if (e === "n") value += "\n";
            else throw new ExpositionError(`line ${n}: bad escape \\${e} in a label value`);
          } else value += c;
        }
        if (lm[1]! in labels) throw new ExpositionError(`line ${n}: label ${lm[1]} twice`);
        labels[lm[1]!] = value;
        if (raw[pos] === ",") pos++;
        else if (raw[pos] !== "}") throw new ExpositionError(`line ${n}: expected , or } at column ${pos + 1}`);
      }
    }
    if (raw[pos] !== " ") throw new ExpositionError(`line ${n}: expected a space before the value`);
    const parts = raw.slice(pos + 1).split(" ");
    if (parts.length < 1 || parts.length > 2 || parts.some((p) => p === "")) throw new ExpositionError(`line ${n}: expected "value [timestamp]"`);
    const value = parseValue(parts[0]!, n);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new ExpositionError(`line ${n}: bad timestamp`);
    const fam = familyOf(name, families);
    let f = families.get(fam);
    if (!f) {
      f = { name: fam, type: "untyped", help: null, samples: [] };
      families.set(fam, f);
    }
    if (closed.has(fam)) throw new ExpositionError(`line ${n}: samples of ${fam} are not contiguous`);
    if (current && current !== fam) closed.add(current);
    current = fam;
    if (f.type === "counter" && !(value >= 0)) throw new ExpositionError(`line ${n}: counter ${name} is ${value}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seenSeries.has(key)) throw new ExpositionError(`line ${n}: series ${name}${JSON.stringify(labels)} twice`);
    seenSeries.add(key);
    f.samples.push({ name, labels, value });
  });
  return families;
}

/** The value of one series (labels must match exactly); throws when absent. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const a = Object.entries(s.labels).sort();
      const b = Object.entries(labels).sort();
      if (JSON.stringify(a) === JSON.stringify(b)) return s.value;
    }
  }
  throw new Error(`no series ${name}${JSON.stringify(labels)}`);
}
