#!/usr/bin/env bun
// Runs the plugin conformance checks against a plugin address and prints each result.
// usage: bun test/conformance/main.ts <unix:/path | host:port> [model|responder|extractor]
import { runConformance } from "./conformance.ts";

const [address, kind] = process.argv.slice(2);
if (!address || (kind && !["model", "responder", "extractor"].includes(kind))) {
  console.error("usage: bun test/conformance/main.ts <unix:/path | host:port> [model|responder|extractor]");
  process.exit(2);
}
const report = await runConformance(address, kind ? { kind: kind as "model" | "responder" | "extractor" } : {});
for (const c of report.checks) console.log(`${c.ok ? "ok  " : "FAIL"}  ${c.name}${c.detail ? `  (${c.detail})` : ""}`);
console.log(report.ok ? `\n${address}: conformant ${report.kind} plugin` : `\n${address}: ${report.failures.length} check(s) failed`);
process.exit(report.ok ? 0 : 1);
