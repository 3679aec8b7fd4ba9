// IP address text <-> bytes, for block/allow lists and CSV output (no DNS, no zones).

export interface ParsedAddr {
  family: 4 | 6;
  bytes: Uint8Array; // 4 or 16
}

export function parseIp(text: string): ParsedAddr {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  if (v6) return { family: 6, bytes: v6 };
  throw new Error(`'${text}' is not an IPv4 or IPv6 address`);
}

/** "198.18.0.0/15" or a bare address (a /32 or /128). */
export function parseCidr(text: string): ParsedAddr & { prefixLen: number } {
  const slash = text.indexOf("/");
  const a = parseIp(slash === -1 ? text : text.slice(0, slash));
  const max = a.family === 4 ? 32 : 128;
  const prefixLen = slash === -1 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max) throw new Error(`'${text}': bad prefix length`);
  return { ...a, prefixLen };
}

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const words = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes(".")) {
        const v4 = parseIpv4(it);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || (halves.length === 2 && fill < 1)) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

export function formatIp(family: 4 | 6, bytes: Uint8Array): string {
  if (family === 4) return Array.from(bytes.subarray(0, 4)).join(".");
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: compress the longest run (≥ 2) of zero words, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best === -1) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}
