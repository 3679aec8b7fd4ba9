// Shared by the CLI verbs that talk to a running core: the connection flags and error printing.
import { parseFlags, UsageError, type FlagSpec, type ParsedFlags } from "../core/cli/args.ts";
import { readSecretFile } from "../core/util/secrets.ts";
import { connectControl, DEFAULT_SOCKET, rpcMessage, type Control, type ControlTarget } from "./control.ts";
import type { Command } from "../core/cli/command.ts";

export const CONNECTION_FLAGS = {
  socket: "string",
  address: "string",
  token: "string",
  "token-file": "string",
  "tls-ca": "string",
  "tls-cert": "string",
  "tls-key": "string",
  "tls-server-name": "string",
  timeout: "number",
} as const satisfies FlagSpec;

export const CONNECTION_HELP = `connection:
  --socket <path>       control socket (default $XIDS_CONTROL_SOCKET or ${DEFAULT_SOCKET})
  --address <host:port> use TCP instead (needs a bearer token and/or TLS)
  --token-file <f>      bearer token for TCP, read from a file (or $XIDS_TOKEN);
                        --token <t> works too but shows the token to every user in ps
  --tls-ca <f> [--tls-cert <f> --tls-key <f>]   TLS (mTLS with a client cert)
  --tls-server-name <n> name to verify in the server certificate (for IP addresses)
  --timeout <ms>        per-call deadline (default 10000)`;

export function parseWithConnection<S extends FlagSpec>(args: string[], spec: S) {
  return parseFlags(args, { ...CONNECTION_FLAGS, ...spec }) as ParsedFlags<S & typeof CONNECTION_FLAGS>;
}

/** The bearer token: --token-file, else --token (warned about: argv is public), else $XIDS_TOKEN. */
export function clientToken(f: ParsedFlags<typeof CONNECTION_FLAGS>): string | undefined {
  if (f.token !== undefined && f["token-file"] !== undefined) throw new UsageError("expected at most one of --token or --token-file");
  if (f["token-file"] !== undefined) return readSecretFile(f["token-file"], "--token-file");
  if (f.token !== undefined) {
    console.error("xids: warning: --token shows the token to every user of this host (ps, /proc); use --token-file <f> or $XIDS_TOKEN");
    return f.token;
  }
  return process.env.XIDS_TOKEN || undefined;
}

/** Where and how to connect, the token read once. */
export function targetFromFlags(f: ParsedFlags<typeof CONNECTION_FLAGS>): ControlTarget & { socket: string } {
  const tls = f["tls-ca"] || f["tls-cert"] ? { ca: f["tls-ca"], cert: f["tls-cert"], key: f["tls-key"], serverName: f["tls-server-name"] } : undefined;
  return { socket: f.socket ?? process.env.XIDS_CONTROL_SOCKET ?? DEFAULT_SOCKET, address: f.address, token: clientToken(f), tls, timeoutMs: f.timeout };
}

export function connectFromFlags(f: ParsedFlags<typeof CONNECTION_FLAGS>): Control {
  return connectControl(targetFromFlags(f));
}

/** Runs `fn` with a connected client; RPC errors print as "xids <verb>: CODE: message" and exit 1. */
export async function withControl(verb: string, f: ParsedFlags<typeof CONNECTION_FLAGS>, fn: (c: Control) => Promise<number>): Promise<number> {
  const c = connectFromFlags(f);
  try {
    return await fn(c);
  } catch (err) {
    const code = (err as { code?: number }).code;
    const hint = code === 14 || code === 4 ? ` (is xids running? tried ${c.address})` : "";
    console.error(`xids ${verb}: ${rpcMessage(err)}${hint}`);
    return 1;
  } finally {
    c.close();
  }
}

/** A verb that makes control calls: `xids <name> [<operand>] [--json]`; `act` prints and returns the exit code. */
export function controlVerb(v: { name: string; operand?: string; json?: boolean; summary: string; text: string; example?: string; act(c: Control, a: { value: string; json: boolean }): Promise<number> }): Command {
  const usage = `usage: xids ${v.name}${v.operand ? ` <${v.operand}>` : ""}${v.json ? " [--json]" : ""}`;
  return {
    name: v.name,
    summary: v.summary,
    help: `${usage}\n\n${v.text}\n\n${CONNECTION_HELP}${v.example ? `\n\nexample: ${v.example}` : ""}`,
    async run(args) {
      const f = parseWithConnection(args, { json: "boolean" });
      if (f._.length !== (v.operand ? 1 : 0) || (f.json && !v.json)) return (console.error(usage), 2);
      return withControl(v.name, f, (c) => v.act(c, { value: f._[0] ?? "", json: f.json === true }));
    },
  };
}

export function fmtDuration(ms: number): string {
  if (ms === 0) return "permanent";
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}
