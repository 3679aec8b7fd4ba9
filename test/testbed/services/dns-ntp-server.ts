// The victim's small DNS and NTP servers (run as a script inside the victim namespace): a
// company resolver for the example.corp zone (UDP and TCP, A/AAAA/CNAME/MX/TXT/NS/SOA; other
// names get a stable synthetic address, as a forwarding resolver would return something) and an
// NTP server answering client polls (mode 3) with server replies (mode 4) from the local clock.
// Benign UDP request/response clients (dig, ntpdig) talk to these. Usage: bun dns-ntp-server.ts <config.json>
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

export interface DnsNtpConfig {
  dnsPort: number;
  ntpPort: number;
  /** Listen on [::] too (beside 0.0.0.0). */
  ipv6?: boolean;
}

/** The zone the resolver is authoritative for; clients draw the names they look up from it. */
export const ZONE = "example.corp";

/** Host names of the zone (without the zone), with their addresses (198.19.0.0/16, 2001:2::/48). */
export const ZONE_HOSTS: Record<string, { a: string; aaaa?: string }> = {
  "": { a: "198.19.0.10" },
  www: { a: "198.19.0.10", aaaa: "2001:2:0:1::10" },
  mail: { a: "198.19.0.25", aaaa: "2001:2:0:1::25" },
  ftp: { a: "198.19.0.21" },
  vpn: { a: "198.19.0.44" },
  intranet: { a: "198.19.1.10" },
  wiki: { a: "198.19.1.11" },
  git: { a: "198.19.1.12", aaaa: "2001:2:0:2::12" },
  files: { a: "198.19.1.20" },
  backup: { a: "198.19.1.21" },
  db1: { a: "198.19.2.31" },
  db2: { a: "198.19.2.32" },
  ns1: { a: "198.19.0.53" },
  ns2: { a: "198.19.0.54" },
  ntp: { a: "198.19.0.123" },
  printer01: { a: "198.19.3.101" },
  printer02: { a: "198.19.3.102" },
  ldap: { a: "198.19.2.89" },
};

/** Aliases (CNAME) of the zone. */
export const ZONE_ALIASES: Record<string, string> = {
  portal: "www",
  webmail: "mail",
  docs: "wiki",
  status: "intranet",
};

const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, OPT: 41, ANY: 255 } as const;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const TTL = 300;

interface Question {
  name: string;
  type: number;
  cls: number;
  /** Offset just past the question. */
  end: number;
}

/** Reads an uncompressed name (queries carry none compressed); null on a malformed one. */
function readName(msg: Uint8Array, at: number): { name: string; end: number } | null {
  const labels: string[] = [];
  let i = at;
  for (let guard = 0; guard < 128; guard++) {
    const len = msg[i];
    if (len === undefined || (len & 0xc0) !== 0) return null;
    i++;
    if (len === 0) return { name: labels.join(".").toLowerCase(), end: i };
    if (i + len > msg.length) return null;
    labels.push(new TextDecoder().decode(msg.subarray(i, i + len)));
    i += len;
  }
  return null;
}

function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split(".").filter(Boolean)) {
    const bytes = new TextEncoder().encode(label.slice(0, 63));
    out.push(bytes.length, ...bytes);
  }
  out.push(0);
  return out;
}

const u16 = (n: number) => [(n >>> 8) & 0xff, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

function ipv4(addr: string): number[] {
  return addr.split(".").map(Number);
}

function ipv6(addr: string): number[] {
  const [head = "", tail = ""] = addr.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}

/** A resource record whose owner is `owner` (a compression pointer or an encoded name). */
function rr(owner: number[], type: number, rdata: number[], ttl = TTL): number[] {
  return [...owner, ...u16(type), ...u16(1), ...u32(ttl), ...u16(rdata.length), ...rdata];
}

function txt(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)].slice(0, 255);
  return [bytes.length, ...bytes];
}

/** A stable synthetic address for a name outside the zone (198.19.128.0/17). */
function synthetic(name: string): string {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return `198.19.${128 + ((h >>> 8) & 0x7f)}.${1 + (h % 254)}`;
}

function soa(): number[] {
  return [...encodeName(`ns1.${ZONE}`), ...encodeName(`hostmaster.${ZONE}`), ...u32(2024060101), ...u32(3600), ...u32(900), ...u32(604800), ...u32(TTL)];
}

