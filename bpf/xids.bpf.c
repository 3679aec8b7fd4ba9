// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xids.bpf.c - the XDP data plane: parse, allow list, block list, flow features, flow records.
 *
 * One packet's path: parse L2/L3 -> allow list (LPM) -> block list (expiry, per-reason drop) ->
 * validate/parse L4 -> flow table (canonical key, forward = first packet) -> on flow end fill the
 * per-CPU scratch record, derive the 22 features, submit to the ring buffer.
 * The TypeScript reference (plugins/extractors/xdp/reference.ts) implements the same rules and is the
 * oracle this program is tested against, packet by packet and record by record.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xids.h"

struct bpf_map;

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* ---- configuration: set by user space before load (constant-folded by the verifier) ---- */
const volatile bool cfg_use_test_clock = false;   /* read time from test_clock_ns (replay) */
const volatile bool cfg_drop_malformed = false;   /* malformed packets: pass (default) or drop */
const volatile bool cfg_track_flows = true;
const volatile __u64 cfg_idle_timeout_ns = 60000000000ULL;    /* 60 s */
const volatile __u64 cfg_active_timeout_ns = 120000000000ULL; /* CICFlowMeter's 120 s */
const volatile __u32 cfg_early_end_pkts = 0;                  /* 0 = off */
/* A connection's last packets (the ACK of the peer's FIN, a late RST) arrive after its flow ended
 * on FIN/RST. CICFlowMeter makes each a new one-packet flow, which a model trained on scans reads
 * as a probe and which would block a benign client. Within this time of a FIN/RST end, a TCP
 * packet without SYN and without payload on the same 5-tuple is counted, not tracked.
 * 0 = off (CICFlowMeter's behaviour). */
const volatile __u64 cfg_tail_absorb_ns = 5000000000ULL;
/* The XDP program sweeps timed-out flows itself (classifying and blocking as usual) when no sweep
 * has run for this long: user space sweeps every few hundred ms while the agent runs, so this
 * engages only while it is down. Driven by arriving packets, so a flow still ends within this
 * time of its timeout as long as any traffic comes in. 0 = off (replay: sweeps follow capture time). */
const volatile __u64 cfg_self_sweep_ns = 0;

/* New-connection SYNs per destination address: at most one per cfg_syn_interval_ns on average,
 * in bursts up to cfg_syn_burst_ns worth (GCRA); the rest are dropped before they make a flow. Against random-source floods, whose sources cannot be blocked: the flow table, the source
 * contexts, the ring and the classifier keep working for everyone else. 0 = off. */
const volatile __u64 cfg_syn_interval_ns = 0;
const volatile __u64 cfg_syn_burst_ns = 1000000000ULL;

/* Written by replay before each test run when cfg_use_test_clock is set. */
__u64 test_clock_ns = 0;
/* When a timeout sweep last ran (data-plane clock, ns): user space's or the program's own. */
__u64 last_sweep_ns = 0;

/* ---- maps (names shared with user space via xids.h / abi.ts) ---- */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xids_flow4_key);
	__type(value, struct xids_flow_acc);
} flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct xids_flow6_key);
	__type(value, struct xids_flow_acc);
} flows6 SEC(".maps");

/* Recently ended (FIN/RST) connections: canonical key -> end time in µs (see cfg_tail_absorb_ns). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xids_flow4_key);
	__type(value, __u64);
} closed4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xids_flow6_key);
	__type(value, __u64);
} closed6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xids_block_key);
	__type(value, struct xids_block_val);
} blocklist SEC(".maps");

/* Per destination address: the theoretical arrival time of its next SYN (GCRA). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct xids_block_key);
	__type(value, __u64);
} syn_limit SEC(".maps");

/* This host's own addresses: never blocked (user space keeps it current). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct xids_block_key);
	__type(value, __u32);
} local_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xids_lpm4_key);
	__type(value, __u32);
} allow4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xids_lpm6_key);
	__type(value, __u32);
} allow6 SEC(".maps");

/* Which allow lists hold entries (XIDS_ALLOW_USED_*), kept by user space (DataPlane):
 * a bit is set before a CIDR of its family goes in and cleared after the family's last one goes.
 * An empty list's LPM lookup is skipped (most hosts have none: it is on every packet's path). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} allow_used SEC(".maps");

/* One block of counters per CPU (xids.h): a packet looks it up once, every bump is a plain add. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xids_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* The flow-end path builds its records here (too big for the 512-byte stack); the in-kernel
 * classifier (classify.h) reads them from here in its tail-called programs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XIDS_MAX_PENDING + 1); /* pending records + one for direct emission */
	__type(key, __u32);
	__type(value, struct xids_flow_record);
} scratch SEC(".maps");

/* The first forward TCP payload of a flow, copied for the scan (xids_scan_payload). Two bytes
 * past the window: the verifier bounds the loop index by the window, not by the copied length, so
 * a '%' digit read (b[i + 2], done only when i + 2 < len) must be inside the buffer. */
struct xids_scan_buf {
	__u8 b[XIDS_SCAN_WINDOW + 2];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xids_scan_buf);
} scanbuf SEC(".maps");

/* ---- bench variants ----
 * `xids bench` accounts for a packet's cost with builds of this program cut off after a stage of
 * its path (bpf/Makefile BENCH_STAGES, -DXIDS_BENCH_STAGE=n; never loaded by the agent). What a
 * build leaves out is compiled out, so each is the same code as the next minus one stage:
 *   0  the frame length (bpf_xdp_get_buff_len), then XDP_PASS
 *   1  + the minimal parse: Ethernet, VLAN tags, the fixed IP header (the source)
 *   2  + the block list: one hash lookup; a blocked source is dropped here
 *   3  + the allow list (LPM lookup)
 *   4  + the rest of the parse: IP lengths, IPv6 extension headers, the L4 header
 *   5  + the clock (bpf_ktime_get_ns)
 *   6  + the flow-table lookup (a miss inserts the flow, a hit changes nothing)
 *   7  + the flow update: timeouts, overflow rule, accumulators, FIN/RST/early end
 *   8  + the counters (the per-CPU counter block)
 *   (none) the shipped program: + the flow-end tail calls and the own-sweep check */
#ifdef XIDS_BENCH_STAGE
#define XIDS_HAS_STAGE(n) (XIDS_BENCH_STAGE >= (n))
#else
#define XIDS_HAS_STAGE(n) 1
#endif
#define XIDS_STAGE_COUNTERS 8
#define XIDS_STAGE_SHIPPED 9

/* ---- helpers ---- */

/* This CPU's counter block. Never NULL for a one-entry array, but the verifier wants the check. */
static __always_inline struct xids_counters *counters_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

/* A bump into a block looked up once (the per-packet paths of xids_xdp): a plain add, no
 * atomics (the block is this CPU's). idx is a constant or bounded by its caller. */
