// A one-split decision tree for tests that need real detections from the kernel: UDP or TCP to a
// destination port above 999 is an attack, anything else benign.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";

/** Writes the DT artifact into `dir`/port-tree and returns its path: attack iff Dst Port > 999. */
export function attackTree(dir: string): string {
  const out = join(dir, "port-tree");
  cpSync(join(REPO_ROOT, "models/artifacts/dt"), out, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  const port = manifest.features.findIndex((f: { index: number }) => f.index === 0);
  if (port < 0) throw new Error("models/artifacts/dt: no Dst Port feature (index 0) in the manifest");
  manifest.tree = { ...manifest.tree, nodes: 3, depth: 1 };
  writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest));
  writeFileSync(
    join(out, "tree.json"),
    JSON.stringify({ feature: [port, -1, -1], threshold: [999, 0, 0], float_threshold: [999.5, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 0, 65536], cls: [0, 0, 1] }),
  );
  return out;
}
