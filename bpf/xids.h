/* SPDX-License-Identifier: MIT */
/*
 * xids.h - the ONE header shared by the XDP programs (xids.bpf.c) and user space.
 *
 * User space mirrors it in core/ebpf/abi.ts; test/dataplane/abi.test.ts checks the mirror
 * against the BTF of the built object (sizes, offsets, enum values), so a change here that is not
 * made there fails the suite. Keep it plain C: fixed-width types, explicit padding, no pointers.
 */
#ifndef XIDS_H
#define XIDS_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <stdint.h>
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int32_t __s32;
typedef int64_t __s64;
#endif

/* Map names: the variable names in xids.bpf.c, used verbatim by user space (abi.ts MAPS). */
/*   flows4 flows6 blocklist allow4 allow6 allow_used local_addrs syn_limit counters events scratch */
/*   srcctx */

#define XIDS_NUM_FLOW_FEATURES 22 /* the flow's own, FEATURES.md 0..21 */
#define XIDS_NUM_CONTEXT_FEATURES 10 /* its source's context at flow end, FEATURES.md 22..31 */
#define XIDS_NUM_PAYLOAD_FEATURES 3  /* the flow's first forward payload, FEATURES.md 32..34 */
#define XIDS_NUM_ACKED_FEATURES 2    /* what its forward ACKs acknowledged, FEATURES.md 35..36 */
#define XIDS_NUM_FEATURES 37
#define XIDS_SCAN_WINDOW 512     /* bytes of a flow's first forward TCP payload the scan reads */
#define XIDS_MAX_VLAN 2          /* 802.1Q / 802.1ad tags parsed; a third tag is malformed */
#define XIDS_MAX_IPV6_EXT 8      /* IPv6 extension headers walked; more is malformed */
#define XIDS_MAX_HDR_OFF 1024    /* an L4 header starting beyond this offset is malformed */
#define XIDS_MAX_BLOCK_REASONS 16 /* drop counters per reason; larger reasons count in the last */
#define XIDS_SWEEP_MAGIC 0x58534550 /* "XSEP": sanity tag of a sweep command */

/* Why a flow record was produced. */
enum xids_end_reason {
	XIDS_END_NONE = 0,
	XIDS_END_FIN = 1,      /* a FIN (either direction) ended it; that packet is counted */
	XIDS_END_RST = 2,      /* a RST (either direction) ended it; that packet is counted */
	XIDS_END_IDLE = 3,     /* no forward packet for cfg_idle_timeout_ns */
	XIDS_END_ACTIVE = 4,   /* cfg_active_timeout_ns since the first packet (CICFlowMeter's 120 s) */
	XIDS_END_EARLY = 5,    /* cfg_early_end_pkts forward packets seen */
	XIDS_END_OVERFLOW = 6, /* the next packet would overflow an accumulator: ended to stay exact */
	XIDS_END_EOC = 7,      /* flushed by user space (end of capture / shutdown) */
	XIDS_END__MAX = 8,
};

enum xids_verdict {
	XIDS_VERDICT_NONE = 0, /* no in-kernel model ran */
	XIDS_VERDICT_BENIGN = 1,
	XIDS_VERDICT_ATTACK = 2,
};

/* Per-CPU counters: the map "counters" is a per-CPU array with ONE entry (key 0) whose value is
 * struct xids_counters, indexed by this enum. A packet looks its CPU's block up once and bumps
 * counters with plain adds; user space sums the blocks over CPUs. */