static __always_inline void cnt(struct xids_counters *xc, __u32 idx, __u64 v)
{
	if (XIDS_HAS_STAGE(XIDS_STAGE_COUNTERS) && idx < XIDS_C__MAX)
		xc->c[idx] += v;
}

/* A bump from anywhere else (flow end, the classifier's stages, sweeps, the source context):
 * looks the block up itself, which the verifier inlines (a bounds check and a per-CPU offset). */
static __always_inline void count(__u32 idx, __u64 v)
{
	struct xids_counters *xc;

	if (!XIDS_HAS_STAGE(XIDS_STAGE_COUNTERS))
		return;
	xc = counters_get();
	if (xc)
		cnt(xc, idx, v);
}

/* Whether a source address (16 bytes, IPv4 in the first 4) is on the allow list: the packet path
 * and the verdict path (classify.h) ask the same question. */
static __always_inline bool addr_allowed(__u8 family, const __u8 *addr)
{
	__u32 zero = 0, *used = bpf_map_lookup_elem(&allow_used, &zero);

	if (used && !(*used & (family == 4 ? XIDS_ALLOW_USED_V4 : XIDS_ALLOW_USED_V6)))
		return false;
	if (family == 4) {
		struct xids_lpm4_key k = { .prefixlen = 32 };
		__builtin_memcpy(k.addr, addr, 4);
		return bpf_map_lookup_elem(&allow4, &k) != NULL;
	}
	struct xids_lpm6_key k = { .prefixlen = 128 };
	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&allow6, &k) != NULL;
}

static __always_inline __u64 now_ns(void)
{
	if (cfg_use_test_clock) /* dead code when off: production pays nothing */
		return test_clock_ns;
	return bpf_ktime_get_ns();
}

/* The data-plane clock as of the last timer tick: never ahead of now_ns(), behind it by at most
 * about a tick (4 ms at HZ=250; an idle CPU catches up on the interrupt that brings the packet).
 * About half what now_ns() costs here (bpf_ktime_get_ns reads the TSC through an indirect call). */
static __always_inline __u64 coarse_ns(void)
{
	if (cfg_use_test_clock)
		return test_clock_ns;
	return bpf_ktime_get_coarse_ns();
}

/* An expiry at least this far beyond coarse_ns() has not passed (no clock lags a tick by this). */
#define XIDS_COARSE_MARGIN_NS 100000000ULL /* 100 ms */

/* a - b, or 0 when b is later (capture clocks can step back; never wrap) */
static __always_inline __u64 sat_sub(__u64 a, __u64 b)
{
	return a > b ? a - b : 0;
}

/* The loops below are branch-free (mask arithmetic, no data-dependent jumps): the verifier then
 * walks each iteration exactly once, whatever it knows about the values. With branches (or under
 * bpf_loop with known constants) the state count explodes past the 1M-instruction limit. */

/* 1 if a < b (unsigned), computed as the borrow out of a − b, without a comparison jump */
static __always_inline __u64 lt_u64(__u64 a, __u64 b)
{
	return ((~a & b) | (~(a ^ b) & (a - b))) >> 63;
}

/* floor(sqrt(x)): digit-by-digit, 32 steps */
static __always_inline __u64 isqrt64(__u64 x)
{
	__u64 res = 0, bit = 1ULL << 62;

	for (int i = 0; i < 32; i++) {
		__u64 t = res + bit;
		__u64 m = -(1 - lt_u64(x, t)); /* all ones when x >= t */
		x -= t & m;
		res = (res >> 1) + (bit & m);
		bit >>= 2;
	}
	return res;
}

