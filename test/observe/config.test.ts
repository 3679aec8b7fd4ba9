import { describe, expect, test } from "bun:test";
import { checkConfig } from "../../core/config/load.ts";

describe("config: http and pin_dir", () => {
  test("defaults are off; bad values are refused with the reason", () => {
    const ok = checkConfig({});
    if (!ok.ok) throw new Error(JSON.stringify(ok.issues));
    expect([ok.config.http.listen, ok.config.dataplane.pin_dir]).toEqual(["", ""]);
    const good = checkConfig({ http: { listen: "127.0.0.1:9464" }, dataplane: { pin_dir: "/sys/fs/bpf/xids" } });
    expect(good.ok).toBe(true);
    const bad = checkConfig({ http: { listen: "9464" }, dataplane: { pin_dir: "/tmp/pins" } });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues.map((i) => `${i.path}: ${i.message}`).sort()).toEqual([
      'dataplane.pin_dir: expected a directory under /sys/fs/bpf, or empty, got "/tmp/pins"',
      'http.listen: expected host:port (e.g. 127.0.0.1:9464), or empty for off, got "9464": not of the form unix:/path or host:port',
    ]);
  });
});
