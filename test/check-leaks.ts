// Run after the suite: fails if any namespace, pinned object or XDP attachment created by the
// tests is still there, and removes it so the next run starts clean.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { execSync } from "./harness/exec.ts";
import { BPFFS } from "./harness/bpffs.ts";
import { TEST_PREFIX } from "./harness/netns.ts";

// The tests' own prefix, and the demo's (the suite runs the demo too).
const PREFIXES = [TEST_PREFIX, "xidsd", "xidsb"];
const ours = (name: string) => PREFIXES.some((p) => name.startsWith(p));

const leaks: string[] = [];

const namespaces = execSync(["ip", "netns", "list"]).stdout.split("\n").map((l) => l.split(" ")[0]!).filter(ours);
for (const ns of namespaces) {
  leaks.push(`network namespace ${ns}`);
  execSync(["ip", "netns", "del", ns], { allowFail: true });
}

const pins = existsSync(BPFFS) ? readdirSync(BPFFS).filter(ours) : [];
for (const pin of pins) {
  leaks.push(`bpffs pin ${BPFFS}/${pin}`);
  rmSync(`${BPFFS}/${pin}`, { recursive: true, force: true });
}

// Interfaces the harness made that are still in the root namespace (e.g. a half-built veth).
const links = execSync(["ip", "-o", "link", "show"]).stdout.split("\n");
for (const line of links) {
  const name = line.split(":")[1]?.trim().split("@")[0];
  if (name && ours(name)) {
    leaks.push(`interface ${name}${line.includes(" xdp") ? " (with XDP attached)" : ""}`);
    execSync(["ip", "link", "del", name], { allowFail: true });
  }
}

if (leaks.length) {
  console.error(`leak check: ${leaks.length} thing(s) left behind by tests (now removed):\n  ${leaks.join("\n  ")}`);
  process.exit(1);
}
console.log("leak check: nothing left behind");