/* 64x64 -> 128 multiply (BPF has no 128-bit arithmetic) */
static __always_inline void mul64(__u64 a, __u64 b, __u64 *hi, __u64 *lo)
{
	__u64 a0 = a & 0xffffffff, a1 = a >> 32, b0 = b & 0xffffffff, b1 = b >> 32;
	__u64 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	__u64 mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
	*lo = (mid << 32) | (p00 & 0xffffffff);
	*hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* floor(sample variance) = floor((m·Σx² − (Σx)²) / (m·(m−1))) for m ≥ 2, exact in 128 bits.
 * m < 2^32 so the divisor fits 64 bits, and the quotient is < 2^64 for our ranges (hi < den). */
static __always_inline __u64 sample_var(__u64 m, __u64 sum, __u64 sum2)
{
	__u64 hi, lo, shi, slo, den;

	mul64(m, sum2, &hi, &lo);
	mul64(sum, sum, &shi, &slo);
	/* num = m·Σx² − (Σx)² ≥ 0 (Cauchy–Schwarz) */
	hi = hi - shi - (lo < slo ? 1 : 0);
	lo = lo - slo;
	den = m * (m - 1);
	if (den == 0)
		return 0;
	if (hi >= den) /* quotient would not fit: impossible within the declared ranges */
		return ~0ULL;
	/* restoring division, one dividend bit per step; rem < den < 2^64 throughout */
	__u64 rem = hi, q = 0;
	for (int i = 0; i < 64; i++) {
		__u64 carry = rem >> 63;
		rem = (rem << 1) | (lo >> 63);
		lo <<= 1;
		__u64 ge = carry | (1 - lt_u64(rem, den));
		rem -= den & -ge;
		q = (q << 1) | ge;
	}
	return q;
}

/* FEATURES.md, index by index; the TypeScript twin is deriveFeatures() in plugins/extractors/xdp/features.ts.
 * A global (non-static) function: the verifier checks it once with unknown inputs instead of at
 * every call site with known ones, which keeps its loops from multiplying the program's states. */
__noinline int xids_derive_features(const struct xids_flow_acc *a, struct xids_flow_record *r)
{
	if (!a || !r)
		return -1;
	__u64 n = a->n, iat = a->iat_total, mean = n ? a->sum_p / n : 0;
	__u64 *f = r->features;

	f[0] = r->dst_port;
	f[1] = r->proto;
	f[2] = n;
	f[3] = a->sum_p;
	f[4] = a->p_max;
	f[5] = a->p_min;
	f[6] = mean;
	f[7] = n < 2 ? 0 : isqrt64(sample_var(n, a->sum_p, a->sum_p2));
	f[8] = iat;
	f[9] = n < 2 ? 0 : iat / (n - 1);
	f[10] = n < 3 ? 0 : isqrt64(sample_var(n - 1, iat, a->sum_g2));
	f[11] = n < 2 ? 0 : a->gap_max;
	f[12] = n < 2 ? 0 : a->gap_min;
	f[13] = a->psh;
	f[14] = a->urg;
	f[15] = (a->flags & XIDS_FL_RST) ? 1 : 0;
	f[16] = a->hdr_sum;
	f[17] = iat ? n * 1000000ULL / iat : 0;
	f[18] = a->init_win;
	f[19] = a->act_data;
	f[20] = a->seg_min;
	f[21] = mean;
	f[32] = a->line_len;
	f[33] = a->line_meta;
	f[34] = a->enc_meta;
	f[35] = a->acked;
	return 0;
}

/* ---- parsing ---- */
enum parse_status {
	P_OK = 0,       /* TCP/UDP/ICMP with a valid header: tracked as a flow */
	P_NON_IP,
	P_MALFORMED,
	P_FRAGMENT,     /* non-first fragment */
	P_OTHER_L4,
};

struct pkt {
	__u8 family;
	__u8 proto;
	__u8 tcp_flags;
	__u8 icmp_type; /* ICMP / ICMPv6 message type */
	__u16 sport;
	__u16 dport;
	__u16 win;
	__u16 l4_hdr;
	__u32 payload;
	__u32 ack;      /* TCP: acknowledgment number */
	__u16 pay_off;  /* TCP: where the payload starts in the frame */
	__u8 src[16];
	__u8 dst[16];
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

static __always_inline bool ipv6_is_ext(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 || nh == 135 || nh == 139 ||
	       nh == 140;
}

/* L4 header at off, l4_len bytes of L4 (per the IP length fields) */
static __always_inline int parse_l4(void *data, void *data_end, __u32 off, __u32 l4_len, __u8 proto,
				    struct pkt *p)
{
	__u8 *h;

	if (off > XIDS_MAX_HDR_OFF)
		return P_MALFORMED;
	h = data + off;
	p->proto = proto;
	if (proto == IPPROTO_TCP) {
		if (l4_len < 20 || (void *)(h + 20) > data_end)
			return P_MALFORMED;
		__u32 doff = (h[12] >> 4) * 4;
		if (doff < 20 || doff > l4_len)
			return P_MALFORMED;
		p->sport = ((__u16)h[0] << 8) | h[1];
		p->dport = ((__u16)h[2] << 8) | h[3];
		p->tcp_flags = h[13];
		p->ack = ((__u32)h[8] << 24) | ((__u32)h[9] << 16) | ((__u32)h[10] << 8) | h[11];
		p->win = ((__u16)h[14] << 8) | h[15];
		p->l4_hdr = doff;
		p->payload = l4_len - doff;
		p->pay_off = off + doff;
		return P_OK;
	}
	if (proto == IPPROTO_UDP) {
		if (l4_len < 8 || (void *)(h + 8) > data_end)
			return P_MALFORMED;
		p->sport = ((__u16)h[0] << 8) | h[1];
		p->dport = ((__u16)h[2] << 8) | h[3];
		p->l4_hdr = 8;
		p->payload = l4_len - 8;
		return P_OK;
	}
	if ((proto == IPPROTO_ICMP && p->family == 4) || (proto == 58 && p->family == 6)) {
		/* every ICMP/ICMPv6 message has an 8-byte header; ports are 0 (as CICFlowMeter) */
		if (l4_len < 8 || (void *)(h + 8) > data_end)
			return P_MALFORMED;
		p->l4_hdr = 8;
		p->payload = l4_len - 8;
		p->icmp_type = h[0];
		return P_OK;
	}
	return P_OTHER_L4;
}

/* The minimal parse, all the block list needs: Ethernet, up to XIDS_MAX_VLAN tags and the fixed
 * IP header. P_OK: that header was readable, so the lists apply (even to a packet the rest of the
 * parse finds malformed, or a fragment: no bypass by malformation); *src is then the block-list key
 * of its source (family, address zero-padded) and *l3_off where the IP header starts. */
static __always_inline int parse_l3(struct xdp_md *ctx, struct xids_block_key *src, __u32 *l3_off)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 off = ETH_HLEN;
	__u16 proto;

	if (data + ETH_HLEN > data_end)
		return P_MALFORMED;
	proto = ((struct ethhdr *)data)->h_proto;
#pragma unroll
	for (int i = 0; i < XIDS_MAX_VLAN; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (data + off + 4 > data_end)
			return P_MALFORMED;
		proto = *(__u16 *)(data + off + 2);
		off += 4;
	}
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))
		return P_MALFORMED;
	*l3_off = off;
	if (proto == bpf_htons(ETH_P_IP)) {
		__u8 *ip = data + off;
		if ((void *)(ip + 20) > data_end || (ip[0] >> 4) != 4)
			return P_MALFORMED;
		src->family = 4;
		__builtin_memcpy(src->addr, ip + 12, 4);
		return P_OK;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		__u8 *ip = data + off;
		if ((void *)(ip + 40) > data_end || (ip[0] >> 4) != 6)
			return P_MALFORMED;
		src->family = 6;
		__builtin_memcpy(src->addr, ip + 8, 16);
		return P_OK;
	}
	return P_NON_IP;
}

/* The rest of the parse, after parse_l3 returned P_OK (p->family and p->src are set): the
 * destination, the IP lengths (which must fit in frame_len, the whole frame: linear part and
 * fragments), IPv6 extension headers, and L4. */
static __always_inline int parse_ip(struct xdp_md *ctx, struct pkt *p, __u32 off, __u64 frame_len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (off > ETH_HLEN + 4 * XIDS_MAX_VLAN) /* never: parse_l3's offsets, bounded for the verifier */
		return P_MALFORMED;
	if (p->family == 4) {
		__u8 *ip = data + off;
		if ((void *)(ip + 20) > data_end)
			return P_MALFORMED;
		__builtin_memcpy(p->dst, ip + 16, 4);
		__u32 ihl = (ip[0] & 0x0f) * 4;
		__u32 tot = ((__u32)ip[2] << 8) | ip[3];
		if (ihl < 20 || tot < ihl || off + tot > frame_len)
			return P_MALFORMED;
		if ((((__u32)ip[6] << 8) | ip[7]) & 0x1fff) /* fragment offset != 0 */
			return P_FRAGMENT;
		return parse_l4(data, data_end, off + ihl, tot - ihl, ip[9], p);
	}
	__u8 *ip = data + off;
	if ((void *)(ip + 40) > data_end)
		return P_MALFORMED;
	__builtin_memcpy(p->dst, ip + 24, 16);
	__u32 plen = ((__u32)ip[4] << 8) | ip[5];
	__u32 end = off + 40 + plen; /* end of the IPv6 payload */
	__u8 nh = ip[6];
	if (end > frame_len)
		return P_MALFORMED;
	off += 40;
#pragma unroll
	for (int i = 0; i < XIDS_MAX_IPV6_EXT; i++) {
		if (!ipv6_is_ext(nh))
			break;
		if (off > XIDS_MAX_HDR_OFF)
			return P_MALFORMED;
		__u8 *x = data + off;
		if ((void *)(x + 8) > data_end || off + 8 > end)
			return P_MALFORMED;
		__u32 len = nh == 44 ? 8 : nh == 51 ? ((__u32)x[1] + 2) * 4 : ((__u32)x[1] + 1) * 8;
		if (off + len > end)
			return P_MALFORMED;
		if (nh == 44 && ((((__u32)x[2] << 8) | x[3]) & 0xfff8))
			return P_FRAGMENT;
		nh = x[0];
		off += len;
	}
	if (ipv6_is_ext(nh))
		return P_MALFORMED;
	return parse_l4(data, data_end, off, end - off, nh, p);
}