enum xids_counter {
	XIDS_C_PKTS_SEEN = 0,
	XIDS_C_BYTES_SEEN = 1,
	XIDS_C_PKTS_PASSED = 2,
	XIDS_C_BYTES_PASSED = 3,
	XIDS_C_PKTS_DROPPED = 4,
	XIDS_C_BYTES_DROPPED = 5,
	XIDS_C_DROP_BLOCKED = 6,    /* packets dropped because the source is blocked */
	XIDS_C_DROP_MALFORMED = 7,  /* malformed packets dropped (cfg_drop_malformed) */
	XIDS_C_MALFORMED = 8,       /* malformed or truncated packets (passed or dropped) */
	XIDS_C_NON_IP = 9,          /* neither IPv4 nor IPv6 (ARP, LLDP, ...) */
	XIDS_C_FRAGMENT = 10,       /* non-first IP fragments: never parsed as L4 */
	XIDS_C_OTHER_L4 = 11,       /* IP, but not TCP/UDP/ICMP/ICMPv6 (or ESP, no-next-header) */
	XIDS_C_ALLOWED = 12,        /* packets whose source matched the allow list */
	XIDS_C_BLOCK_EXPIRED = 13,  /* block entries removed lazily on expiry */
	XIDS_C_FLOWS_STARTED = 14,
	XIDS_C_FLOWS_ENDED = 15,
	XIDS_C_FLOW_INSERT_FAILED = 16,
	XIDS_C_RECORDS_EMITTED = 17,
	XIDS_C_RECORDS_LOST = 18,   /* ring buffer full: the record is lost (the flow is still ended) */
	XIDS_C_END_BASE = 19,       /* + enum xids_end_reason (0..7): flows ended per reason */
	XIDS_C_DROP_REASON_BASE = 27, /* + block reason (0..15): blocked drops per reason */
	XIDS_C_VERDICT_BENIGN = 43, /* flows the in-kernel model called benign */
	XIDS_C_VERDICT_ATTACK = 44, /* flows the in-kernel model called an attack */
	XIDS_C_BLOCKS_ADDED = 45,   /* sources blocked by an attack verdict */
	XIDS_C_INFER_ABORTED = 46,  /* classifications that could not finish (record sent without verdict) */
	XIDS_C_TAIL_ABSORBED = 47,  /* bare TCP packets right after a FIN/RST end: not a new flow */
	XIDS_C_CTX_NEW = 48,        /* source contexts created (a source not in srcctx: new, or evicted) */
	XIDS_C_CTX_INSERT_FAILED = 49, /* a context could not be inserted (the flow's context reads 0) */
	XIDS_C_BLOCK_FAILED = 50,   /* a block decided by the policy that the block list refused */
	XIDS_C_BLOCK_EVICTED = 51,  /* entries evicted to make room (block list full, policy evict) */
	XIDS_C_EXEMPT = 52,         /* flows never classified: neighbour discovery, link-local, multicast ... */
	XIDS_C_BLOCK_LONE_PACKET = 53, /* attack verdicts not acted on: the source sent one packet, nothing else */
	XIDS_C_BLOCK_NEVER = 54,    /* attack verdicts on a never-block address (this host's own) */
	XIDS_C_SELF_SWEEPS = 55,    /* timeout sweeps the XDP program ran itself (no user-space sweep) */
	XIDS_C_SYN_LIMITED = 56,    /* SYNs dropped by the per-destination rate limit (cfg_syn_interval_ns) */
	XIDS_C__MAX = 57,
};

struct xids_counters {
	__u64 c[XIDS_C__MAX];
};

/* Flow table keys are canonical: endpoint "a" is the smaller (address, port) in big-endian
 * byte order, so both directions of a conversation find the same entry with one lookup. The
 * entry's XIDS_FL_FWD_IS_B flag remembers which endpoint sent the first (forward) packet. */
struct xids_flow4_key {
	__u8 a_addr[4];
	__u8 b_addr[4];
	__u16 a_port; /* host byte order; 0 for ICMP */
	__u16 b_port;
	__u8 proto;
	__u8 pad[3];
};

struct xids_flow6_key {
	__u8 a_addr[16];
	__u8 b_addr[16];
	__u16 a_port;
	__u16 b_port;
	__u8 proto;
	__u8 pad[3];
};

#define XIDS_FL_FWD_IS_B 0x01 /* the forward direction is b -> a */
#define XIDS_FL_RST 0x02      /* a forward packet carried RST (Fwd RST Flags is 0 or 1: RST ends) */
#define XIDS_FL_SYN0 0x04     /* the first forward packet was a SYN without ACK (a handshake began) */
#define XIDS_FL_ACK 0x08      /* some forward packet carried ACK (the handshake went on) */
#define XIDS_FL_EXEMPT 0x10   /* never classified: every forward packet was neighbour discovery / MLD,
			       * or a source or destination that is link-local, multicast, ... */
