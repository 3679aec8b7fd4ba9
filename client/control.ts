// Control API client used by the CLI verbs and tests: promise-returning calls with deadlines,
// over the unix socket (default) or TCP with a bearer token and/or TLS.
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import {
  AllowRequest,
  BlockRequest,
  ControlClient as GenClient,
  DisallowRequest,
  ExplainRequest,
  GetStatsRequest,
  ListBlockedRequest,
  PushModelRequest,
  ReloadRequest,
  ShadowPromoteRequest,
  ShadowReportRequest,
  ShadowStartRequest,
  ShadowStopRequest,
  StatusRequest,
  UnblockRequest,
  WatchRequest,
  type WatchEvent,
} from "../proto/gen/xids/control/v1/control.ts";
import { CHANNEL_OPTIONS, call } from "../core/bus/grpc.ts";

export const DEFAULT_SOCKET = "/run/xids/control.sock";

export interface ControlTarget {
  /** unix socket path (default /run/xids/control.sock) unless `address` is given. */
  socket?: string;
  /** host:port for TCP. */
  address?: string;
  token?: string;
  /** TLS for TCP: CA to verify the server; cert/key for mTLS. */
  tls?: { ca?: string; cert?: string; key?: string; serverName?: string };
  timeoutMs?: number;
}

export function connectControl(target: ControlTarget = {}) {
  const address = target.address ?? `unix:${target.socket ?? DEFAULT_SOCKET}`;
  const creds = target.tls
    ? grpc.credentials.createSsl(
        target.tls.ca ? readFileSync(target.tls.ca) : null,
        target.tls.key ? readFileSync(target.tls.key) : null,
        target.tls.cert ? readFileSync(target.tls.cert) : null,
      )
    : grpc.credentials.createInsecure();
  // Own connection per client: a paused Watch stream must not hold up other clients in this process.
  const options: grpc.ChannelOptions = { ...CHANNEL_OPTIONS, "grpc.use_local_subchannel_pool": 1 };
  if (target.tls?.serverName) options["grpc.ssl_target_name_override"] = target.tls.serverName;
  const client = new GenClient(address, creds, options);
  const metadata = () => {
    const md = new grpc.Metadata();
    if (target.token) md.set("authorization", `Bearer ${target.token}`);
    return md;
  };
  const opts = () => ({ timeoutMs: target.timeoutMs ?? 10_000, metadata: metadata() });
  return {
    address,
    status: () => call(client.status.bind(client), StatusRequest.create(), opts()),
    block: (address: string, ttlSeconds = 0, reason = 0) => call(client.block.bind(client), BlockRequest.create({ address, ttlSeconds, reason }), opts()),
    unblock: (address: string) => call(client.unblock.bind(client), UnblockRequest.create({ address }), opts()),
    /** One page (default: the first 1,000 in address order) with the totals. */
    listBlocked: (page: { offset?: number; limit?: number; q?: string } = {}) => call(client.listBlocked.bind(client), ListBlockedRequest.create(page), opts()),
    allow: (cidr: string) => call(client.allow.bind(client), AllowRequest.create({ cidr }), opts()),
    disallow: (cidr: string) => call(client.disallow.bind(client), DisallowRequest.create({ cidr }), opts()),
    pushModel: (artifactPath: string, target = "", timeoutMs = 60_000) =>
      call(client.pushModel.bind(client), PushModelRequest.create({ artifactPath, target }), { timeoutMs, metadata: metadata() }),
    getStats: () => call(client.getStats.bind(client), GetStatsRequest.create(), opts()),
    explain: (address: string) => call(client.explain.bind(client), ExplainRequest.create({ address }), opts()),
    /** A reload may restart plugins and push models: a deadline like PushModel's. */
    reload: (timeoutMs = 60_000) => call(client.reload.bind(client), ReloadRequest.create(), { timeoutMs, metadata: metadata() }),
    shadowStart: (artifactPath: string) => call(client.shadowStart.bind(client), ShadowStartRequest.create({ artifactPath }), opts()),
    shadowReport: (maxFlows = 0) => call(client.shadowReport.bind(client), ShadowReportRequest.create({ maxFlows }), opts()),
    shadowStop: () => call(client.shadowStop.bind(client), ShadowStopRequest.create(), opts()),
    /** A promotion is a PushModel: the same deadline. */
    shadowPromote: (artifactPath = "", timeoutMs = 60_000) =>
      call(client.shadowPromote.bind(client), ShadowPromoteRequest.create({ artifactPath }), { timeoutMs, metadata: metadata() }),
    /** Server stream; call `cancel()` on the result to stop. `onSubscribed`: the agent took the client (its headers). */
    watch(req: { detections: boolean; flows: boolean }, onEvent: (ev: WatchEvent) => void, onEnd: (err: grpc.ServiceError | null) => void, onSubscribed?: () => void) {
      const stream = client.watch(WatchRequest.create(req), metadata());
      if (onSubscribed) stream.once("metadata", onSubscribed);
      stream.on("data", onEvent);
      stream.on("error", (err: grpc.ServiceError) => onEnd(err));
      stream.on("end", () => onEnd(null));
      return stream;
    },
    close: () => client.close(),
  };
}

export type Control = ReturnType<typeof connectControl>;

/** "2 UNKNOWN: x" -> "x": the server's message without grpc-js's prefix. */
export function rpcMessage(err: unknown): string {
  const e = err as grpc.ServiceError;
  if (e && typeof e.code === "number" && typeof e.details === "string") return `${grpc.status[e.code]}: ${e.details}`;
  return err instanceof Error ? err.message : String(err);
}
