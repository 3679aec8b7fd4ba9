// The NATS connection options of a fleet config: servers, the agent's name, credentials and TLS.
// Secrets are read from their files (or the environment) here, at connect time, and never logged.
import { readFileSync } from "node:fs";
import { credsAuthenticator, type NodeConnectionOptions } from "@nats-io/transport-node";
import type { FleetConfig } from "./config.ts";

type Auth = Pick<FleetConfig, "servers" | "creds" | "user" | "password_file" | "password_env" | "tls">;

function readSecret(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Where this connection authenticates and how (for logs and status: never a secret). */
export function describeAuth(c: Auth): string {
  if (c.creds) return `credentials ${c.creds}`;
  if (c.user) return `user ${c.user}`;
  return "no authentication";
}

export function connectOptions(c: Auth, name: string): NodeConnectionOptions {
  const opts: NodeConnectionOptions = { servers: c.servers, name };
  if (c.creds) opts.authenticator = credsAuthenticator(new TextEncoder().encode(readSecret(c.creds, "fleet.creds")));
  if (c.user) {
    opts.user = c.user;
    if (c.password_file) opts.pass = readSecret(c.password_file, "fleet.password_file").trim();
    else {
      const pass = process.env[c.password_env!];
      if (pass === undefined) throw new Error(`fleet.password_env: the environment variable ${c.password_env} is not set`);
      opts.pass = pass;
    }
  }
  if (c.tls) opts.tls = { ...(c.tls.ca ? { caFile: c.tls.ca } : {}), ...(c.tls.cert ? { certFile: c.tls.cert, keyFile: c.tls.key } : {}) };
  else if (c.servers.some((u) => u.startsWith("tls://"))) opts.tls = {};
  return opts;
}
