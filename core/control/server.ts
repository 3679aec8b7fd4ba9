// The control API server. By default it listens only on a unix socket created with mode 0600 in a
// 0700 directory; TCP is served only when configured with a bearer token and/or mTLS (the config
// check refuses TCP without either). Every request is validated before it touches any state.
import { chmodSync, mkdirSync, readFileSync, unlinkSync, lstatSync } from "node:fs";
import { timingSafeEqual } from "node:crypto";
import { dirname } from "node:path";
import { connect } from "node:net";
import * as grpc from "@grpc/grpc-js";
import {
  BlockResponse,
  ControlService,
  DisallowResponse,
  ListBlockedResponse,
  AllowResponse,
  UnblockResponse,
  type ControlServer,
  type PushModelResponse,
  type ReloadResponse,
  type Stats,
  type StatusResponse,
  type BlockedHost,
  type WatchEvent,
  type ExplainResponse,
} from "../../proto/gen/xids/control/v1/control.ts";
import { RpcError, bindServer, shutdownServer, toServiceError, unary } from "../bus/grpc.ts";
import type { XidsConfig } from "../config/config.ts";
import type { Cidr, IpAddr } from "../util/net.ts";
import { readSecretFile } from "../util/secrets.ts";
import type { Logger } from "../plugin-api/types.ts";
import type { Shadow } from "../plugin-api/services.ts";
import { artifactPath, checkBlock, checkListBlocked, checkPushModel, checkWatch, cidr, hostAddress } from "./validate.ts";
import type { WatchHub } from "./watch.ts";
import type { BlockPages } from "../observe/block-pages.ts";

/** What the control API drives: implemented by the agent. */
export interface ControlBackend {
  status(): StatusResponse;
  block(addr: IpAddr, ttlSeconds: number, reason: number): BlockedHost;
  unblock(addr: IpAddr): boolean;
  readonly blockPages: BlockPages;
  /** Adds the CIDR; answers its canonical form and how many blocks it lifted. */
  allow(cidr: Cidr): { cidr: string; unblocked: number };
  disallow(cidr: Cidr): boolean;
  modelTargets(): string[];
  pushModel(artifactPath: string, target: string): Promise<PushModelResponse>;
  stats(): Stats;
  explain(addr: IpAddr): Promise<ExplainResponse>;
  reload(): Promise<ReloadResponse>;
  readonly watch: WatchHub;
  /** The shadow model's evaluator; null: this core was started without one. */
  readonly shadow: Shadow | null;
}

function bearerCheck(token: string | null): (md: grpc.Metadata) => void {
  if (token === null) return () => {};
  const want = Buffer.from(`Bearer ${token}`);
  return (md) => {
    const got = md.get("authorization")[0];
    const buf = Buffer.from(typeof got === "string" ? got : "");
    if (buf.length !== want.length || !timingSafeEqual(buf, want)) {
      throw new RpcError(grpc.status.UNAUTHENTICATED, "missing or wrong bearer token (metadata 'authorization: Bearer <token>')");
    }
  };
}

export function controlHandlers(backend: ControlBackend, auth: (md: grpc.Metadata) => void, log: Logger): ControlServer {
  const guarded = <Req, Res>(fn: (req: Req) => Promise<Res> | Res) =>
    unary<Req, Res>(async (req, call) => {
      auth(call.metadata);
      return fn(req);
    });
  return {
    status: guarded(() => backend.status()),
    block: guarded((req) => {
      const r = checkBlock(req);
      const entry = backend.block(r.addr, r.ttlSeconds, r.reason);
      log.info(`control: blocked ${r.addr.text} ttl ${r.ttlSeconds}s reason ${r.reason}`);
      return BlockResponse.create({ entry });
    }),
    unblock: guarded((req) => {
      const addr = hostAddress("address", req.address);
      const removed = backend.unblock(addr);
      log.info(`control: unblock ${addr.text}: ${removed ? "removed" : "was not blocked"}`);
      return UnblockResponse.create({ removed });
    }),
    listBlocked: guarded((req) => ListBlockedResponse.create(backend.blockPages.page(...checkListBlocked(req)))),
    allow: guarded((req) => AllowResponse.create(backend.allow(cidr("cidr", req.cidr)))),
    disallow: guarded((req) => DisallowResponse.create({ removed: backend.disallow(cidr("cidr", req.cidr)) })),
    pushModel: guarded(async (req) => {
      const r = checkPushModel(req, backend.modelTargets());
      return backend.pushModel(r.path, r.target);
    }),
    getStats: guarded(() => backend.stats()),
    explain: guarded((req) => backend.explain(hostAddress("address", req.address))),
    reload: guarded(() => backend.reload()),
    shadowStart: guarded((req) => shadowOf(backend).start(artifactPath("artifact_path", req.artifactPath))),
    shadowReport: guarded((req) => shadowOf(backend).report(req.maxFlows)),
    shadowStop: guarded(() => shadowOf(backend).stop()),
    shadowPromote: guarded((req) => shadowOf(backend).promote(req.artifactPath && artifactPath("artifact_path", req.artifactPath))),
    watch(stream) {
      let client: ReturnType<WatchHub["subscribe"]> = null;
      try {
        auth(stream.metadata);
        const filter = checkWatch(stream.request);
        client = backend.watch.subscribe(
          filter,
          (ev: WatchEvent) => stream.write(ev),
          (fn) => stream.once("drain", fn),
        );
        if (!client) throw new RpcError(grpc.status.RESOURCE_EXHAUSTED, `too many watch clients (max ${backend.watch.maxClients})`);
        stream.sendMetadata(new grpc.Metadata()); // at once, not with the first event: the client knows it is subscribed
      } catch (err) {
        stream.emit("error", toServiceError(err));
        return;
      }
      const c = client;
      const done = () => backend.watch.unsubscribe(c);
      stream.on("cancelled", done);
      stream.on("close", done);
      stream.on("error", done);
    },
  };
}