/* ---- flow end ---- */

#include "context.h"
#include "classify.h"

/* Fills the next pending scratch record from a flow entry; the program's last step
 * (classify_pending) classifies and submits the pending records. key is the canonical key. */
static __always_inline void end_flow(const __u8 *a_addr, const __u8 *b_addr, __u16 a_port, __u16 b_port,
				     __u8 proto, __u8 family, const struct xids_flow_acc *acc, __u8 reason, __u64 now_us,
				     bool started_too)
{
	struct xids_infer_state *st = infer_state_get();
	struct xids_flow_record *r;
	struct ctx_event ev = {};
	bool pending, model, exempt;

	count(XIDS_C_FLOWS_ENDED, 1);
	count(XIDS_C_END_BASE + (reason & 7), 1);
	if (!st)
		return;
	/* With a model, the record waits for classification; without one (or, in a sweep round that
	 * saw a model appear, past the budget) it goes out at once from the spare slot. An exempt
	 * flow is never classified: it goes out at once too, saying so. */
	model = active_model() != NULL;
	exempt = model && (acc->flags & XIDS_FL_EXEMPT);
	pending = model && !exempt && st->n_rec < XIDS_MAX_PENDING;
	r = pending_record(pending ? st->n_rec : XIDS_MAX_PENDING);
	if (!r)
		return;
	__builtin_memset(r, 0, sizeof(*r));
	if (exempt) {
		r->block_action = XIDS_BLOCK_EXEMPT;
		count(XIDS_C_EXEMPT, 1);
	}
	r->family = family;
	r->proto = proto;
	r->end_reason = reason;
	if (acc->flags & XIDS_FL_FWD_IS_B) {
		if (family == 4) {
			__builtin_memcpy(r->src, b_addr, 4);
			__builtin_memcpy(r->dst, a_addr, 4);
		} else {
			__builtin_memcpy(r->src, b_addr, 16);
			__builtin_memcpy(r->dst, a_addr, 16);
		}
		r->src_port = b_port;
		r->dst_port = a_port;
	} else {
		if (family == 4) {
			__builtin_memcpy(r->src, a_addr, 4);
			__builtin_memcpy(r->dst, b_addr, 4);
		} else {
			__builtin_memcpy(r->src, a_addr, 16);
			__builtin_memcpy(r->dst, b_addr, 16);
		}
		r->src_port = a_port;
		r->dst_port = b_port;
	}
	r->first_us = acc->first_us;
	r->last_us = acc->first_us + acc->iat_total;
	xids_derive_features(acc, r);
	ev.family = family;
	ev.dport = r->dst_port;
	__builtin_memcpy(ev.src, r->src, 16);
	__builtin_memcpy(ev.dst, r->dst, 16);
	ev.now_us = now_us;
	xids_ctx_flow_end(&ev, acc, r, started_too);
	if (pending)
		st->n_rec++;
	else
		emit_record(r);
}

/* ---- flow update ---- */

/* FEATURES.md 32..34's metacharacters: " ' ( ) ; < > \ ` as a bitmap over 0..127 (word c >> 6, bit c & 63). */
#define XIDS_META_LO ((1ULL << 0x22) | (1ULL << 0x27) | (1ULL << 0x28) | (1ULL << 0x29) | (1ULL << 0x3b) | \
		      (1ULL << 0x3c) | (1ULL << 0x3e))
#define XIDS_META_HI ((1ULL << (0x5c - 64)) | (1ULL << (0x60 - 64)))

static __always_inline __u32 is_meta(__u32 c)
{
	__u64 w = c < 64 ? XIDS_META_LO : c < 128 ? XIDS_META_HI : 0;
	return (w >> (c & 63)) & 1;
}

/* A hex digit's value, or 16 for any other byte. */
static __always_inline __u32 hex_val(__u32 c)
{
	if (c - '0' < 10)
		return c - '0';
	c |= 0x20; /* lower case */
	if (c - 'a' < 6)
		return c - 'a' + 10;
	return 16;
}

/* The scan of a flow's first forward TCP payload (FEATURES.md 32..34; the TypeScript twin is
 * scanPayload() in plugins/extractors/xdp/reference.ts): the first line's length and its
 * metacharacters, and the %-encoded metacharacters in the first XIDS_SCAN_WINDOW bytes. It runs
 * once per flow, on the packet that carries the first payload; every other packet pays one flag
 * test. A global function: verified once, its loop apart from the packet path's states. The IP
 * lengths were checked against the frame (parse_ip), so the bytes are there. */
__noinline int xids_scan_payload(struct xdp_md *ctx, __u32 off, __u32 len, struct xids_flow_acc *a)
{
	struct xids_scan_buf *buf;
	__u32 zero = 0, i, line = 0, meta = 0, enc = 0;
	bool in_line = true;

	if (!ctx || !a)
		return -1;
	a->flags |= XIDS_FL_SCANNED;
	if (len > XIDS_SCAN_WINDOW)
		len = XIDS_SCAN_WINDOW;
	if (len == 0)
		return 0;
	/* 1..XIDS_SCAN_WINDOW unchanged, in a form the verifier bounds (the window is a power of 2) */
	len = ((len - 1) & (XIDS_SCAN_WINDOW - 1)) + 1;
	buf = bpf_map_lookup_elem(&scanbuf, &zero);
	if (!buf)
		return -1;
	if (bpf_xdp_load_bytes(ctx, off, buf->b, len))
		return -1;
#pragma nounroll
	for (i = 0; i < XIDS_SCAN_WINDOW; i++) {
		if (i >= len)
			break;
		__u32 c = buf->b[i];
		if (c == '\r' || c == '\n')
			in_line = false;
		if (in_line) {
			line++;
			meta += is_meta(c);
		}
		/* both digits inside the window: i + 2 < len */
		if (c == '%' && i + 2 < len) {
			__u32 hi = hex_val(buf->b[i + 1]), lo = hex_val(buf->b[i + 2]);
			__u32 v = hi * 16 + lo;
			enc += hi < 16 && lo < 16 && (v == '%' || is_meta(v));
		}
	}
	a->line_len = line;
	a->line_meta = meta;
	a->enc_meta = enc;
	return 0;
}