#define XIDS_FL_SCANNED 0x20  /* the first forward TCP payload was scanned (FEATURES.md 32..34) */

/* The furthest one forward ACK may move Fwd Acked Bytes on (FEATURES.md 35): 16 MiB. A real
 * receiver acknowledges what arrived since its last ACK, a window's worth at most; forged ACKs with
 * random numbers (a random-ACK flood) jump by up to 2^31 and would read as a large download. */
#define XIDS_ACK_MAX_STEP 0x1000000U

/* What the data plane did about a flow's source after its in-kernel verdict (the record's
 * block_action): user space reports exactly this, never what it assumes. */
enum xids_block_action {
	XIDS_BLOCK_NONE = 0,       /* no attack verdict (benign, or no model ran) */
	XIDS_BLOCK_BLOCKED = 1,    /* the source is in the block list now */
	XIDS_BLOCK_NOT_YET = 2,    /* the block policy wants more evidence (record: evidence) */
	XIDS_BLOCK_ALLOWED = 3,    /* the source is on the allow list */
	XIDS_BLOCK_NEVER = 4,      /* the source is an address of this host (local_addrs) */
	XIDS_BLOCK_FAILED = 5,     /* the block list refused the entry (record: block_error) */
	XIDS_BLOCK_ALERT = 6,      /* the model action is alert only */
	XIDS_BLOCK_LONE_PACKET = 7, /* the source sent one packet and nothing else (as spoofed floods do) */
	XIDS_BLOCK_EXEMPT = 8,     /* the flow was never classified (XIDS_FL_EXEMPT) */
};

/* Forward-direction accumulators, 72 bytes. Times are µs (each timestamp truncated to µs first,
 * as FEATURES.md). Every 32/16-bit accumulator is exact: a forward packet that would overflow one
 * ends the flow first (XIDS_END_OVERFLOW) and starts a new flow. */
struct xids_flow_acc {
	__u64 first_us; /* time of the first packet */
	__u64 sum_p2;   /* Σ payload² (≤ 2^16 · 2^32) */
	__u64 sum_g2;   /* Σ gap² (≤ (Σ gap)² < 2^64) */
	__u32 iat_total; /* last forward packet - first_us (= Σ gaps) */
	__u32 n;         /* forward packets */
	__u32 sum_p;     /* Σ L4 payload bytes */
	__u32 hdr_sum;   /* Σ L4 header bytes (TCP with options; 8 for UDP/ICMP) */
	__u32 gap_max;
	__u32 gap_min;
	__u32 act_data;  /* forward packets with payload ≥ 1 */
	__u32 ack_base;  /* TCP: acknowledgment number of the first forward packet with ACK (XIDS_FL_ACK) */
	__u32 acked;     /* ... the furthest later one, minus ack_base (mod 2^32, advances < 2^31 and steps <= XIDS_ACK_MAX_STEP only) */
	__u16 p_max;
	__u16 p_min;
	__u16 init_win;  /* TCP window of the first packet, raw */
	__u16 psh;
	__u16 urg;
	__u8 seg_min;    /* min L4 header length */
	__u8 flags;      /* XIDS_FL_* */
	__u16 line_len;  /* first forward TCP payload: bytes before its first CR/LF (≤ XIDS_SCAN_WINDOW) */
	__u16 line_meta; /* ... metacharacters in that line */
	__u16 enc_meta;  /* ... %-encoded metacharacters in its scan window */
};

/* One record per ended flow (ring buffer "events"), forward orientation. IPv4 addresses use the
 * first 4 bytes of src/dst (the rest zero). */
