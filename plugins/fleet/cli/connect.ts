// Shared by the `xids fleet ...` verbs: where the fleet is (--servers, or the `fleet:` section of an
// agent's config with its credentials), one connection, the buckets, and errors printed as
// "xids fleet <verb>: reason" with exit code 1.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { parseFlags, UsageError, type FlagSpec, type ParsedFlags } from "../../../core/cli/args.ts";
import type { CliContext } from "../../../core/cli/command.ts";
import { ConfigError, loadConfigFile } from "../../../core/config/load.ts";
import { validate } from "../../../core/config/schema.ts";
import { openStores, type FleetStores } from "../buckets.ts";
import { fleetConfig, type FleetConfig } from "../config.ts";
import { connectOptions } from "../connect-options.ts";
import { fleetNames, type FleetNames } from "../names.ts";
import { parseCidr, parseIp, type Cidr, type IpAddr } from "../../../core/util/net.ts";

export const FLEET_FLAGS = {
  servers: "string",
  config: "string",
  prefix: "string",
  creds: "string",
  user: "string",
  "password-file": "string",
  "tls-ca": "string",
  json: "boolean",
} as const satisfies FlagSpec;

export const FLEET_CONNECTION_HELP = `fleet:
  --servers <url,...>      NATS servers (nats://host:4222,...)
  --config <file>          or an agent's config: its fleet: section (servers, prefix, credentials, TLS)
  --prefix <p>             bucket and subject prefix (default xids, or the config's)
  --creds <file>           NATS credentials file (JWT and nkey seed)
  --user <u> --password-file <f>   user/password authentication
  --tls-ca <file>          CA to trust for tls:// servers`;

export type FleetFlags<S extends FlagSpec> = ParsedFlags<S & typeof FLEET_FLAGS>;

export function parseFleetFlags<S extends FlagSpec>(args: string[], spec: S): FleetFlags<S> {
  return parseFlags(args, { ...FLEET_FLAGS, ...spec }) as FleetFlags<S>;
}

/** The fleet config the flags describe (the agent config's section, flags override). */
function configOf(f: ParsedFlags<typeof FLEET_FLAGS>, ctx: CliContext): FleetConfig {
  let base: Record<string, unknown> = {};
  if (f.config) {
    const cfg = loadConfigFile(f.config, ctx.catalog);
    const entry = cfg.plugins.find((p) => p.builtin === "fleet");
    if (!entry) throw new UsageError(`${f.config} has no fleet: section`);
    base = entry.config as Record<string, unknown>;
  } else if (!f.servers) throw new UsageError("expected --servers <url,...> or --config <agent config with a fleet: section>");
  const raw = {
    ...base,
    ...(f.servers ? { servers: f.servers.split(",").filter(Boolean) } : {}),
    ...(f.prefix ? { prefix: f.prefix } : {}),
    ...(f.creds ? { creds: f.creds, user: undefined, password_file: undefined, password_env: undefined } : {}),
    ...(f.user ? { user: f.user, password_file: f["password-file"], password_env: undefined, creds: undefined } : {}),
    ...(f["tls-ca"] ? { tls: { ...(base.tls as object), ca: f["tls-ca"] } } : {}),
    agent: "cli",
  };
  const r = validate(fleetConfig, raw, "fleet");
  if (!r.ok) throw new UsageError(r.issues.map((i) => `${i.path}: ${i.message}`).join("; "));
  return r.value;
}

export interface FleetClient {
  nc: NatsConnection;
  stores: FleetStores;
  names: FleetNames;
  config: FleetConfig;
}

/** Runs `fn` on a connection to the fleet; a failure prints its reason and exits 1. */
export async function withFleet(verb: string, f: ParsedFlags<typeof FLEET_FLAGS>, ctx: CliContext, fn: (c: FleetClient) => Promise<number>): Promise<number> {
  let config: FleetConfig;
  try {
    config = configOf(f, ctx);
  } catch (err) {
    if (err instanceof ConfigError) return (console.error(err.message), 2);
    throw err;
  }
  let nc: NatsConnection | null = null;
  try {
    nc = await connect({ ...connectOptions(config, "xids-cli"), timeout: 5_000, maxReconnectAttempts: 0 });
    const names = fleetNames(config.prefix);
    return await fn({ nc, stores: await openStores(nc, names), names, config });
  } catch (err) {
    console.error(`xids fleet ${verb}: ${(err as Error).message}${nc ? "" : ` (servers ${config.servers.join(", ")})`}`);
    return 1;
  } finally {
    await nc?.close().catch(() => {});
  }
}

/** The verb's one argument as a host address (block, unblock); a usage error otherwise. */
export function addressArg(f: { _: string[] }): IpAddr {
  const addr = f._.length === 1 ? parseIp(f._[0]!) : null;
  if (!addr) throw new UsageError("expected one IPv4 or IPv6 host address");
  return addr;
}

/** The verb's one argument as a CIDR (allow, disallow); a usage error otherwise. */
export function cidrArg(f: { _: string[] }): Cidr {
  const c = f._.length === 1 ? parseCidr(f._[0]!) : { error: "expected one CIDR" };
  if ("error" in c) throw new UsageError(`expected an IPv4/IPv6 CIDR: ${c.error}`);
  return c;
}
