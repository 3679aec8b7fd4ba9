#!/usr/bin/env bun
// Runs the plugin conformance checks against a plugin address and prints each result.
// usage: bun test/conformance/main.ts <unix:/path | host:port> [model|responder|extractor] [--config JSON]
import { runConformance } from "./conformance.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--config");
const config = at !== -1 ? JSON.parse(args.splice(at, 2)[1] ?? "null") : undefined;
const [address, kind] = args;
if (!address || (kind && !["model", "responder", "extractor"].includes(kind))) {
  console.error("usage: bun test/conformance/main.ts <unix:/path | host:port> [model|responder|extractor] [--config JSON]");
  process.exit(2);
}
const report = await runConformance(address, { ...(kind ? { kind: kind as "model" | "responder" | "extractor" } : {}), ...(config !== undefined ? { config } : {}) });
for (const c of report.checks) console.log(`${c.ok ? "ok  " : "FAIL"}  ${c.name}${c.detail ? `  (${c.detail})` : ""}`);
console.log(report.ok ? `\n${address}: conformant ${report.kind} plugin` : `\n${address}: ${report.failures.length} check(s) failed`);
process.exit(report.ok ? 0 : 1);
