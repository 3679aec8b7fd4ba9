// Request validation for the control API: every field checked before anything changes; a bad
// request fails with INVALID_ARGUMENT and a message naming the field and what was expected.
import { isAbsolute } from "node:path";
import { status } from "@grpc/grpc-js";
import { RpcError } from "../bus/grpc.ts";
import { describe } from "../config/schema.ts";
import { ipError, parseCidr, parseIp, type Cidr, type IpAddr } from "../util/net.ts";
import { queryError } from "../observe/block-pages.ts";
import type { BlockRequest, ListBlockedRequest, PushModelRequest, WatchRequest } from "../../proto/gen/xids/control/v1/control.ts";

export const MAX_TTL_SECONDS = 31_536_000; // one year
export const MAX_REASON = 15;
export const LIST_PAGE = 1_000, MAX_LIST_PAGE = 10_000;

export function invalid(field: string, message: string): RpcError {
  return new RpcError(status.INVALID_ARGUMENT, `${field}: ${message}`);
}

export function hostAddress(field: string, text: string): IpAddr {
  if (text === "") throw invalid(field, "required: expected an IPv4 or IPv6 host address");
  const why = ipError(text);
  if (why) throw invalid(field, `expected an IPv4 or IPv6 host address, got ${describe(text)} (${why})`);
  return parseIp(text)!;
}

export function cidr(field: string, text: string): Cidr {
  if (text === "") throw invalid(field, "required: expected a CIDR such as 198.18.0.0/15 or 2001:2::/48");
  const c = parseCidr(text);
  if ("error" in c) throw invalid(field, `expected a CIDR such as 198.18.0.0/15 or 2001:2::/48, got ${describe(text)} (${c.error})`);
  return c;
}

export function checkBlock(req: BlockRequest): { addr: IpAddr; ttlSeconds: number; reason: number } {
  const addr = hostAddress("address", req.address);
  if (req.ttlSeconds > MAX_TTL_SECONDS) throw invalid("ttl_seconds", `expected at most ${MAX_TTL_SECONDS} (one year; 0 = permanent), got ${req.ttlSeconds}`);
  if (req.reason > MAX_REASON) throw invalid("reason", `expected an integer in [0, ${MAX_REASON}], got ${req.reason}`);
  return { addr, ttlSeconds: req.ttlSeconds, reason: req.reason };
}

/** [offset, limit, q]; limit 0 (unset: an old client's empty request) is the default page. */
export function checkListBlocked(r: ListBlockedRequest): [number, number, string] {
  if (r.limit > MAX_LIST_PAGE) throw invalid("limit", `expected at most ${MAX_LIST_PAGE} (0 = ${LIST_PAGE}), got ${r.limit}`);
  if (queryError(r.q)) throw invalid("q", queryError(r.q)!);
  return [r.offset, r.limit || LIST_PAGE, r.q];
}

export function checkWatch(req: WatchRequest): { detections: boolean; flows: boolean } {
  if (!req.detections && !req.flows) throw invalid("detections/flows", "expected at least one of detections or flows to be true");
  return { detections: req.detections, flows: req.flows };
}

export function artifactPath(field: string, text: string): string {
  if (text === "") throw invalid(field, "required: expected the absolute path of an artifact folder");
  if (!isAbsolute(text)) throw invalid(field, `expected an absolute path, got ${describe(text)}`);
  return text;
}

export function checkPushModel(req: PushModelRequest, targets: string[]): { path: string; target: string } {
  artifactPath("artifact_path", req.artifactPath);
  if (req.target !== "" && !targets.includes(req.target)) {
    throw invalid("target", `no model plugin "${req.target}" (running: ${targets.join(", ") || "none"})`);
  }
  return { path: req.artifactPath, target: req.target };
}