function shadowOf(backend: ControlBackend): Shadow {
  if (!backend.shadow) throw new RpcError(grpc.status.FAILED_PRECONDITION, "this core was started without a shadow evaluator");
  return backend.shadow;
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
    setTimeout(() => done(false), 1_000);
  });
}

export interface ControlServerHandle {
  socket: string;
  tcpAddress: string | null;
  close(): Promise<void>;
}

/** Starts the control API per `config.control`. */
export async function startControlServer(cfg: XidsConfig["control"], backend: ControlBackend, log: Logger): Promise<ControlServerHandle> {
  const servers: grpc.Server[] = [];
  // Unix socket: owner-only. The directory is created 0700 and the socket chmod-ed to 0600; the
  // umask makes it 0600 from the moment it exists.
  const dir = dirname(cfg.socket);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let isSocket = false;
  try {
    isSocket = lstatSync(cfg.socket).isSocket();
  } catch {
    // absent
  }
  if (isSocket) {
    // A live socket belongs to a running core: never steal it. A dead one is left from a crash.
    if (await socketAnswers(cfg.socket)) throw new Error(`control socket ${cfg.socket} is in use (another xids is running)`);
    unlinkSync(cfg.socket);
  }
  const unixServer = new grpc.Server();
  unixServer.addService(ControlService, controlHandlers(backend, () => {}, log));
  const oldMask = process.umask(0o177);
  try {
    await bindServer(unixServer, `unix:${cfg.socket}`, grpc.ServerCredentials.createInsecure());
  } finally {
    process.umask(oldMask);
  }
  chmodSync(cfg.socket, 0o600);
  servers.push(unixServer);

  let tcpAddress: string | null = null;
  if (cfg.tcp) {
    const t = cfg.tcp;
    const token = t.token ?? (t.token_file ? readSecretFile(t.token_file, "control.tcp.token_file") : null);
    if (token !== null && token.length < 16) throw new Error(`control.tcp.token_file: the token must be at least 16 characters`);
    const creds = t.tls
      ? grpc.ServerCredentials.createSsl(
          t.tls.client_ca ? readFileSync(t.tls.client_ca) : null,
          [{ cert_chain: readFileSync(t.tls.cert), private_key: readFileSync(t.tls.key) }],
          t.tls.client_ca !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    if (token === null && !t.tls?.client_ca) throw new Error("control.tcp needs a bearer token or mTLS");
    const tcpServer = new grpc.Server();
    tcpServer.addService(ControlService, controlHandlers(backend, bearerCheck(token), log));
    const port = await bindServer(tcpServer, t.listen, creds);
    tcpAddress = t.listen.replace(/:0$/, `:${port}`);
    servers.push(tcpServer);
    log.info(`control API on tcp ${tcpAddress} (${[token !== null ? "bearer token" : "", t.tls?.client_ca ? "mTLS" : t.tls ? "TLS" : ""].filter(Boolean).join(" + ")})`);
  }
  log.info(`control API on unix:${cfg.socket} (mode 0600)`);
  return {
    socket: cfg.socket,
    tcpAddress,
    async close() {
      backend.watch.closeAll();
      await Promise.all(servers.map((s) => shutdownServer(s, 500)));
      try {
        unlinkSync(cfg.socket);
      } catch {
        // already gone
      }
    },
  };
}
