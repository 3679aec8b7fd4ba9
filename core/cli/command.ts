// The contract every CLI verb implements. `run` returns the process exit code. Verbs are listed in
// a VerbTable (name -> lazy module) so `xids <verb>` loads only the code of that verb.
import type { Catalog } from "../host/catalog.ts";
import type { ArtifactLoader, Explainer, ShadowFactory } from "../plugin-api/services.ts";

export interface Command {
  /** One word ("replay") or two ("config check"). */
  name: string;
  summary: string;
  /** Full --help text: usage line, options, an example. */
  help: string;
  run(args: string[], ctx: CliContext): Promise<number>;
}

/** What the composition root (core/main.ts) hands to every verb. */
export interface CliContext {
  /** The built-in plugins the configuration may name. */
  catalog: Catalog;
  /** Checks model artifacts (PushModel, the model plugins). */
  artifacts: ArtifactLoader;
  /** The shadow model's evaluator `xids run` gives the agent. */
  shadow?: ShadowFactory;
  /** The live page's explanation of a block, also given to the agent. */
  explainer?: Explainer;
}

/** Verb name -> its module (exporting `command`), imported only when needed. */
export type VerbTable = Record<string, () => Promise<{ command: Command }>>;
