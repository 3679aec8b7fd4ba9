// The kernel model's version counter outside the kernel (version-state.ts): versions continue
// from the state file in a new instance (a restart), agents sharing a state directory never get
// the same version, and a state that cannot be read or written is an error naming the path and
// the reason (logged too), never a start from 1. The real-agent restart is in
// test/observe/restart.test.ts.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryDataPlane } from "../../../core/ebpf/memory-dataplane.ts";
import { createLogger } from "../../../core/util/log.ts";
import { REPO, TempDir, quietLog, startBuiltin, testDataplaneSettings, testServices } from "../../../test/core/util.ts";
import { modelsArtifactLoader } from "../artifact/loader.ts";
import { kernelModel } from "./index.ts";
import { ModelVersionState, ModelVersionStateError, modelVersionStatePath } from "./version-state.ts";

const art = (name: string) => join(REPO, "models/artifacts", name);

function recordingLog() {
  const lines: string[] = [];
  return { lines, log: createLogger("t", "debug", (l) => lines.push(l)) };
}

describe("model version state", () => {
  test("a new instance (a restart) continues above every version handed out; the floor counts too", async () => {
    using dir = new TempDir();
    const a = new ModelVersionState(dir.file("state"), "kernel-mlp", quietLog);
    expect(a.last()).toBe(0);
    expect([await a.reserve("m:a"), await a.reserve("m:b")]).toEqual([1, 2]);
    expect(JSON.parse(readFileSync(modelVersionStatePath(dir.file("state"), "kernel-mlp"), "utf8"))).toMatchObject({ version: 2, model: "m:b" });
    const b = new ModelVersionState(dir.file("state"), "kernel-mlp", quietLog);
    expect(b.last()).toBe(2);
    expect(await b.reserve("m:c")).toBe(3);
    expect(await b.reserve("m:d", 40)).toBe(41); // e.g. what the kernel's slots already hold
    // Another plugin id has a counter of its own.
    expect(await new ModelVersionState(dir.file("state"), "other", quietLog).reserve("m:e")).toBe(1);
  });

  test("agents sharing a state directory never get the same version", async () => {
    using dir = new TempDir();
    const states = [0, 1, 2].map(() => new ModelVersionState(dir.path, "kernel-mlp", quietLog));
    const got = await Promise.all(Array.from({ length: 30 }, (_, i) => states[i % 3]!.reserve(`m:${i}`)));
    expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  test("an unreadable or corrupt state is an error with the path and the reason, logged; nothing starts at 1", async () => {
    using dir = new TempDir();
    const path = modelVersionStatePath(dir.path, "kernel-mlp");
    const { lines, log } = recordingLog();
    const s = new ModelVersionState(dir.path, "kernel-mlp", log);
    writeFileSync(path, "{\"version\": 7");
    expect(() => s.last()).toThrow(new RegExp(`^model version state ${path} is not JSON \\(`));
    await expect(s.reserve("m")).rejects.toThrow(ModelVersionStateError);
    writeFileSync(path, JSON.stringify({ version: -3 }));
    expect(() => s.last()).toThrow(`model version state ${path} holds no version (expected {"version": 0..4294967295, ...}, got "{\\"version\\":-3}")`);
    const d = new ModelVersionState(dir.path, "dir-state", log);
    mkdirSync(modelVersionStatePath(dir.path, "dir-state"));
    expect(() => d.last()).toThrow(`cannot read the model version state ${modelVersionStatePath(dir.path, "dir-state")}: EISDIR`);
    expect(lines.filter((l) => l.includes(" error ")).length).toBe(4);
    expect(lines.every((l) => l.includes(dir.path))).toBe(true);
    // The file is left as it was, for the operator to look at.
    expect(readFileSync(path, "utf8")).toBe(JSON.stringify({ version: -3 }));
  });

  test("a state that cannot be written refuses the version, with the path and the reason", async () => {
    using dir = new TempDir();
    writeFileSync(dir.file("file"), "");
    const { lines, log } = recordingLog();
    // A state_dir that is a file cannot be created (this holds for root too).
    const s = new ModelVersionState(join(dir.file("file"), "state"), "kernel-mlp", log);
    await expect(s.reserve("m")).rejects.toThrow(`cannot create the model version state directory ${join(dir.file("file"), "state")}: ENOTDIR`);
    expect(lines.some((l) => l.includes("error") && l.includes(join(dir.file("file"), "state")))).toBe(true);
    // The directory is there but the new state cannot be written (here: its temporary file).
    const t = new ModelVersionState(dir.path, "kernel-mlp", log);
    mkdirSync(`${t.path}.${process.pid}.tmp`);
    await expect(t.reserve("m")).rejects.toThrow(`cannot record model version 1 in ${t.path}: EISDIR`);
    expect(t.last()).toBe(0);
    // A directory that exists but takes no new file (read-only; root ignores modes, so only
    // checked when not root).
    if (process.getuid?.() !== 0) {
      mkdirSync(dir.file("ro"));
      chmodSync(dir.file("ro"), 0o555);
      await expect(new ModelVersionState(dir.file("ro"), "kernel-mlp", quietLog).reserve("m")).rejects.toThrow(/EACCES/);
    }
  });
});

describe("kernel model plugin and its version state", () => {
  test("a second start on the same state continues the versions (recorded-only: no data plane)", async () => {
    const settings = testDataplaneSettings();
    const first = await startBuiltin(kernelModel(), { artifact: art("dt") }, "kernel-mlp", testServices(new MemoryDataPlane(settings)));
    expect((await first.describe()).properties.model_version).toBe("1");
    expect(await first.update!(await modelsArtifactLoader.load(art("mlp-int32")))).toEqual({ model: "mlp-int32:mlp-int32", version: 2 });
    const second = await startBuiltin(kernelModel(), { artifact: art("dt") }, "kernel-mlp", testServices(new MemoryDataPlane(settings)));
    expect((await second.describe()).properties).toEqual({ model: "dt:dt", model_version: "3", hot_update: "recorded-only", artifact: art("dt") });
  });

  test("a corrupt state fails the start with the path and the reason; a failed write refuses the push", async () => {
    const settings = testDataplaneSettings();
    const path = modelVersionStatePath(settings.state_dir, "kernel-mlp");
    writeFileSync(path, "garbage");
    await expect(startBuiltin(kernelModel(), { artifact: "" }, "kernel-mlp", testServices(new MemoryDataPlane(settings)))).rejects.toThrow(`model version state ${path} is not JSON`);

    // A state directory that cannot be made (nothing can be created in /proc, by root neither).
    const blocked = { ...settings, state_dir: "/proc/xids-test-state" };
    const api = await startBuiltin(kernelModel(), { artifact: "" }, "kernel-mlp", testServices(new MemoryDataPlane(blocked)));
    await expect(api.update!(await modelsArtifactLoader.load(art("dt")))).rejects.toThrow("cannot create the model version state directory /proc/xids-test-state: ENOENT");
    expect((await api.describe()).properties.model_version).toBe("0");
  });
});
