// `xids demo`: the README's main job, the testbed's real-time run on its defaults.
import type { Command } from "../../../core/cli/command.ts";
import { command as testbed } from "./testbed.ts";

export const command: Command = {
  name: "demo",
  summary: "run the demo: the real-time testbed with the shipped model (needs root)",
  help: `usage: xids demo [--json] [testbed options]

The same as \`xids testbed\` on its defaults: a victim with real services protected by xids in the
kernel, real benign clients and real attack tools, then the per-category accuracy, F1 / FPR, who was
blocked and how fast. See \`xids testbed --help\` for the options.`,
  run: (args, ctx) => testbed.run(args, ctx),
};
