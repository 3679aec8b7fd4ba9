// Reload in an agent without a kernel (memory data plane): a model plugin whose artifact changed
// takes the new one through PushModel's checked hot update, and one that fails its check refuses
// the whole reload, so the allow-list change in the same file is not applied either.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent } from "../../core/agent/agent.ts";
import { loadConfigFile } from "../../core/config/load.ts";
import { MemoryDataPlane } from "../../core/ebpf/memory-dataplane.ts";
import { builtins } from "../../plugins/index.ts";
import { REPO, TempDir, quietLog, testDataplaneSettings } from "./util.ts";

describe("reload of a model artifact", () => {
  test("a changed artifact is pushed and versioned; a bad one refuses the reload and changes nothing", async () => {
    using dir = new TempDir();
    const file = dir.file("xids.yaml");
    const write = (artifact: string, allow: string) =>
      writeFileSync(
        file,
        `plugins:
  - { id: m, kind: model, builtin: artifact, config: { artifact: "${artifact}" } }
allow: [${allow}]
control: { socket: ${dir.file("ctl.sock")} }
`,
      );
    write(join(REPO, "models/artifacts/dt"), "198.18.0.0/24");
    const agent = await Agent.start(loadConfigFile(file, builtins.catalog), { ...builtins, configPath: file, log: quietLog, dataplane: new MemoryDataPlane(testDataplaneSettings()) });
    try {
      expect(agent.dataplane.listAllowed()).toEqual(["198.18.0.0/24"]);
      write(join(REPO, "models/artifacts/xgb"), "198.18.1.0/24");
      const ok = await agent.reload({ configPath: file, catalog: builtins.catalog });
      expect(ok.error).toBe("");
      expect(ok.applied[0]).toMatch(/^plugins\.m: model xgb\S* \(version \d+\)$/);
      expect(ok.applied.slice(1)).toEqual(["allow: +198.18.1.0/24", "allow: -198.18.0.0/24"]);
      expect(agent.modelInUse().model).toMatch(/^xgb/);
      expect(agent.counters.modelUpdates).toBe(1);

      write(dir.path, "198.18.2.0/24"); // no manifest.json there
      const bad = await agent.reload({ configPath: file, catalog: builtins.catalog });
      expect(bad.applied).toEqual([]);
      expect(bad.error).toContain(`artifact_path: `);
      expect(agent.dataplane.listAllowed()).toEqual(["198.18.1.0/24"]);
      expect(agent.modelInUse().model).toMatch(/^xgb/);
      expect(agent.config.allow).toEqual(["198.18.1.0/24"]);
    } finally {
      await agent.stop();
    }
  });
});
