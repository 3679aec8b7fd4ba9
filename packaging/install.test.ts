// `xids install` on clean temporary roots: what it writes, that systemd's own checker accepts the
// unit with no warning, that the launcher runs the tree, that a second install changes nothing
// and never overwrites the operator's config, and that bad input is refused before anything is
// written.
import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, TempDir, xids } from "../test/core/util.ts";
import { install, InstallError, launcherScript } from "./install.ts";

const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
const UNIT = "/etc/systemd/system/xids.service";
const CONFIG = "/etc/xids/xids.yaml";

/** Runs a command to completion; its exit code and output. */
function run(argv: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", env: process.env });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** systemd-analyze verify resolves the unit's dependencies (multi-user.target, ...) and the
 *  commands it runs (/bin/kill) inside --root: give the root the host's unit library and kill. */
function systemdLibraryInto(root: string): void {
  cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  cpSync("/usr/bin/kill", join(root, "usr/bin/kill"));
  for (const l of ["bin", "lib"]) if (!existsSync(join(root, l))) symlinkSync(`usr/${l}`, join(root, l));
}

const verify = (root: string, unit = UNIT) => run(["systemd-analyze", "verify", `--root=${root}`, unit]);
const mode = (path: string) => statSync(path).mode & 0o777;

describe("xids install", () => {
  test("a clean root: launcher, link, unit systemd accepts without a warning, default config, logrotate, state dirs", async () => {
    using dir = new TempDir();
    const root = dir.file("root");
    const r = await xids(["install", "--root", root]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe(""); // the tree is not below /home or /root: no ProtectHome warning
    expect(r.out.trim().split("\n").map((l) => l.split(":")[0])).toEqual([
      "created  /usr/local/lib/xids",
      "created  /usr/local/bin/xids",
      `created  ${UNIT}`,
      "created  /etc/logrotate.d/xids",
      "created  /etc/xids",
      `created  ${CONFIG}`,
      "created  /var/lib/xids",
      "created  /var/log/xids",
    ]);

    expect(readlinkSync(join(root, "usr/local/lib/xids"))).toBe(REPO);
    expect(readFileSync(join(root, "usr/local/bin/xids"), "utf8")).toBe(launcherScript());
    expect(mode(join(root, "usr/local/bin/xids"))).toBe(0o755);
    expect(readFileSync(join(root, UNIT), "utf8")).toBe(readFileSync(join(REPO, "packaging/xids.service"), "utf8"));
    expect(readFileSync(join(root, CONFIG), "utf8")).toBe(readFileSync(join(REPO, "packaging/xids.yaml"), "utf8"));
    expect([mode(join(root, CONFIG)), mode(join(root, "var/log/xids")), mode(join(root, "var/log")), mode(join(root, "var/lib/xids"))]).toEqual([0o640, 0o750, 0o755, 0o755]);

    // The launcher runs the installed tree with its own Bun, wherever the root is.
    const launcher = join(root, "usr/local/bin/xids");
    expect(run([launcher, "--version"])).toEqual({ code: 0, out: `xids ${VERSION}\n`, err: "" });
    const check = run([launcher, "config", "check", join(root, CONFIG)]);
    expect(check.code, check.err).toBe(0);
    expect(check.out).toContain("ok (4 plugin(s): xdp[extractor], kernel-mlp[model], xdp-drop[responder], alert-log[responder]; interfaces none)");

    // systemd's checker: exit 0 and not one line about the unit (it exits 0 on unknown keys too,
    // so the silence is what shows the unit is clean; the bad copy shows it would speak).
    systemdLibraryInto(root);
    expect(verify(root)).toEqual({ code: 0, out: "", err: "" });
    writeFileSync(join(root, "etc/systemd/system/xids-bad.service"), readFileSync(join(root, UNIT), "utf8").replace("[Install]", "ProtectSystm=strict\n[Install]"));
    expect(verify(root, "/etc/systemd/system/xids-bad.service").err).toContain("Unknown key 'ProtectSystm' in section [Service]");

    // The hardening is in effect: systemd rates the unit's exposure (10 = none at all).
    const sec = run(["systemd-analyze", "security", "--offline=yes", `--root=${root}`, "xids.service"]);
    const exposure = Number(sec.out.match(/Overall exposure level for xids\.service: ([\d.]+)/)?.[1]);
    expect(exposure, sec.out + sec.err).toBeLessThanOrEqual(3);

    // logrotate reads the snippet without an error (-d: checks, rotates nothing).
    const lr = run(["logrotate", "-d", "-s", dir.file("logrotate.state"), join(root, "etc/logrotate.d/xids")]);
    expect(lr.code, lr.err).toBe(0);
    expect(lr.out + lr.err).toContain("rotating pattern: /var/log/xids/*.jsonl");
    expect(lr.out + lr.err).not.toMatch(/error/i);
  }, 60_000);

  test("a second install changes nothing, restores a changed unit and never overwrites a changed config", async () => {
    using dir = new TempDir();
    const root = dir.file("root");
    expect((await xids(["install", "--root", root])).code).toBe(0);
    const edited = readFileSync(join(root, CONFIG), "utf8") + "# interfaces set by the operator\n";
    writeFileSync(join(root, CONFIG), edited);
    writeFileSync(join(root, UNIT), "[Service]\nExecStart=/bin/true\n");

    const again = await xids(["install", "--root", root]);
    expect(again.code, again.err).toBe(0);
    const results = Object.fromEntries(again.out.trim().split("\n").map((l) => [l.split(":")[0]!.split(/\s+/)[1]!, l.split(/\s+/)[0]]));
    expect(results).toEqual({
      "/usr/local/lib/xids": "unchanged",
      "/usr/local/bin/xids": "unchanged",
      [UNIT]: "updated",
      "/etc/logrotate.d/xids": "unchanged",
      "/etc/xids": "unchanged",
      [CONFIG]: "kept",
      "/var/lib/xids": "unchanged",
      "/var/log/xids": "unchanged",
    });
    expect(readFileSync(join(root, CONFIG), "utf8")).toBe(edited);
    expect(readFileSync(join(root, UNIT), "utf8")).toBe(readFileSync(join(REPO, "packaging/xids.service"), "utf8"));
  }, 60_000);

  test("--prefix moves the launcher, the link and every path in the unit and the config", async () => {
    using dir = new TempDir();
    const root = dir.file("root");
    const r = await xids(["install", "--root", root, "--prefix", "/opt/xids/"]);
    expect(r.code, r.err).toBe(0);
    const unit = readFileSync(join(root, UNIT), "utf8");
    expect(unit).toContain("\nExecStart=/opt/xids/bin/xids run --config /etc/xids/xids.yaml\n");
    expect(unit).toContain("\nWorkingDirectory=/opt/xids/lib/xids\n");
    expect(unit).not.toContain("/usr/local");
    expect(readFileSync(join(root, CONFIG), "utf8")).toContain("artifact: /opt/xids/lib/xids/models/artifacts/matrix-mlp }");
    expect(lstatSync(join(root, "opt/xids/lib/xids")).isSymbolicLink()).toBe(true);
    expect(run([join(root, "opt/xids/bin/xids"), "--version"]).out).toBe(`xids ${VERSION}\n`);
    systemdLibraryInto(root);
    expect(verify(root)).toEqual({ code: 0, out: "", err: "" });
  }, 60_000);

  test("bad input is refused with what and where, before anything is written", async () => {
    using dir = new TempDir();
    const relative = await xids(["install", "--root", dir.file("a"), "--prefix", "usr/local"]);
    expect(relative).toMatchObject({ code: 1, out: "" });
    expect(relative.err).toBe("xids install: --prefix: expected an absolute path of letters, digits and . _ - / (it goes into the unit and a shell script), got 'usr/local'\n");
    expect((await xids(["install", "--root", dir.file("a"), "--prefix", "/opt/x y"])).err).toContain("got '/opt/x y'");
    expect(existsSync(dir.file("a"))).toBe(false);

    writeFileSync(dir.file("file"), "");
    expect((await xids(["install", "--root", dir.file("file")])).err).toBe(`xids install: --root: ${dir.file("file")} is not a directory\n`);
    expect((await xids(["install", "extra"])).err).toContain("takes no operands");

    // An unbuilt tree: every missing build product is named.
    expect(() => install({ root: dir.file("b"), prefix: "/usr/local", tree: dir.path })).toThrow(
      new InstallError(`the tree ${dir.path} is not built (missing node_modules/.bin/bun, core/main.ts, bpf/build/xids.bpf.o, native/build/Release/xids_native.node, models/artifacts/matrix-mlp): run bash scripts/setup.sh in it first`),
    );
    expect(existsSync(dir.file("b"))).toBe(false);

    // Something that is not our link where the link goes: not replaced.
    mkdirSync(dir.file("c/usr/local/lib/xids"), { recursive: true });
    const taken = await xids(["install", "--root", dir.file("c")]);
    expect(taken.code).toBe(1);
    expect(taken.err).toBe(`xids install: ${dir.file("c/usr/local/lib/xids")} exists and is not a symbolic link: remove it, or install with another --prefix\n`);
    expect(existsSync(dir.file("c/etc"))).toBe(false);
  }, 60_000);
});