#ifdef XIDS_NO_PAYLOAD_SCAN /* the bench's variant without the scan (features 32..34 = 0) */
#define SCAN_PAYLOAD(CTX, OFF, LEN, A) ((A)->flags |= XIDS_FL_SCANNED)
#else
#define SCAN_PAYLOAD(CTX, OFF, LEN, A) xids_scan_payload(CTX, OFF, LEN, A)
#endif

/* An IPv4 address that is never a host to judge: this network (0/8), loopback, link-local,
 * multicast, reserved and broadcast (224/3 and up). */
static __always_inline bool ip4_exempt(const __u8 *a)
{
	return a[0] == 0 || a[0] == 127 || (a[0] == 169 && a[1] == 254) || a[0] >= 224;
}

/* The same for IPv6: unspecified, loopback, link-local, multicast, and IPv4-mapped exempt ones. */
static __always_inline bool ip6_exempt(const __u8 *a)
{
	__u64 hi, lo;

	__builtin_memcpy(&hi, a, 8);
	__builtin_memcpy(&lo, a + 8, 8);
	if (a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
		return true;
	if (hi == 0 && (lo == 0 || lo == bpf_cpu_to_be64(1)))
		return true;
	return hi == 0 && a[8] == 0 && a[9] == 0 && a[10] == 0xff && a[11] == 0xff && ip4_exempt(a + 12);
}

/* ICMPv6 that keeps a link working: MLD (130-132, 143), router and neighbour discovery (133-137),
 * inverse ND (141-142), SEND (148-149), multicast router discovery (151-153). */
static __always_inline bool icmp6_link_control(__u8 t)
{
	return (t >= 130 && t <= 137) || t == 141 || t == 142 || t == 143 || t == 148 || t == 149 ||
	       (t >= 151 && t <= 153);
}

/* A flow the classifier never judges (and so never blocks): link control, or a source that cannot
 * be a remote attacker, or a destination that is not this host alone (multicast, broadcast). */
static __always_inline bool flow_exempt(const struct pkt *p)
{
	if (p->family == 4)
		return ip4_exempt(p->src) || p->dst[0] >= 224;
	return (p->proto == 58 && icmp6_link_control(p->icmp_type)) || ip6_exempt(p->src) || p->dst[0] == 0xff;
}

/* A forward ACK (FEATURES.md 35): the first sets the base; a later one that moves it forward by
 * less than 2^31 (serial-number order, so a wrap is an advance) extends what the peer delivered,
 * unless it jumps more than XIDS_ACK_MAX_STEP past the furthest so far (a forged number). */
static __always_inline void acc_ack(struct xids_flow_acc *a, __u32 ack)
{
	__u32 d = ack - a->ack_base;

	if (!(a->flags & XIDS_FL_ACK)) {
		a->flags |= XIDS_FL_ACK;
		a->ack_base = ack;
	} else if (d < 0x80000000U && d > a->acked && d - a->acked <= XIDS_ACK_MAX_STEP) {
		a->acked = d;
	}
}

static __always_inline void acc_init(struct xids_flow_acc *a, const struct pkt *p, __u64 now_us, bool fwd_is_b)
{
	__builtin_memset(a, 0, sizeof(*a));
	a->first_us = now_us;
	a->n = 1;
	a->sum_p = p->payload;
	a->sum_p2 = (__u64)p->payload * p->payload;
	a->hdr_sum = p->l4_hdr;
	a->act_data = p->payload > 0;
	a->p_max = p->payload;
	a->p_min = p->payload;
	a->init_win = p->proto == IPPROTO_TCP ? p->win : 0;
	a->psh = (p->proto == IPPROTO_TCP && (p->tcp_flags & TCP_PSH)) ? 1 : 0;
	a->urg = (p->proto == IPPROTO_TCP && (p->tcp_flags & TCP_URG)) ? 1 : 0;
	a->seg_min = p->l4_hdr;
	a->flags = fwd_is_b ? XIDS_FL_FWD_IS_B : 0;
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & TCP_RST))
		a->flags |= XIDS_FL_RST;
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		a->flags |= XIDS_FL_SYN0;
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & TCP_ACK))
		acc_ack(a, p->ack);
	if (flow_exempt(p))
		a->flags |= XIDS_FL_EXEMPT;
}

/* The source context hook of a flow's first packet (always forward: it defines the direction). */
static __always_inline void ctx_start(const struct pkt *p, __u64 now_us)
{
	struct ctx_event ev = { .family = p->family, .dport = p->dport, .now_us = now_us };

	__builtin_memcpy(ev.src, p->src, 16);
	__builtin_memcpy(ev.dst, p->dst, 16);
	xids_ctx_flow_start(&ev);
}

/* Would adding this forward packet overflow an accumulator? Then the flow ends first. */
static __always_inline bool acc_would_overflow(const struct xids_flow_acc *a, const struct pkt *p, __u64 now_us)
{
	bool tcp = p->proto == IPPROTO_TCP;
	return a->n == 0xffffffff || (__u64)a->sum_p + p->payload > 0xffffffff ||
	       (__u64)a->hdr_sum + p->l4_hdr > 0xffffffff || sat_sub(now_us, a->first_us) > 0xffffffff ||
	       (tcp && (p->tcp_flags & TCP_PSH) && a->psh == 0xffff) ||
	       (tcp && (p->tcp_flags & TCP_URG) && a->urg == 0xffff);
}

static __always_inline void acc_add(struct xids_flow_acc *a, const struct pkt *p, __u64 now_us)
{
	__u64 last = a->first_us + a->iat_total;
	__u64 gap = sat_sub(now_us, last);
	__u32 pl = p->payload;

	if (a->n == 1 || gap > a->gap_max)
		a->gap_max = gap;
	if (a->n == 1 || gap < a->gap_min)
		a->gap_min = gap;
	a->iat_total += gap;
	a->sum_g2 += gap * gap;
	a->n += 1;
	a->sum_p += pl;
	a->sum_p2 += (__u64)pl * pl;
	a->hdr_sum += p->l4_hdr;
	if (pl > 0)
		a->act_data += 1;
	if (pl > a->p_max)
		a->p_max = pl;
	if (pl < a->p_min)
		a->p_min = pl;
	if (p->l4_hdr < a->seg_min)
		a->seg_min = p->l4_hdr;
	/* Exempt only while every forward packet is: one NS does not shield the echo flood after it
	 * (an ICMPv6 flow's key has no type). */
	if ((a->flags & XIDS_FL_EXEMPT) && !flow_exempt(p))
		a->flags &= ~XIDS_FL_EXEMPT;
	if (p->proto == IPPROTO_TCP) {
		if (p->tcp_flags & TCP_PSH)
			a->psh += 1;
		if (p->tcp_flags & TCP_URG)
			a->urg += 1;
		if (p->tcp_flags & TCP_RST)
			a->flags |= XIDS_FL_RST;
		if (p->tcp_flags & TCP_ACK)
			acc_ack(a, p->ack);
	}
}