struct xids_flow_record {
	__u8 family;     /* 4 or 6 */
	__u8 proto;
	__u8 end_reason; /* enum xids_end_reason */
	__u8 verdict;    /* enum xids_verdict; NONE until a classifier runs */
	__u16 src_port;
	__u16 dst_port;
	__u8 src[16];
	__u8 dst[16];
	__u64 first_us;  /* first forward packet, µs of the data-plane clock */
	__u64 last_us;   /* last forward packet */
	__s32 score;     /* classifier score (1/s units, INT32_SPEC.md); 0 when none */
	__u8 model_slot;
	__u8 block_action; /* enum xids_block_action */
	__u16 evidence;    /* attack verdicts the block policy counted for the source (saturating) */
	__u32 model_version;
	__s32 block_error; /* XIDS_BLOCK_FAILED: the negative errno of the block list update */
	__u64 features[XIDS_NUM_FEATURES]; /* FEATURES.md order */
};

/* Block list ("blocklist", hash): keyed by source address. */
struct xids_block_key {
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16];
};

struct xids_block_val {
	__u64 expires_ns; /* data-plane clock (CLOCK_MONOTONIC, or the test clock); 0 = permanent */
	__u32 reason;     /* user-defined code; drops are counted per reason */
	__u32 pad;
	__u64 hits;       /* packets dropped by this entry */
	__u64 added_ns;   /* when the entry was written (data-plane clock) */
	__u64 first_drop_ns; /* the first packet it dropped; 0 = none yet (detection latency) */
};

/* Evidence per source ("evidence", LRU hash keyed like the block list): the in-kernel verdicts
 * of its flows in the current window and the one before, for the block policy
 * (cfg_block_min_attacks/_pct over a sliding window). */
struct xids_evidence {
	__u64 window_start_ns; /* data-plane clock: start of the current window */
	__u32 attacks;         /* verdicts in the current window */
	__u32 benign;
	__u32 prev_attacks;    /* verdicts in the window before it */
	__u32 prev_benign;
};

/* Source context ("srcctx", LRU hash keyed like the block list): what one source has been doing
 * across its flows, updated when a flow starts and when it ends (never per mid-flow packet). Two
 * windows slide: a short one (flows started) and a long one (everything), each as the current
 * bucket plus the previous one, weighted by the part of it still inside the window. FEATURES.md
 * 22..31 defines the features read from it at flow end. */
#define XIDS_CTX_PORT_WORDS 2   /* 128-bit sketch of destination ports */
#define XIDS_CTX_SAME_PORT 16   /* flows per destination-port bucket */

struct xids_ctx_window {
	__u32 started;      /* flows the source started */
	__u32 ended;        /* ... and that ended */
	__u32 no_handshake; /* ended TCP flows: a SYN and no forward ACK after it */
	__u32 rst;          /* ended by RST */
	__u32 short_flows;  /* ended with at most 3 forward packets */
	__u32 pad;
	__u64 payload;      /* forward payload bytes of the ended flows */
	__u64 acked;        /* bytes their forward ACKs acknowledged (FEATURES.md 35) */
	__u64 ports[XIDS_CTX_PORT_WORDS]; /* bit hash(dst port) mod 128 per started flow */
	__u64 addrs;        /* bit hash(dst address) mod 64 per started flow */
	__u16 same_port[XIDS_CTX_SAME_PORT]; /* started flows per hash(dst port) mod 16, saturating */
};

/* Ends at one instant are counted after it, so that flows ending together (one sweep) all see
 * the same history whatever order they end in: pending until the clock moves on. */
struct xids_ctx_pending {
	__u64 at_us;        /* the instant of the pending ends */
	__u32 ended;
	__u32 no_handshake;
	__u32 rst;
	__u32 short_flows;
	__u64 payload;
	__u64 acked;
};

struct xids_src_ctx {
	__u64 short_start_us; /* data-plane clock, µs: start of the current short window */
	__u64 long_start_us;  /* ... and of the current long window */
	__u32 short_cur;      /* flows started in the current short window */
	__u32 short_prev;     /* ... and in the one before */
	struct xids_ctx_window cur;
	struct xids_ctx_window prev;
	struct xids_ctx_pending pending;
};

/* This host's own addresses ("local_addrs", hash keyed like the block list, value unused):
 * written by user space, never blocked whatever a model says. */

/* Allow lists (LPM tries "allow4", "allow6"); value is a __u32 tag (unused by the kernel).
 * "allow_used" (array, 1 entry, __u32): bit 0 while allow4 holds entries, bit 1 for allow6. */
