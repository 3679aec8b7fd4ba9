// The core's own verbs: running the core, talking to a running core, and checking configs.
// Verbs of other layers (training, replay, the testbed, bench) are added by core/main.ts.
import type { VerbTable } from "../command.ts";

export const CORE_VERBS: VerbTable = {
  run: () => import("./run.ts"),
  status: () => import("./status.ts"),
  stats: () => import("./stats.ts"),
  watch: () => import("./watch.ts"),
  block: () => import("./block.ts"),
  unblock: () => import("./unblock.ts"),
  list: () => import("./list.ts"),
  allow: () => import("./allow.ts"),
  disallow: () => import("./disallow.ts"),
  "model push": () => import("./model-push.ts"),
  "config check": () => import("./config-check.ts"),
  "config schema": () => import("./config-schema.ts"),
  plugins: () => import("./plugins.ts"),
};
