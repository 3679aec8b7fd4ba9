// The layouts of the maps only the kernel reads and writes (flow tables, source contexts), mirrored
// here so abi.test.ts checks them against bpf/xids.h like the ones user space uses (core/ebpf/abi.ts).
import { defineStruct } from "../../native/struct.ts";
import { NUM_COUNTERS } from "../../core/ebpf/abi.ts";

/** The per-CPU "counters" map's one value (key 0): each CPU's block, indexed by enum xids_counter
 *  (user space reads it as u64s: BpfMap.sumU64). */
export const CounterBlock = defineStruct("xids_counters", [["c", { array: "u64", length: NUM_COUNTERS }]] as const);

export const Flow4Key = defineStruct("xids_flow4_key", [
  ["a_addr", { bytes: 4 }],
  ["b_addr", { bytes: 4 }],
  ["a_port", "u16"],
  ["b_port", "u16"],
  ["proto", "u8"],
  ["pad", { bytes: 3 }],
] as const);

export const Flow6Key = defineStruct("xids_flow6_key", [
  ["a_addr", { bytes: 16 }],
  ["b_addr", { bytes: 16 }],
  ["a_port", "u16"],
  ["b_port", "u16"],
  ["proto", "u8"],
  ["pad", { bytes: 3 }],
] as const);

export const FlowAccStruct = defineStruct("xids_flow_acc", [
  ["first_us", "u64"],
  ["sum_p2", "u64"],
  ["sum_g2", "u64"],
  ["iat_total", "u32"],
  ["n", "u32"],
  ["sum_p", "u32"],
  ["hdr_sum", "u32"],
  ["gap_max", "u32"],
  ["gap_min", "u32"],
  ["act_data", "u32"],
  ["ack_base", "u32"],
  ["acked", "u32"],
  ["p_max", "u16"],
  ["p_min", "u16"],
  ["init_win", "u16"],
  ["psh", "u16"],
  ["urg", "u16"],
  ["seg_min", "u8"],
  ["flags", "u8"],
  ["line_len", "u16"],
  ["line_meta", "u16"],
  ["enc_meta", "u16"],
] as const);

export const CTX_PORT_WORDS = 2;
export const CTX_SAME_PORT = 16;

export const CtxWindow = defineStruct("xids_ctx_window", [
  ["started", "u32"],
  ["ended", "u32"],
  ["no_handshake", "u32"],
  ["rst", "u32"],
  ["short_flows", "u32"],
  ["pad", "u32"],
  ["payload", "u64"],
  ["acked", "u64"],
  ["ports", { array: "u64", length: CTX_PORT_WORDS }],
  ["addrs", "u64"],
  ["same_port", { array: "u16", length: CTX_SAME_PORT }],
] as const);

export const CtxPending = defineStruct("xids_ctx_pending", [
  ["at_us", "u64"],
  ["ended", "u32"],
  ["no_handshake", "u32"],
  ["rst", "u32"],
  ["short_flows", "u32"],
  ["payload", "u64"],
  ["acked", "u64"],
] as const);

export const SrcCtx = defineStruct("xids_src_ctx", [
  ["short_start_us", "u64"],
  ["long_start_us", "u64"],
  ["short_cur", "u32"],
  ["short_prev", "u32"],
  ["cur", CtxWindow],
  ["prev", CtxWindow],
  ["pending", CtxPending],
] as const);

export const KERNEL_STRUCTS = [Flow4Key, Flow6Key, FlowAccStruct, CtxWindow, CtxPending, SrcCtx, CounterBlock];
