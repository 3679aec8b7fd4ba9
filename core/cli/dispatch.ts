// The `xids` dispatcher: picks the verb (two-word verbs such as "config check" first), answers
// --help from the verb's own text, and turns a UsageError into exit code 2.
import { UsageError } from "./args.ts";
import type { CliContext, Command, VerbTable } from "./command.ts";

async function usage(verbs: VerbTable): Promise<string> {
  const commands: Command[] = await Promise.all(Object.values(verbs).map(async (load) => (await load()).command));
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: xids <verb> [options]   (xids <verb> --help for details)\n\nverbs:\n${lines.join("\n")}`;
}

export async function runCli(argv: string[], verbs: VerbTable, ctx: CliContext, version: string): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === "--version" || verb === "-V") {
    console.log(`xids ${version}`);
    return 0;
  }
  if (!verb || verb === "--help" || verb === "-h" || verb === "help") {
    console.log(await usage(verbs));
    return verb ? 0 : 2;
  }
  const twoWord = rest[0] !== undefined ? verbs[`${verb} ${rest[0]}`] : undefined;
  const load = twoWord ?? verbs[verb];
  const args = twoWord ? rest.slice(1) : rest;
  if (!load) {
    console.error(`xids: unknown verb '${verb}'\n\n${await usage(verbs)}`);
    return 2;
  }
  const { command } = await load();
  if (args.includes("--help") || args.includes("-h")) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(args, ctx);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`xids ${command.name}: ${err.message}`);
    return 2;
  }
}
