// Log rotation: the alert log holds its file open, so after logrotate renames it the lines go on
// into the renamed file until reopen() (what a reload calls) opens the path anew; once stopped it
// refuses to write rather than write into a descriptor the process may have reused.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, renameSync } from "node:fs";
import { Detection } from "../../../proto/gen/xids/plugin/v1/responder.ts";
import { TempDir, quietLog, testServices } from "../../../test/core/util.ts";
import { coreServices } from "../../../core/plugin-api/services.ts";
import { alertLog } from "./index.ts";

const ids = (path: string) => readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l).detection_id);

describe("alert-log reopen", () => {
  test("renamed file keeps its lines, reopen starts a new file at the path, stop closes it", async () => {
    using dir = new TempDir();
    const path = dir.file("alerts.jsonl");
    const services = testServices();
    const stop = new AbortController();
    const api = await alertLog().init({ id: "log", config: { path, explain: undefined }, log: quietLog, deps: { metrics: services(coreServices.metrics.id, "log") as never, model: undefined as never }, signal: stop.signal });
    expect(existsSync(path)).toBe(true); // opened at start: an unwritable path fails there
    await api.handle(Detection.create({ id: "d-1" }));
    renameSync(path, `${path}.1`);
    await api.handle(Detection.create({ id: "d-2" }));
    expect(existsSync(path)).toBe(false);
    await api.reopen!();
    await api.handle(Detection.create({ id: "d-3" }));
    expect(ids(`${path}.1`)).toEqual(["d-1", "d-2"]);
    expect(ids(path)).toEqual(["d-3"]);
    stop.abort();
    await expect(api.handle(Detection.create({ id: "d-4" }))).rejects.toThrow(`${path}: the alert log is closed (stopped)`);
    expect(ids(path)).toEqual(["d-3"]);
  });

  test("a path that cannot be opened fails the start with the reason", async () => {
    const services = testServices();
    const init = alertLog().init({ id: "log", config: { path: "/nonexistent-xids-dir/alerts.jsonl", explain: undefined }, log: quietLog, deps: { metrics: services(coreServices.metrics.id, "log") as never, model: undefined as never }, signal: new AbortController().signal });
    await expect(init).rejects.toThrow("ENOENT");
  });
});
