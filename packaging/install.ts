// Installs this built tree as a system service: the tree is linked (not copied: node_modules alone
// is ~500 MB, and an update of the checkout is then an update of the service), a launcher runs
// it with its own Bun, and the unit, a default config, the logrotate snippet and the state
// directories are written. Files that belong to the program (launcher, unit, logrotate snippet)
// are brought up to date; the config belongs to the operator and is never overwritten.
// Idempotent: a second run reports every step "unchanged" or "kept".
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** The built tree this code runs from. */
export const TREE = resolve(import.meta.dir, "..");
/** The prefix the shipped unit and config are written for; `--prefix` replaces it. */
export const SHIPPED_PREFIX = "/usr/local";

export interface InstallOptions {
  /** Everything is written below this directory ("/" = this system; a temp dir for staging). */
  root: string;
  /** Where the launcher (<prefix>/bin/xids) and the tree's link (<prefix>/lib/xids) go. */
  prefix: string;
  tree?: string;
}

export type StepResult = "created" | "updated" | "unchanged" | "kept";
export interface Step {
  result: StepResult;
  /** The path on the installed system (without the root). */
  path: string;
  what: string;
}

export class InstallError extends Error {}

/** Paths that ProtectHome=yes hides from the service: a tree there cannot run as the unit. */
const HIDDEN_BY_PROTECT_HOME = ["/home/", "/root/", "/run/user/"];

/** What the tree must hold to run: without them the service would fail at its first start. */
const BUILT = ["node_modules/.bin/bun", "core/main.ts", "bpf/build/xids.bpf.o", "native/build/Release/xids_native.node", "models/artifacts/matrix-mlp"];

export function launcherScript(): string {
  return `#!/bin/sh
# Written by \`xids install\`: runs the installed tree (../lib/xids from here) with its own Bun.
tree="$(dirname "$(readlink -f "$0")")/../lib/xids"
exec "$tree/node_modules/.bin/bun" "$tree/core/main.ts" "$@"
`;
}

/** A shipped file with its paths moved from /usr/local to the prefix ("" for "/"). */
export function forPrefix(text: string, prefix: string): string {
  return text.replaceAll(`${SHIPPED_PREFIX}/`, `${prefix}/`);
}

function checkOptions(o: InstallOptions, tree: string): void {
  if (!isAbsolute(o.prefix) || !/^\/[A-Za-z0-9._/-]*$/.test(o.prefix) || o.prefix.includes("//") || o.prefix.split("/").includes(".."))
    throw new InstallError(`--prefix: expected an absolute path of letters, digits and . _ - / (it goes into the unit and a shell script), got '${o.prefix}'`);
  const missing = BUILT.filter((p) => !existsSync(join(tree, p)));
  if (missing.length > 0) throw new InstallError(`the tree ${tree} is not built (missing ${missing.join(", ")}): run bash scripts/setup.sh in it first`);
  if (existsSync(o.root) && !statSync(o.root).isDirectory()) throw new InstallError(`--root: ${o.root} is not a directory`);
}

export function install(o: InstallOptions): { steps: Step[]; warnings: string[] } {
  const tree = o.tree ?? TREE;
  checkOptions(o, tree);
  const prefix = o.prefix.replace(/\/+$/, ""); // "/" -> "": paths are `${prefix}/bin/...`
  const root = resolve(o.root);
  const at = (path: string) => join(root, path);
  const steps: Step[] = [];
  const shipped = (name: string) => forPrefix(readFileSync(join(tree, "packaging", name), "utf8"), prefix);

  const dir = (path: string, mode: number, what: string) => {
    if (existsSync(at(path))) return steps.push({ result: "unchanged", path, what });
    mkdirSync(dirname(at(path)), { recursive: true, mode: 0o755 });
    mkdirSync(at(path), { mode });
    chmodSync(at(path), mode); // mkdir's mode is filtered by the umask
    steps.push({ result: "created", path, what });
  };
  // Program files: rewritten when they differ from what this tree ships.
  const file = (path: string, text: string, mode: number, what: string) => {
    const before = existsSync(at(path)) ? readFileSync(at(path), "utf8") : null;
    if (before !== text) {
      mkdirSync(dirname(at(path)), { recursive: true, mode: 0o755 });
      writeFileSync(at(path), text, { mode });
    }
    chmodSync(at(path), mode);
    steps.push({ result: before === null ? "created" : before === text ? "unchanged" : "updated", path, what });
  };

  const link = `${prefix}/lib/xids`;
  const current = lstatSync(at(link), { throwIfNoEntry: false });
  if (current && !current.isSymbolicLink()) throw new InstallError(`${at(link)} exists and is not a symbolic link: remove it, or install with another --prefix`);
  const target = current ? readlinkSync(at(link)) : null;
  if (target !== tree) {
    mkdirSync(dirname(at(link)), { recursive: true, mode: 0o755 });
    if (current) rmSync(at(link));
    symlinkSync(tree, at(link));
  }
  steps.push({ result: target === null ? "created" : target === tree ? "unchanged" : "updated", path: link, what: `link to the tree ${tree}` });
  file(`${prefix}/bin/xids`, launcherScript(), 0o755, "launcher");
  file("/etc/systemd/system/xids.service", shipped("xids.service"), 0o644, "systemd unit");
  file("/etc/logrotate.d/xids", shipped("logrotate/xids"), 0o644, "logrotate snippet for the alert log");

  const config = "/etc/xids/xids.yaml";
  dir("/etc/xids", 0o755, "config directory");
  if (existsSync(at(config))) steps.push({ result: "kept", path: config, what: "config (never overwritten)" });
  else {
    writeFileSync(at(config), shipped("xids.yaml"), { mode: 0o640 });
    steps.push({ result: "created", path: config, what: "default config" });
  }
  dir("/var/lib/xids", 0o755, "state directory (dataplane.state_dir)");
  dir("/var/log/xids", 0o750, "log directory (the alert log)");

  const warnings = HIDDEN_BY_PROTECT_HOME.some((p) => `${tree}/`.startsWith(p))
    ? [`the tree ${tree} is below ${HIDDEN_BY_PROTECT_HOME.join(", ")}, which the unit's ProtectHome=yes hides: move it (e.g. to /opt/xids) and install again, or add a drop-in with ProtectHome=read-only`]
    : [];
  return { steps, warnings };
}