#define XIDS_ALLOW_USED_V4 0x1
#define XIDS_ALLOW_USED_V6 0x2
struct xids_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct xids_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* The sweep program (xids_sweep) takes this as its test-run packet and writes the result back
 * into it: user space runs it to end idle/active flows without traffic, or to flush all. */
enum xids_sweep_mode {
	XIDS_SWEEP_EXPIRE = 0, /* end flows whose idle or active timeout has passed */
	XIDS_SWEEP_FLUSH = 1,  /* end every flow with XIDS_END_EOC */
};

struct xids_sweep_cmd {
	__u32 magic;       /* XIDS_SWEEP_MAGIC */
	__u32 mode;        /* enum xids_sweep_mode */
	__u32 max_records; /* stop after this many ended flows (ring buffer room); 0 = no limit */
	__u32 blocks;      /* 1: also remove expired block-list entries */
	/* out: */
	__u32 visited;
	__u32 ended;
	__u32 blocks_expired;
	__u32 pad;
};

/* ---- In-kernel classifier (classify.h): parameters, hot update, evaluation ---- */

#define XIDS_MODEL_SLOTS 2        /* two parameter slots: one active, one being written */
#define XIDS_MLP_MAX_INPUTS 38    /* ≥ XIDS_NUM_FEATURES; inputs are feature indices */
#define XIDS_MLP_MAX_WIDTH 64     /* neurons per layer (the paper's bound) */
#define XIDS_MLP_MAX_LAYERS 16    /* linear layers (the paper's bound) */
#define XIDS_DT_MAX_NODES 4096    /* nodes per tree (depth ≤ 11 fits) */
#define XIDS_DT_MAX_DEPTH 32      /* walk bound */
#define XIDS_GBT_MAX_NODES 16384  /* nodes per boosted ensemble, all trees together */
#define XIDS_GBT_MAX_STEPS 2048   /* walk bound: Σ over the trees of (depth + 1) */
#define XIDS_GBT_END 0xffffffff   /* a leaf's next: no tree after this one */
#define XIDS_MAX_PENDING 8        /* records classified in one run: a packet ends ≤ 2, a sweep round ≤ 8 */
#define XIDS_MAX_TAIL_CALLS 33    /* the kernel's limit per packet (MAX_TAIL_CALL_CNT) */
#define XIDS_EVAL_ACTIVE_SLOT 0xffffffff

enum xids_model_kind {
	XIDS_MODEL_NONE = 0,
	XIDS_MODEL_MLP = 1,
	XIDS_MODEL_DT = 2,
	XIDS_MODEL_GBT = 3,
};

/* Tail-call slots of "classify_progs". */
enum xids_stage {
	XIDS_STAGE_ENTRY = 0, /* pick the slot, standardise (MLP) or walk the tree (DT) */
	XIDS_STAGE_LAYER = 1, /* one linear layer + ReLU past the entry's inline ones; re-enters itself */
	XIDS_STAGE_SWEEP = 2, /* the data plane's own timeout sweep (no user-space sweep for a while) */
	XIDS_STAGE__MAX = 3,
};

enum xids_model_action {
	XIDS_ACTION_ALERT = 0, /* verdicts are reported only */
	XIDS_ACTION_BLOCK = 1, /* an attack verdict also blocks the flow's source */
};

/* "model_index" (array, 1 entry): the slot inferences start from. */
struct xids_model_index {
	__u32 active_slot;
	__u32 pad;
};

/* "model_meta" (array, one per slot): everything but the layer weights and tree nodes. */
struct xids_model_meta {
	__u32 kind;      /* enum xids_model_kind */
	__u32 version;   /* user-chosen, reported in every record classified with this slot */
	__u32 n_inputs;  /* MLP inputs (≤ XIDS_MLP_MAX_INPUTS) */
	__u32 n_layers;  /* MLP linear layers (≤ XIDS_MLP_MAX_LAYERS) */
	__u32 shift;     /* b, with s = 2^b (INT32_SPEC.md) */
	__u32 n_nodes;   /* DT nodes */
	__u64 log_mask;  /* MLP: bit i set = input i is standardised as log2q8 of its clamped value */
	__u32 feature_idx[XIDS_MLP_MAX_INPUTS]; /* input i is features[feature_idx[i]] */
	__u64 xmax[XIDS_MLP_MAX_INPUTS];
	__s64 mean_q[XIDS_MLP_MAX_INPUTS];
	__u64 std_q[XIDS_MLP_MAX_INPUTS];
	__u32 layer_in[XIDS_MLP_MAX_LAYERS];  /* padded to a multiple of 4 (zero weights) */
	__u32 layer_out[XIDS_MLP_MAX_LAYERS];
};

