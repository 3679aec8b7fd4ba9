// The fleet plugin's configuration: the top-level `fleet:` section of the agent's config (the core
// turns it into this plugin's instance, so every problem is reported at its line under `fleet.`).
import { hostname } from "node:os";
import { join, s, type Issues, type Schema } from "../../core/config/schema.ts";

/** An agent name is one subject token: it names the agent's detections subject and status key. */
export const AGENT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;
const SERVER = /^((nats|tls):\/\/)?[^\s/:]+(:\d{1,5})?$/;

/** The host name as an agent name: its first label, other characters than [A-Za-z0-9_-] as '-'. */
export function defaultAgentName(): string {
  return (hostname().split(".")[0] || "agent").replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64);
}

const file = (what: string) => s.string({ min: 1, expected: `a ${what} file path` });

const fields = s.object({
  /** NATS servers, tried in turn (reconnects go to any of them). */
  servers: s.array(s.string({ expected: "a NATS server URL (nats://host:port or tls://host:port)", check: (v) => (SERVER.test(v) ? null : "not a NATS URL") }), { min: 1 }),
  /** This agent's name in the fleet: its detections subject and its status key. */
  agent: s.default(s.string({ pattern: AGENT_NAME, expected: "an agent name of letters, digits, '-' and '_' (at most 64)" }), defaultAgentName),
  /** Prefix of every bucket, stream and subject, so fleets can share one NATS account. */
  prefix: s.default(s.string({ pattern: PREFIX, expected: "a prefix of letters, digits, '-' and '_' (at most 32)" }), "xids"),
  /** A NATS credentials file (user JWT and nkey seed), as `nsc` writes it. */
  creds: s.optional(file("NATS credentials (.creds)")),
  /** User name for user/password authentication; the password comes from password_file or password_env. */
  user: s.optional(s.string({ min: 1, expected: "a NATS user name" })),
  password_file: s.optional(file("password")),
  password_env: s.optional(s.string({ pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, expected: "an environment variable name" })),
  /** TLS to the servers: the CA to trust, and a client certificate and key for mutual TLS. */
  tls: s.optional(s.object({ ca: s.optional(file("PEM CA")), cert: s.optional(file("PEM certificate")), key: s.optional(file("PEM private key")) })),
  /** How often this agent writes its status (heartbeat) to the agents bucket; 3 missed = stale. */
  heartbeat_ms: s.default(s.int({ min: 100, max: 600_000 }), 5_000),
  /** Writes waiting for NATS (blocks and detections, each): beyond this they are dropped, counted. */
  queue_size: s.default(s.int({ min: 1, max: 1_000_000 }), 10_000),
  /** Delay between reconnect attempts. */
  reconnect_wait_ms: s.default(s.int({ min: 10, max: 60_000 }), 1_000),
});

export type FleetConfig = NonNullable<ReturnType<typeof fields.check>>;

/** Rules across keys, reported at the key that breaks them. */
function crossCheck(c: FleetConfig): { key: string; message: string } | null {
  const password = [c.password_file, c.password_env].filter((x) => x !== undefined).length;
  if (password > 1) return { key: "password_file", message: "expected at most one of 'password_file' or 'password_env'" };
  if (password === 1 && c.user === undefined) return { key: "user", message: "required with a password: expected a NATS user name" };
  if (c.user !== undefined && password === 0) return { key: "user", message: "expected 'password_file' or 'password_env' with 'user' (a password is never written in the config)" };
  if (c.user !== undefined && c.creds !== undefined) return { key: "creds", message: "expected either 'creds' or 'user', not both" };
  if (c.tls && (c.tls.cert === undefined) !== (c.tls.key === undefined)) return { key: "tls", message: "expected both 'cert' and 'key' (a client certificate needs its key), or neither" };
  return null;
}

export const fleetConfig: Schema<FleetConfig> = {
  ...fields,
  check(v: unknown, path: string, issues: Issues) {
    const out = fields.check(v, path, issues);
    const bad = out && crossCheck(out);
    if (!bad) return out;
    issues.add(join(path, bad.key), bad.message);
    return undefined;
  },
};
