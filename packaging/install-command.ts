// `xids install`: this built tree as a systemd service (packaging/install.ts does the work).
import type { Command } from "../core/cli/command.ts";
import { parseFlags, UsageError } from "../core/cli/args.ts";
import { install, InstallError, SHIPPED_PREFIX, TREE } from "./install.ts";

export const command: Command = {
  name: "install",
  summary: "install this tree as a systemd service (launcher, unit, default config)",
  help: `usage: xids install [--root <dir>] [--prefix <dir>]

Links <prefix>/lib/xids to this built tree (${TREE}) and writes a launcher
<prefix>/bin/xids that runs it with the tree's own Bun; writes the unit
/etc/systemd/system/xids.service (packaging/xids.service), /etc/logrotate.d/xids, and a default
config /etc/xids/xids.yaml unless one exists (an existing config is never overwritten); creates
/var/lib/xids and /var/log/xids. Prints each step; running it again changes nothing that is
already right. Then: set dataplane.interfaces in /etc/xids/xids.yaml, and
systemctl daemon-reload && systemctl enable --now xids.

  --root <dir>     write everything below <dir> (staging a package, tests); default /
  --prefix <dir>   where bin/xids and lib/xids go; default ${SHIPPED_PREFIX}

example: sudo xids install`,
  async run(args) {
    const f = parseFlags(args, { root: "string", prefix: "string" });
    if (f._.length !== 0) throw new UsageError("takes no operands: xids install [--root <dir>] [--prefix <dir>]");
    const root = f.root ?? "/";
    try {
      const { steps, warnings } = install({ root, prefix: f.prefix ?? SHIPPED_PREFIX });
      const width = Math.max(...steps.map((s) => s.result.length));
      for (const s of steps) console.log(`${s.result.padEnd(width)}  ${s.path}: ${s.what}`);
      for (const w of warnings) console.error(`xids install: warning: ${w}`);
      if (root === "/" && steps.some((s) => s.path.endsWith(".service") && s.result !== "unchanged")) console.log("next: systemctl daemon-reload && systemctl enable --now xids");
      return 0;
    } catch (err) {
      if (!(err instanceof InstallError) && (err as NodeJS.ErrnoException).code === undefined) throw err;
      console.error(`xids install: ${(err as Error).message}`);
      return 1;
    }
  },
};
