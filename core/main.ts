#!/usr/bin/env bun
// The composition root: the one file of the core that reaches outside it. It hands the CLI the
// catalog of built-in plugins (plugins/index.ts) and the verbs that live with their code: the
// control API client (client/), training (models/), evaluation in the kernel and replay (their
// plugins), the testbed and demo (test/), the benchmarks (bench/) and the service install (packaging/).
import { builtins } from "../plugins/index.ts";
import type { VerbTable } from "./cli/command.ts";
import { CORE_VERBS } from "./cli/commands/index.ts";
import { CLIENT_VERBS } from "../client/commands/index.ts";
import { runCli } from "./cli/dispatch.ts";
import { VERSION } from "./util/version.ts";

const VERBS: VerbTable = {
  ...CORE_VERBS,
  ...CLIENT_VERBS,
  replay: () => import("../plugins/extractors/xdp/replay-command.ts"),
  eval: () => import("../plugins/models/kernel/eval-command.ts"),
  train: () => import("../models/commands/train.ts"),
  loo: () => import("../models/commands/loo.ts"),
  testbed: () => import("../test/testbed/commands/testbed.ts"),
  demo: () => import("../test/testbed/commands/demo.ts"),
  bench: () => import("../bench/command.ts"),
  install: () => import("../packaging/install-command.ts"),
  "fleet status": () => import("../plugins/fleet/cli/status.ts"),
  "fleet push": () => import("../plugins/fleet/cli/push.ts"),
  "fleet block": () => import("../plugins/fleet/cli/block.ts"),
  "fleet unblock": () => import("../plugins/fleet/cli/unblock.ts"),
  "fleet allow": () => import("../plugins/fleet/cli/allow.ts"),
  "fleet disallow": () => import("../plugins/fleet/cli/disallow.ts"),
};

process.exitCode = await runCli(process.argv.slice(2), VERBS, builtins, VERSION).catch((err: unknown) => {
  console.error(`xids: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
});
