import { parseFlags } from "../args.ts";
import type { Command } from "../command.ts";
import { runSmoke } from "../../testbed/smoke.ts";

export const command: Command = {
  name: "demo",
  summary: "run the demo: xids protecting a victim namespace from real traffic (needs root)",
  help: `usage: xids demo [--json]

Builds a victim, a client and an attacker in their own network namespaces (198.18.0.0/15),
attaches the XDP data plane to the victim in native mode, sends bounded real traffic (ping, TCP
requests, a connect scan), blocks the attacker and shows that its packets are dropped while the
client still gets through. Prints the kernel's counters; everything is torn down afterwards.

  --json   print one JSON object as the last line`,
  async run(args) {
    const flags = parseFlags(args, { json: "boolean" });
    const started = performance.now();
    const s = await runSmoke((line) => console.log(line));
    const rows: [string, string][] = [
      ["XDP mode", s.xdp_mode],
      ["flow records", String(s.flows)],
      ["client reaches victim (before / after block)", `${s.client_reachable_before_block} / ${s.client_reachable_after_block}`],
      ["attacker reaches victim (before / after block)", `${s.attacker_reachable_before_block} / ${s.attacker_reachable_after_block}`],
      ...Object.entries(s.counters).map(([k, v]) => [`counter ${k}`, String(v)] as [string, string]),
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join("\n")}\n  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const ok = s.client_reachable_after_block && !s.attacker_reachable_after_block && s.attacker_reachable_before_block;
    if (flags.json) console.log(JSON.stringify(s));
    return ok ? 0 : 1;
  },
};
