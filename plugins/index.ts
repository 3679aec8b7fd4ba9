// The catalog: every built-in plugin by the name the config's `builtin:` uses, read only by the
// composition root (core/main.ts) and by tests. Adding a built-in = a folder under plugins/ (code,
// README, tests) and one line here.
import { catalogOf } from "../core/host/catalog.ts";
import { xdpExtractor } from "./extractors/xdp/index.ts";
import { pcapExtractor } from "./extractors/pcap/index.ts";
import { modelsArtifactLoader } from "./models/artifact/loader.ts";
import { explainForPage } from "./models/artifact/explainer.ts";
import { artifactModel } from "./models/artifact/index.ts";
import { kernelModel } from "./models/kernel/index.ts";
import { shadowEvaluator } from "./models/shadow/index.ts";
import { alertLog } from "./responders/alert-log/index.ts";
import { webhookResponder } from "./responders/webhook/index.ts";
import { xdpDrop } from "./responders/xdp-drop/index.ts";
import { fleetPlugin } from "./fleet/index.ts";

export const BUILTINS = {
  xdp: xdpExtractor,
  pcap: pcapExtractor,
  kernel: kernelModel,
  artifact: artifactModel,
  "xdp-drop": xdpDrop,
  webhook: webhookResponder,
  "alert-log": alertLog,
  fleet: fleetPlugin,
};

/** Each built-in's folder, for `xids plugins` and the catalog test. */
export const BUILTIN_FOLDERS: Record<keyof typeof BUILTINS, string> = {
  xdp: "plugins/extractors/xdp",
  pcap: "plugins/extractors/pcap",
  kernel: "plugins/models/kernel",
  artifact: "plugins/models/artifact",
  "xdp-drop": "plugins/responders/xdp-drop",
  webhook: "plugins/responders/webhook",
  "alert-log": "plugins/responders/alert-log",
  fleet: "plugins/fleet",
};

export const builtinCatalog = catalogOf(BUILTINS);

/** What the core needs from outside it to run the built-ins: the catalog, the artifact checks, the
 *  shadow model's evaluator and the live page's explanation of a block. */
export const builtins = { catalog: builtinCatalog, artifacts: modelsArtifactLoader, shadow: shadowEvaluator, explainer: explainForPage };