/** The answer records for one question (owner = pointer to the question name) and the rcode. */
function resolve(q: Question): { answers: number[][]; rcode: number; authoritative: boolean } {
  const ptr = [0xc0, 0x0c];
  const inZone = q.name === ZONE || q.name.endsWith(`.${ZONE}`);
  if (!inZone) {
    if (q.type === TYPE.A || q.type === TYPE.ANY) return { answers: [rr(ptr, TYPE.A, ipv4(synthetic(q.name)), 60)], rcode: RCODE.NOERROR, authoritative: false };
    return { answers: [], rcode: RCODE.NOERROR, authoritative: false };
  }
  const host = q.name === ZONE ? "" : q.name.slice(0, -(ZONE.length + 1));
  const alias = ZONE_ALIASES[host];
  if (alias !== undefined) {
    const target = `${alias}.${ZONE}`;
    const answers = [rr(ptr, TYPE.CNAME, encodeName(target))];
    const rec = ZONE_HOSTS[alias];
    if (rec && (q.type === TYPE.A || q.type === TYPE.ANY)) answers.push(rr(encodeName(target), TYPE.A, ipv4(rec.a)));
    if (rec?.aaaa && q.type === TYPE.AAAA) answers.push(rr(encodeName(target), TYPE.AAAA, ipv6(rec.aaaa)));
    return { answers, rcode: RCODE.NOERROR, authoritative: true };
  }
  const rec = ZONE_HOSTS[host];
  if (!rec) return { answers: [], rcode: RCODE.NXDOMAIN, authoritative: true };
  const answers: number[][] = [];
  const want = (t: number) => q.type === t || q.type === TYPE.ANY;
  if (want(TYPE.A)) answers.push(rr(ptr, TYPE.A, ipv4(rec.a)));
  if (want(TYPE.AAAA) && rec.aaaa) answers.push(rr(ptr, TYPE.AAAA, ipv6(rec.aaaa)));
  if (host === "") {
    if (want(TYPE.MX)) answers.push(rr(ptr, TYPE.MX, [...u16(10), ...encodeName(`mail.${ZONE}`)]));
    if (want(TYPE.NS)) answers.push(rr(ptr, TYPE.NS, encodeName(`ns1.${ZONE}`)), rr(ptr, TYPE.NS, encodeName(`ns2.${ZONE}`)));
    if (want(TYPE.SOA)) answers.push(rr(ptr, TYPE.SOA, soa()));
    if (want(TYPE.TXT)) answers.push(rr(ptr, TYPE.TXT, txt("v=spf1 mx ip4:198.19.0.0/16 -all")), rr(ptr, TYPE.TXT, txt("example-site-verification=4f1c9a")));
  }
  return { answers, rcode: RCODE.NOERROR, authoritative: true };
}

/** The response to one DNS query message, or null for one not worth answering (a response, garbage). */
export function dnsAnswer(query: Uint8Array): Uint8Array | null {
  if (query.length < 12) return null;
  const flags = (query[2]! << 8) | query[3]!;
  if (flags & 0x8000) return null; // a response, not a query
  const opcode = (flags >>> 11) & 0xf;
  const qdcount = (query[4]! << 8) | query[5]!;
  const arcount = (query[10]! << 8) | query[11]!;
  const header = (rcode: number, aa: boolean, an: number, ar: number, qd: number) => [
    query[0]!, query[1]!,
    0x80 | (opcode << 3) | (aa ? 0x04 : 0) | (flags & 0x0100 ? 0x01 : 0), 0x80 | rcode,
    ...u16(qd), ...u16(an), ...u16(0), ...u16(ar),
  ];
  if (opcode !== 0 || qdcount !== 1) return new Uint8Array(header(opcode !== 0 ? RCODE.NOTIMP : RCODE.FORMERR, false, 0, 0, 0));
  const name = readName(query, 12);
  if (!name || name.end + 4 > query.length) return new Uint8Array(header(RCODE.FORMERR, false, 0, 0, 0));
  const q: Question = { name: name.name, type: (query[name.end]! << 8) | query[name.end + 1]!, cls: (query[name.end + 2]! << 8) | query[name.end + 3]!, end: name.end + 4 };
  // EDNS: a query with an OPT record gets one back (1232-byte payload, the usual default).
  const edns = arcount > 0 && query.length >= q.end + 11 && query[q.end] === 0 && ((query[q.end + 1]! << 8) | query[q.end + 2]!) === TYPE.OPT;
  const opt = edns ? [0, ...u16(TYPE.OPT), ...u16(1232), ...u32(0), ...u16(0)] : [];
  if (q.cls !== 1 && q.cls !== 255) return new Uint8Array([...header(RCODE.REFUSED, false, 0, edns ? 1 : 0, 1), ...query.subarray(12, q.end), ...opt]);
  const { answers, rcode, authoritative } = resolve(q);
  return new Uint8Array([...header(rcode, authoritative, answers.length, edns ? 1 : 0, 1), ...query.subarray(12, q.end), ...answers.flat(), ...opt]);
}

const NTP_EPOCH_OFFSET = 2_208_988_800; // seconds from 1900 to 1970

function ntpTimestamp(ms: number): number[] {
  const seconds = Math.floor(ms / 1_000) + NTP_EPOCH_OFFSET;
  const fraction = Math.floor(((ms % 1_000) / 1_000) * 2 ** 32);
  return [...u32(seconds >>> 0), ...u32(fraction >>> 0)];
}