/* "mlp_layers" (array, key = slot * XIDS_MLP_MAX_LAYERS + layer). Row-major [out][in].
 * Weights are stored offset by 2^31 (w + 2^31 as u32; classify.h says why). wpair[j] is
 * Σ_p w[j][2p] · w[j][2p+1] over the signed weights, modulo 2^64: the row's constant in the
 * pairwise (Winograd) dot product classify.h computes, which needs one multiply per two weights. */
struct xids_mlp_layer {
	__u32 w[XIDS_MLP_MAX_WIDTH][XIDS_MLP_MAX_WIDTH];
	__s32 bias[XIDS_MLP_MAX_WIDTH];
	__s64 wpair[XIDS_MLP_MAX_WIDTH];
};

/* "dt_nodes" (array, key = slot * XIDS_DT_MAX_NODES + node). Go left iff feature <= threshold. */
struct xids_dt_node {
	__s64 threshold;
	__s32 feature;   /* index into the 22 features; -1 for a leaf */
	__u16 left;
	__u16 right;
	__s32 value;     /* leaf: attack probability × 65536 (the score) */
	__u32 is_attack; /* leaf: the class */
};

/* "gbt_slots" (array, key = slot): a boosted-tree ensemble (models/GBT_SPEC.md), one value per
 * slot. The trees' nodes are laid out one tree after another, each tree's root first; an inner
 * node's children are adjacent (next, next + 1), a leaf's next is the next tree's root
 * (XIDS_GBT_END after the last tree), so the whole ensemble is one walk from node 0. */
struct xids_gbt_node {
	__s64 threshold; /* inner: go to next iff (s64)features[feature] <= threshold, else next + 1;
			  * leaf: the leaf value (an int32 in Q16) */
	__s32 feature;   /* index into the record's features; -1 for a leaf */
	__u32 next;
};

struct xids_gbt_slot {
	__s64 base;      /* margin = base + Σ leaf values (s64); attack iff margin > threshold */
	__s64 threshold;
	__u32 n_trees;
	__u32 n_nodes;
	struct xids_gbt_node nodes[XIDS_GBT_MAX_NODES];
};

/* "infer_state" (per-CPU array, 1 entry): the classifier's working memory across tail calls. */
struct xids_infer_state {
	__u64 seq;        /* odd while an inference runs on this CPU: hot update waits for even */
	__u32 slot;
	__u32 version;
	__u32 layer;
	__u32 rec;        /* scratch record being classified */
	__u32 n_rec;      /* scratch records pending */
	__u32 pkt_verdict;/* what the packet that ended the flow gets once records are out */
	__u32 eval;       /* 1: BPF_PROG_TEST_RUN evaluation, result goes into the packet */
	__u32 eval_slot;  /* evaluation: forced slot, or XIDS_EVAL_ACTIVE_SLOT */
	__s64 act[2][XIDS_MLP_MAX_WIDTH]; /* activations (values fit s32; s64 saves sign-extends) */
};

/* The packet xids_classify_eval takes under BPF_PROG_TEST_RUN; results are written back. */
struct xids_eval_io {
	__u32 slot;       /* XIDS_EVAL_ACTIVE_SLOT or a slot to test before activating it */
	__u32 pad;
	__u64 features[XIDS_NUM_FEATURES];
	/* out: */
	__u32 verdict;    /* enum xids_verdict */
	__s32 score;
	__u32 slot_used;
	__u32 version;
	__s32 logit0;
	__s32 logit1;
};

#endif /* XIDS_H */
