// The core's own verbs: running the core, checking configs, listing plugins. The control API's
// client verbs live in client/commands.
// Verbs of other layers (training, replay, the testbed, bench) are added by core/main.ts.
import type { VerbTable } from "../command.ts";

export const CORE_VERBS: VerbTable = {
  run: () => import("./run.ts"),
  "config check": () => import("./config-check.ts"),
  "config schema": () => import("./config-schema.ts"),
  plugins: () => import("./plugins.ts"),
};
