// gRPC plumbing shared by the plugin bus and the control API.
import * as grpc from "@grpc/grpc-js";

/** Reconnect quickly: a restarted plugin should be usable again within a fraction of a second. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.min_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 1_000,
  "grpc.enable_retries": 0,
};

export function deadline(ms: number): Date {
  return new Date(Date.now() + ms);
}

/** A gRPC error with a status code, for handlers to throw. */
export class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export function toServiceError(err: unknown): grpc.ServiceError {
  const e = err instanceof Error ? err : new Error(String(err));
  const raw = (e as unknown as { code?: unknown }).code;
  const code = e instanceof RpcError ? e.code : typeof raw === "number" ? (raw as grpc.status) : grpc.status.INTERNAL;
  return Object.assign(new Error(e.message), { code, details: e.message, metadata: new grpc.Metadata() });
}

/** Wraps an async function as a unary handler: resolved value -> OK, thrown error -> its status. */
export function unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err) => callback(toServiceError(err)),
    );
  };
}

/** Calls a unary client method as a promise. */
export function call<Req, Res>(
  method: (req: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  opts: { timeoutMs: number; metadata?: grpc.Metadata },
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(req, opts.metadata ?? new grpc.Metadata(), { deadline: deadline(opts.timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export function bindServer(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))));
}

export function shutdownServer(server: grpc.Server, graceMs = 1_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/** "unix:/x", "unix:///x" -> "/x"; null for TCP addresses. */
export function unixPath(address: string): string | null {
  if (!address.startsWith("unix:")) return null;
  return address.startsWith("unix://") ? address.slice(7) : address.slice(5);
}
