// The README's main command, end to end: it must work and say what it did.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { REPO_ROOT } from "../harness/paths.ts";

test("xids demo attaches in native mode, blocks the attacker and spares the client", async () => {
  const proc = Bun.spawn([process.execPath, join(REPO_ROOT, "core/cli/main.ts"), "demo", "--json"], {
    cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe", timeout: 120_000,
    // Demo namespaces get the test prefix so the leak check covers them too.
    env: { ...process.env },
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  const summary = JSON.parse(out.trim().split("\n").at(-1)!);
  expect(summary.xdp_mode).toBe("native");
  expect(summary.attacker_reachable_before_block).toBe(true);
  expect(summary.attacker_reachable_after_block).toBe(false);
  expect(summary.client_reachable_after_block).toBe(true);
  expect(summary.counters.drop_blocked).toBeGreaterThan(0);
  expect(summary.counters.pkts_seen).toBe(summary.counters.pkts_passed + summary.counters.pkts_dropped);
  expect(summary.flows).toBe(summary.counters.records_emitted);
  // Nothing of the demo's is left behind.
  const ns = Bun.spawnSync(["ip", "netns", "list"]).stdout.toString();
  expect(ns).not.toContain("xidsd");
}, 120_000);
