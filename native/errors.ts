// Typed errors, in the spirit of cilium/ebpf: a verifier rejection carries the verifier log;
// a missing kernel feature is distinguishable from any other failure.

export class BpfError extends Error {
  constructor(message: string, readonly op: string, readonly errno: number, readonly log = "") {
    super(message);
    this.name = "BpfError";
  }
}

/** The verifier (or libbpf while loading) rejected a program; `log` holds what it said. */
export class VerifierError extends BpfError {
  override name = "VerifierError";
}

/** The running kernel lacks what was asked for (EOPNOTSUPP / ENOTSUPP). */
export class NotSupportedError extends BpfError {
  override name = "NotSupportedError";
}

interface NativeErrorShape { message: string; op?: string; errno?: number; kind?: string; log?: string }

/** Re-throws an error from the addon as the matching typed error. */
export function translateNativeError(err: unknown): never {
  if (!(err instanceof Error)) throw err;
  const e = err as Error & NativeErrorShape;
  if (e.kind === undefined) throw err;
  const args = [e.message, e.op ?? "", e.errno ?? 0, e.log ?? ""] as const;
  if (e.kind === "verifier") throw new VerifierError(`${e.message}\n${tail(e.log ?? "")}`, args[1], args[2], args[3]);
  if (e.kind === "not_supported") throw new NotSupportedError(...args);
  throw new BpfError(...args);
}

/** Runs a native call and converts its errors. */
export function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    translateNativeError(err);
  }
}

// The end of a verifier log is where the reason is; keep messages readable.
function tail(log: string, lines = 12): string {
  return log.trimEnd().split("\n").slice(-lines).join("\n");
}