/* -1 / 0 / 1: big-endian byte order compare */
static __always_inline int addr_cmp(const __u8 *x, const __u8 *y, int len)
{
	for (int i = 0; i < len && i < 16; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

/* The timeout rule shared by packet arrival and the sweep (strictly greater, in µs). For integers,
 * elapsed > floor(T / 1000) is elapsed * 1000 > T: a multiply instead of a division per packet,
 * exact because elapsed <= now_us = now_ns / 1000, so the product cannot wrap. */
static __always_inline __u8 timeout_reason(const struct xids_flow_acc *a, __u64 now_us)
{
	if (sat_sub(now_us, a->first_us) * 1000 > cfg_active_timeout_ns)
		return XIDS_END_ACTIVE;
	if (sat_sub(now_us, a->first_us + a->iat_total) * 1000 > cfg_idle_timeout_ns)
		return XIDS_END_IDLE;
	return XIDS_END_NONE;
}

/* A packet that only closes out a connection whose flow already ended on FIN/RST. */
static __always_inline bool is_tail(void *closed, const void *key, const struct pkt *p, __u64 now_us)
{
	__u64 *at;

	if (!cfg_tail_absorb_ns || p->proto != IPPROTO_TCP || (p->tcp_flags & TCP_SYN) || p->payload)
		return false;
	at = bpf_map_lookup_elem(closed, key);
	return at && sat_sub(now_us, *at) * 1000 <= cfg_tail_absorb_ns; /* as timeout_reason */
}

/* One packet of a tracked flow. key must already be canonical; from_b says which endpoint sent it.
 * Written once for both tables (map and key types differ; the code is the same). */
#define FLOW_UPDATE(CTX, XC, MAP, CLOSED, KEY, FAMILY, FROM_B, P, NOW_US, ENDED)                                                \
	do {                                                                                                \
		struct xids_flow_acc *a = bpf_map_lookup_elem(&MAP, &KEY);                                 \
		bool fresh = false;                                                                         \
		bool fwd = true; /* the packet is forward: a new flow's first packet always is */           \
		if (a) {                                                                                    \
			if (!XIDS_HAS_STAGE(7)) /* bench: the lookup only */                                \
				break;                                                                      \
			__u8 why = timeout_reason(a, NOW_US);                                               \
			fwd = ((a->flags & XIDS_FL_FWD_IS_B) != 0) == (FROM_B);                             \
			if (why == XIDS_END_NONE && fwd && acc_would_overflow(a, P, NOW_US))                \
				why = XIDS_END_OVERFLOW;                                                    \
			if (why != XIDS_END_NONE) {                                                         \
				end_flow(KEY.a_addr, KEY.b_addr, KEY.a_port, KEY.b_port, KEY.proto, FAMILY, \
					 a, why, NOW_US, false);                                            \
				ENDED = true;                                                               \
				/* the packet starts a new flow in the same slot */                         \
				acc_init(a, P, NOW_US, FROM_B);                                             \
				cnt(XC, XIDS_C_FLOWS_STARTED, 1);                                          \
				fresh = true;                                                               \
				fwd = true;                                                                 \
			} else if (fwd) {                                                                   \
				acc_add(a, P, NOW_US);                                                      \
			}                                                                                   \
		} else {                                                                                    \
			struct xids_flow_acc init;                                                          \
			if (is_tail(&CLOSED, &KEY, P, NOW_US)) {                                            \
				cnt(XC, XIDS_C_TAIL_ABSORBED, 1);                                          \
				break;                                                                      \
			}                                                                                   \
			acc_init(&init, P, NOW_US, FROM_B);                                                 \
			if (bpf_map_update_elem(&MAP, &KEY, &init, BPF_NOEXIST)) {                          \
				cnt(XC, XIDS_C_FLOW_INSERT_FAILED, 1);                                     \
				break;                                                                      \
			}                                                                                   \
			cnt(XC, XIDS_C_FLOWS_STARTED, 1);                                                  \
			a = bpf_map_lookup_elem(&MAP, &KEY);                                                \
			if (!a) {                                                                           \
				ctx_start(P, NOW_US);                                                       \
				break;                                                                      \
			}                                                                                   \
			fresh = true;                                                                       \
		}                                                                                           \
		if (fwd && (P)->proto == IPPROTO_TCP && (P)->payload && !(a->flags & XIDS_FL_SCANNED))      \
			SCAN_PAYLOAD(CTX, (P)->pay_off, (P)->payload, a);                                   \
		__u8 endr = XIDS_END_NONE;                                                                  \
		if ((P)->proto == IPPROTO_TCP && ((P)->tcp_flags & TCP_RST))                                \
			endr = XIDS_END_RST;                                                                \
		else if ((P)->proto == IPPROTO_TCP && ((P)->tcp_flags & TCP_FIN))                           \
			endr = XIDS_END_FIN;                                                                \
		else if (cfg_early_end_pkts && a->n >= cfg_early_end_pkts)                                  \
			endr = XIDS_END_EARLY;                                                              \
		/* A new flow's start is counted in the source context with its end when this packet \
		 * also ends it (one lookup for both), else now. */                                  \
		if (fresh && endr == XIDS_END_NONE)                                                         \
			ctx_start(P, NOW_US);                                                               \
		if (endr != XIDS_END_NONE) {                                                                \
			end_flow(KEY.a_addr, KEY.b_addr, KEY.a_port, KEY.b_port, KEY.proto, FAMILY, a,      \
				 endr, NOW_US, fresh);                                                      \
			ENDED = true;                                                                       \
			bpf_map_delete_elem(&MAP, &KEY);                                                    \
			if (cfg_tail_absorb_ns && endr != XIDS_END_EARLY) {                                 \
				__u64 closed_at = NOW_US;                                                   \
				bpf_map_update_elem(&CLOSED, &KEY, &closed_at, BPF_ANY);                    \
			}                                                                                   \
		}                                                                                           \
	} while (0)

/* Returns whether the packet ended a flow (its record then waits for classify_pending). */
static __always_inline bool track_flow(struct xdp_md *ctx, struct xids_counters *xc, const struct pkt *p, __u64 now_us)
{
	int c = addr_cmp(p->src, p->dst, p->family == 4 ? 4 : 16);
	bool from_b = c > 0 || (c == 0 && p->sport > p->dport);
	bool ended = false;

	if (p->family == 4) {
		struct xids_flow4_key k = {};
		if (from_b) {
			__builtin_memcpy(k.a_addr, p->dst, 4);
			__builtin_memcpy(k.b_addr, p->src, 4);
			k.a_port = p->dport;
			k.b_port = p->sport;
		} else {
			__builtin_memcpy(k.a_addr, p->src, 4);
			__builtin_memcpy(k.b_addr, p->dst, 4);
			k.a_port = p->sport;
			k.b_port = p->dport;
		}
		k.proto = p->proto;
		FLOW_UPDATE(ctx, xc, flows4, closed4, k, 4, from_b, p, now_us, ended);
	} else {
		struct xids_flow6_key k = {};
		if (from_b) {
			__builtin_memcpy(k.a_addr, p->dst, 16);
			__builtin_memcpy(k.b_addr, p->src, 16);
			k.a_port = p->dport;
			k.b_port = p->sport;
		} else {
			__builtin_memcpy(k.a_addr, p->src, 16);
			__builtin_memcpy(k.b_addr, p->dst, 16);
			k.a_port = p->sport;
			k.b_port = p->dport;
		}
		k.proto = p->proto;
		FLOW_UPDATE(ctx, xc, flows6, closed6, k, 6, from_b, p, now_us, ended);
	}
	return ended;
}

/* ---- allow / block ---- */

/* The drop path: a source in the block list is dropped right after the minimal parse, with the
 * one hash lookup its caller made and the counter block the packet already holds. The allow list
 * is not consulted: an allow-listed source is never in the block list, by construction (user
 * space's DataPlane.allow lifts every block inside the CIDR and DataPlane.block refuses an
 * allowed source; the kernel's own verdicts check the allow list before they block and again
 * after: classify.h block_source). Returns true to drop. An expired entry is removed here,
 * lazily (no timer; the sweep removes those of sources never seen again) and the packet goes
 * on. The exact clock is read only for the entry's first drop (first_drop_ns, written once) and
 * near its expiry; otherwise the coarse clock shows the expiry is still ahead, or there is none. */
static __always_inline bool block_hit(struct xids_counters *xc, const struct xids_block_key *k,
				      struct xids_block_val *v, __u64 *now, bool *have_now)
{
	__u64 exp = v->expires_ns;
	__u32 r;

	/* An expiry comfortably ahead of the coarse clock has not passed. */
	if (exp && v->first_drop_ns && coarse_ns() + XIDS_COARSE_MARGIN_NS < exp)
		exp = 0;
	if (exp || !v->first_drop_ns) {
		*now = now_ns();
		*have_now = true;
		if (exp && *now >= exp) {
			bpf_map_delete_elem(&blocklist, k);
			cnt(xc, XIDS_C_BLOCK_EXPIRED, 1);
			return false;
		}
		/* Racy by design: two CPUs dropping at once both write a valid "first" time. */
		if (!v->first_drop_ns)
			v->first_drop_ns = *now;
	}
	__sync_fetch_and_add(&v->hits, 1);
	r = v->reason;
	cnt(xc, XIDS_C_DROP_BLOCKED, 1);
	cnt(xc, XIDS_C_DROP_REASON_BASE + (r < XIDS_MAX_BLOCK_REASONS ? r : XIDS_MAX_BLOCK_REASONS - 1), 1);
	return true;
}

/* ---- programs ---- */

/* Whether a SYN (no ACK) to p's destination is within cfg_syn_interval_ns / cfg_syn_burst_ns. */
static __always_inline bool syn_admitted(const struct pkt *p, __u64 now)
{
	struct xids_block_key k = { .family = p->family };
	__u64 *tat, t;

	__builtin_memcpy(k.addr, p->dst, 16);
	tat = bpf_map_lookup_elem(&syn_limit, &k);
	if (!tat) {
		t = now + cfg_syn_interval_ns;
		bpf_map_update_elem(&syn_limit, &k, &t, BPF_ANY);
		return true;
	}
	t = *tat > now ? *tat : now;
	if (t - now > cfg_syn_burst_ns)
		return false;
	/* CPUs racing here may each admit one: the limit is approximate by a few, never stuck. */
	*tat = t + cfg_syn_interval_ns;
	return true;
}

/* No sweep for cfg_self_sweep_ns (user space is not sweeping): this packet runs one, unless
 * another CPU claimed it first. The sweep stage returns the packet's verdict. */
static __always_inline int maybe_self_sweep(struct xdp_md *ctx, __u64 now, int pkt_verdict)
{
	__u64 seen = last_sweep_ns;
	struct xids_infer_state *st;

	if (sat_sub(now, seen) <= cfg_self_sweep_ns)
		return pkt_verdict;
	if (__sync_val_compare_and_swap(&last_sweep_ns, seen, now) != seen)
		return pkt_verdict;
	st = infer_state_get(); /* no flow ended on this packet: nothing is pending */
	if (!st)
		return pkt_verdict;
	st->pkt_verdict = pkt_verdict;
	bpf_tail_call(ctx, &classify_progs, XIDS_STAGE_SWEEP);
	return pkt_verdict; /* the stage is not installed */
}

static __always_inline int pass(struct xids_counters *xc, __u64 len)
{
	cnt(xc, XIDS_C_PKTS_PASSED, 1);
	cnt(xc, XIDS_C_BYTES_PASSED, len);
	return XDP_PASS;
}

static __always_inline int drop(struct xids_counters *xc, __u64 len)
{
	cnt(xc, XIDS_C_PKTS_DROPPED, 1);
	cnt(xc, XIDS_C_BYTES_DROPPED, len);
	return XDP_DROP;
}

SEC("xdp.frags")
int xids_xdp(struct xdp_md *ctx)
{
	/* One counter-block lookup per packet (in the bench's cut-off builds without the counters,
	 * none, and cnt() never touches it). */
	struct xids_counters *xc = XIDS_HAS_STAGE(XIDS_STAGE_COUNTERS) ? counters_get() : NULL;
	struct xids_block_key src = {};
	struct xids_block_val *b;
	struct pkt p;
	__u64 len, now = 0;
	bool have_now = false, allow = false;
	__u32 l3_off = 0;
	int st;

	if (XIDS_HAS_STAGE(XIDS_STAGE_COUNTERS) && !xc)
		return XDP_PASS;
	len = bpf_xdp_get_buff_len(ctx);
	if (!XIDS_HAS_STAGE(1))
		return XDP_PASS;
	cnt(xc, XIDS_C_PKTS_SEEN, 1);
	cnt(xc, XIDS_C_BYTES_SEEN, len);

	st = parse_l3(ctx, &src, &l3_off);
	if (st == P_NON_IP) {
		cnt(xc, XIDS_C_NON_IP, 1);
		return pass(xc, len);
	}
	if (st == P_OK) {
		/* The fixed IP header was readable: the lists apply, even to a packet the rest of the
		 * parse finds malformed, or a fragment (no bypass by malformation). */
		if (!XIDS_HAS_STAGE(2))
			return pass(xc, len);
		b = bpf_map_lookup_elem(&blocklist, &src);
		if (b && block_hit(xc, &src, b, &now, &have_now))
			return drop(xc, len);
		if (!XIDS_HAS_STAGE(3))
			return pass(xc, len);
		allow = addr_allowed(src.family, src.addr);
		if (allow)
			cnt(xc, XIDS_C_ALLOWED, 1);
		if (!XIDS_HAS_STAGE(4))
			return pass(xc, len);
		/* Only now the packet's parse state: the drop path never builds it. */
		__builtin_memset(&p, 0, sizeof(p));
		p.family = src.family;
		__builtin_memcpy(p.src, src.addr, 16);
		st = parse_ip(ctx, &p, l3_off, len);
	}
	if (st == P_MALFORMED) {
		cnt(xc, XIDS_C_MALFORMED, 1);
		if (cfg_drop_malformed && !allow) {
			cnt(xc, XIDS_C_DROP_MALFORMED, 1);
			return drop(xc, len);
		}
		return pass(xc, len);
	}
	if (st == P_FRAGMENT) {
		cnt(xc, XIDS_C_FRAGMENT, 1);
		return pass(xc, len);
	}
	if (st == P_OTHER_L4) {
		cnt(xc, XIDS_C_OTHER_L4, 1);
		return pass(xc, len);
	}
	/* P_OK from here on: p is set. */
	if (!XIDS_HAS_STAGE(5))
		return pass(xc, len);
	if (!have_now)
		now = now_ns();
	if (!XIDS_HAS_STAGE(6))
		return pass(xc, len);
	if (cfg_syn_interval_ns && !allow && p.proto == IPPROTO_TCP && (p.tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	    !syn_admitted(&p, now)) {
		cnt(xc, XIDS_C_SYN_LIMITED, 1);
		return drop(xc, len);
	}
	/* A packet that ended flows takes one last step: classify and submit their records (tail
	 * calls). Mid-flow packets skip it and never touch the classifier's state. */
	if (cfg_track_flows && track_flow(ctx, xc, &p, now / 1000) && XIDS_HAS_STAGE(XIDS_STAGE_SHIPPED))
		return classify_pending(ctx, pass(xc, len));
	if (cfg_self_sweep_ns && cfg_track_flows && XIDS_HAS_STAGE(XIDS_STAGE_SHIPPED))
		return maybe_self_sweep(ctx, now, pass(xc, len));
	return pass(xc, len);
}

/* ---- sweep: end timed-out flows (or flush all) without traffic ---- */
struct sweep_ctx {
	__u64 now_us;
	__u32 mode;
	__u32 max;
	__u32 visited;
	__u32 ended;
};

static long sweep4_cb(struct bpf_map *map, struct xids_flow4_key *k, struct xids_flow_acc *a,
		      struct sweep_ctx *s)
{
	__u8 why = s->mode == XIDS_SWEEP_FLUSH ? XIDS_END_EOC : timeout_reason(a, s->now_us);

	s->visited++;
	if (why == XIDS_END_NONE)
		return 0;
	end_flow(k->a_addr, k->b_addr, k->a_port, k->b_port, k->proto, 4, a, why, s->now_us, false);
	bpf_map_delete_elem(map, k);
	s->ended++;
	return s->ended >= s->max ? 1 : 0;
}

static long sweep6_cb(struct bpf_map *map, struct xids_flow6_key *k, struct xids_flow_acc *a,
		      struct sweep_ctx *s)
{
	__u8 why = s->mode == XIDS_SWEEP_FLUSH ? XIDS_END_EOC : timeout_reason(a, s->now_us);

	s->visited++;
	if (why == XIDS_END_NONE)
		return 0;
	end_flow(k->a_addr, k->b_addr, k->a_port, k->b_port, k->proto, 6, a, why, s->now_us, false);
	bpf_map_delete_elem(map, k);
	s->ended++;
	return s->ended >= s->max ? 1 : 0;
}

struct block_sweep_ctx {
	__u64 now;
	__u32 expired;
};

static long block_expire_cb(struct bpf_map *map, struct xids_block_key *k, struct xids_block_val *v,
			    struct block_sweep_ctx *s)
{
	if (v->expires_ns && s->now >= v->expires_ns && bpf_map_delete_elem(map, k) == 0)
		s->expired++;
	return 0;
}

/* Removes expired block-list entries (a source that never sends again would otherwise hold its
 * slot for good). */
static __always_inline __u32 expire_blocks(__u64 now)
{
	struct block_sweep_ctx s = { .now = now };

	bpf_for_each_map_elem(&blocklist, block_expire_cb, &s, 0);
	count(XIDS_C_BLOCK_EXPIRED, s.expired);
	return s.expired;
}

/* Ends up to `budget` timed-out flows (or all, flushing) into the pending records. */
static __always_inline void sweep_flows(struct sweep_ctx *s)
{
	bpf_for_each_map_elem(&flows4, sweep4_cb, s, 0);
	if (s->ended < s->max)
		bpf_for_each_map_elem(&flows6, sweep6_cb, s, 0);
}

/* Run with BPF_PROG_TEST_RUN; the packet is a struct xids_sweep_cmd and gets the result back.
 * An XDP program (not SYSCALL) so it shares the flow-end path, and later the classifier. */
SEC("xdp.frags")
int xids_sweep(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xids_sweep_cmd *cmd = data;
	struct sweep_ctx s = {};
	__u64 now = now_ns();

	if ((void *)(cmd + 1) > data_end || cmd->magic != XIDS_SWEEP_MAGIC)
		return XDP_ABORTED;
	last_sweep_ns = now;
	s.now_us = now / 1000;
	s.mode = cmd->mode;
	/* One round ends no more flows than the classifier can take in one chain of tail calls;
	 * the effective cap goes back to user space, which runs rounds until one falls short. */
	s.max = classify_budget(0);
	if (cmd->max_records && cmd->max_records < s.max)
		s.max = cmd->max_records;
	sweep_flows(&s);
	cmd->visited = s.visited;
	cmd->ended = s.ended;
	cmd->max_records = s.max;
	cmd->blocks_expired = cmd->blocks ? expire_blocks(now) : 0;
	return classify_pending(ctx, XDP_PASS);
}

/* The data plane's own sweep (XIDS_STAGE_SWEEP, tail-called by a packet: maybe_self_sweep). It
 * ends what one chain of tail calls can classify after this one; when it found that many, the
 * next packet may sweep again at once, so a backlog drains at packet pace, not once a period. */
SEC("xdp.frags")
int xids_self_sweep(struct xdp_md *ctx)
{
	struct xids_infer_state *st = infer_state_get();
	struct sweep_ctx s = {};
	__u64 now = now_ns();

	if (!st)
		return XDP_PASS;
	count(XIDS_C_SELF_SWEEPS, 1);
	s.now_us = now / 1000;
	s.mode = XIDS_SWEEP_EXPIRE;
	s.max = classify_budget(1);
	sweep_flows(&s);
	if (s.ended >= s.max)
		last_sweep_ns = now - cfg_self_sweep_ns;
	else
		expire_blocks(now);
	return classify_pending(ctx, st->pkt_verdict);
}
