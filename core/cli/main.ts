#!/usr/bin/env bun
// The xids command line: `bun run xids <verb> [args]`. Each verb lives in its own file under
// commands/ and exports a `command` object, so adding a verb never touches this dispatcher.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "./command.ts";

const commandsDir = join(import.meta.dir, "commands");

async function loadCommands(): Promise<Map<string, Command>> {
  const commands = new Map<string, Command>();
  for (const file of readdirSync(commandsDir).sort()) {
    if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
    const mod = (await import(join(commandsDir, file))) as { command?: Command };
    if (mod.command) commands.set(mod.command.name, mod.command);
  }
  return commands;
}

function usage(commands: Map<string, Command>): string {
  const width = Math.max(...[...commands.keys()].map((n) => n.length), 4);
  const lines = [...commands.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: xids <verb> [options]   (xids <verb> --help for details)\n\nverbs:\n${lines.join("\n")}`;
}

async function main(argv: string[]): Promise<number> {
  const commands = await loadCommands();
  const [verb, ...rest] = argv;
  if (!verb || verb === "--help" || verb === "-h" || verb === "help") {
    console.log(usage(commands));
    return verb ? 0 : 2;
  }
  // Two-word verbs ("config check", "model push") are registered with a space in the name.
  const twoWord = rest[0] !== undefined ? commands.get(`${verb} ${rest[0]}`) : undefined;
  const command = twoWord ?? commands.get(verb);
  const args = twoWord ? rest.slice(1) : rest;
  if (!command) {
    console.error(`xids: unknown verb '${verb}'\n\n${usage(commands)}`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    console.log(command.help);
    return 0;
  }
  return command.run(args);
}

process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`xids: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
});