/** A stratum-2 server reply (mode 4) to a client request (mode 3), or null for anything else. */
export function ntpAnswer(req: Uint8Array, nowMs: number): Uint8Array | null {
  if (req.length < 48) return null;
  const version = (req[0]! >>> 3) & 0x7;
  const mode = req[0]! & 0x7;
  if (mode !== 3 || version < 1 || version > 4) return null;
  const poll = req[2]!;
  const reply = [
    (0 << 6) | (version << 3) | 4, // leap 0, the client's version, mode 4 (server)
    2, // stratum 2: synchronised to an upstream server
    poll,
    0xec, // precision 2^-20 s
    ...u32(0x0000_0400), // root delay ~15.6 ms (16.16 fixed point)
    ...u32(0x0000_0800), // root dispersion ~31 ms
    ...ipv4("198.19.0.123"), // reference id: the upstream server's address
    ...ntpTimestamp(nowMs - 37_000), // reference time: last set 37 s ago
    ...req.subarray(40, 48), // originate = the client's transmit time
    ...ntpTimestamp(nowMs), // receive
    ...ntpTimestamp(nowMs), // transmit
  ];
  return new Uint8Array(reply);
}

export interface DnsNtpCounts {
  dnsUdp: number;
  dnsTcp: number;
  ntp: number;
}

/** One UDP server socket answering each datagram with `answer` (null: no reply). */
async function udpServer(type: "udp4" | "udp6", address: string, port: number, answer: (msg: Uint8Array) => Uint8Array | null, count: () => void) {
  // ipv6Only: the IPv6 socket leaves IPv4 to its own socket on 0.0.0.0.
  const sock = createSocket({ type, ipv6Only: type === "udp6" });
  sock.on("message", (msg, peer) => {
    const reply = answer(msg);
    if (!reply) return;
    count();
    sock.send(reply, peer.port, peer.address, () => {});
  });
  await new Promise<void>((ok, fail) => sock.once("error", fail).bind(port, address, ok));
  // Once bound, a failed send (a flood fills the socket buffer) loses one answer, as a busy
  // server does; without a listener the error event would end the process.
  sock.removeAllListeners("error");
  sock.on("error", () => {});
  return sock;
}

/**
 * Starts the servers on 0.0.0.0 (and with config.ipv6 on [::] as well); resolves once every
 * socket is bound (TCP last, which is what readiness probes).
 */
export async function serveDnsNtp(config: DnsNtpConfig): Promise<{ counts: DnsNtpCounts; close(): void }> {
  const counts: DnsNtpCounts = { dnsUdp: 0, dnsTcp: 0, ntp: 0 };
  const families = config.ipv6 ? ([["udp4", "0.0.0.0"], ["udp6", "::"]] as const) : ([["udp4", "0.0.0.0"]] as const);
  const udp = await Promise.all(
    families.flatMap(([type, address]) => [
      udpServer(type, address, config.dnsPort, dnsAnswer, () => counts.dnsUdp++),
      udpServer(type, address, config.ntpPort, (msg) => ntpAnswer(msg, Date.now()), () => counts.ntp++),
    ]),
  );
  // DNS over TCP: two-byte length prefix per message; a client may send several on one connection.
  const tcp = families.map(() =>
    createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.setTimeout(10_000, () => sock.destroy());
      sock.on("error", () => sock.destroy());
      sock.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2) {
          const len = buf.readUInt16BE(0);
          if (buf.length < 2 + len) break;
          const answer = dnsAnswer(buf.subarray(2, 2 + len));
          buf = buf.subarray(2 + len);
          if (!answer) continue;
          counts.dnsTcp++;
          sock.write(Buffer.concat([Buffer.from(u16(answer.length)), answer]));
        }
      });
    }),
  );
  for (const [i, [type, address]] of families.entries()) {
    await new Promise<void>((ok, fail) => tcp[i]!.once("error", fail).listen({ port: config.dnsPort, host: address, ipv6Only: type === "udp6" }, ok));
  }
  return {
    counts,
    close() {
      for (const sock of udp) sock.close();
      for (const server of tcp) server.close();
    },
  };
}

if (import.meta.main) {
  const configPath = process.argv[2];
  if (!configPath) throw new Error("usage: dns-ntp-server.ts <config.json>");
  const config = (await Bun.file(configPath).json()) as DnsNtpConfig;
  const server = await serveDnsNtp(config);
  console.log(`dns on udp/tcp :${config.dnsPort}, ntp on udp :${config.ntpPort}${config.ipv6 ? " (IPv4 and IPv6)" : ""}`);
  // A line now and then, so the log shows the servers were used.
  setInterval(() => console.log(`answered: dns udp ${server.counts.dnsUdp}, dns tcp ${server.counts.dnsTcp}, ntp ${server.counts.ntp}`), 10_000);
}
