// The control API's command-line client: verbs that talk to a running agent over its socket (or
// TCP with TLS and a token). They are clients of the runtime, not part of it, so they live outside core/.
import type { VerbTable } from "../../core/cli/command.ts";

export const CLIENT_VERBS: VerbTable = {
  status: () => import("./status.ts"),
  stats: () => import("./stats.ts"),
  watch: () => import("./watch.ts"),
  block: () => import("./block.ts"),
  unblock: () => import("./unblock.ts"),
  list: () => import("./list.ts"),
  allow: () => import("./allow.ts"),
  disallow: () => import("./disallow.ts"),
  "model push": () => import("./model-push.ts"),
  explain: () => import("./explain.ts"),
  reload: () => import("./reload.ts"),
  "model shadow": () => import("./model-shadow.ts"),
  "model promote": () => import("./model-promote.ts"),
};
