// Which NATS failures are final. A write the server refuses for permissions cannot succeed by
// retrying; the client reports it as a RequestError caused by a PermissionViolationError.
import { errors } from "@nats-io/transport-node";

export function isPermissionError(err: unknown): err is Error {
  return err instanceof errors.PermissionViolationError || (err instanceof Error && err.cause instanceof errors.PermissionViolationError);
}
