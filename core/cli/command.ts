// The contract every CLI verb implements. `run` returns the process exit code.
export interface Command {
  /** One word ("replay") or two ("config check"). */
  name: string;
  summary: string;
  /** Full --help text: usage line, options, an example. */
  help: string;
  run(args: string[]): Promise<number>;
}
