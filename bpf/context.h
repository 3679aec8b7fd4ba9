/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * context.h - the source context, included by xids.bpf.c after its helpers.
 *
 * Every feature of FEATURES.md 0..21 describes one flow. Floods, brute force and slow DoS are
 * made of flows that each look ordinary; what gives them away is the source's behaviour across
 * flows: how many, how fast, how many ports, how many never completed a handshake. This keeps that
 * per source (map "srcctx", keyed like the block list) and appends it to every flow record as
 * features 22..31 and 36. It is updated when a flow starts and when it ends, never on a
 * mid-flow packet.
 *
 * Windows slide: each is the current bucket plus the previous one weighted by the part of it still
 * inside the window (weight = floor((W - elapsed) * 65536 / W), est = cur + floor(prev * weight /
 * 65536), in µs). Sketches (distinct ports
 * and addresses) are bitmaps of the current and previous long bucket; their count is the bits set.
 * The TypeScript reference (plugins/extractors/xdp/context.ts) does exactly the same.
 *
 * Spoofed random-source floods create one context per spoofed address: the LRU map then evicts the
 * least recently used ones (counted as XIDS_C_CTX_NEW minus live entries), so a real source's
 * history can be lost under such a flood; memory stays bounded by the map size.
 */

const volatile __u64 cfg_ctx_short_us = 1000000ULL; /* 1 s: flows started (Src Flows 1s) */
const volatile __u64 cfg_ctx_long_us = 10000000ULL; /* 10 s: everything else */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xids_block_key);
	__type(value, struct xids_src_ctx);
} srcctx SEC(".maps");

/* A new context is built here, not on the stack (the XDP program's stack is nearly full). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xids_src_ctx);
} ctx_scratch SEC(".maps");

/* Fibonacci hashing: the top bits of x * 2^32/phi (wrapping in 32 bits). */
static __always_inline __u32 ctx_hash(__u32 x, int bits)
{
	return (__u32)(x * 2654435761U) >> (32 - bits);
}

/* The 32-bit big-endian words of an address, XORed (IPv4: its one word). */
static __always_inline __u32 ctx_fold(const __u8 *a, __u8 family)
{
	__u32 w = ((__u32)a[0] << 24) | ((__u32)a[1] << 16) | ((__u32)a[2] << 8) | a[3];
	if (family == 6) {
		w ^= ((__u32)a[4] << 24) | ((__u32)a[5] << 16) | ((__u32)a[6] << 8) | a[7];
		w ^= ((__u32)a[8] << 24) | ((__u32)a[9] << 16) | ((__u32)a[10] << 8) | a[11];
		w ^= ((__u32)a[12] << 24) | ((__u32)a[13] << 16) | ((__u32)a[14] << 8) | a[15];
	}
	return w;
}

/* Moves both windows on to now: one window on, the current bucket becomes the previous one; two
 * or more, both are stale. A clock that stepped back moves nothing. Ends pending from an earlier
 * instant are counted first, in the bucket they belong to. */
static __always_inline void ctx_roll(struct xids_src_ctx *c, __u64 now_us)
{
	if (c->pending.at_us != now_us) {
		c->cur.ended += c->pending.ended;
		c->cur.no_handshake += c->pending.no_handshake;
		c->cur.rst += c->pending.rst;
		c->cur.short_flows += c->pending.short_flows;
		c->cur.payload += c->pending.payload;
		c->cur.acked += c->pending.acked;
		__builtin_memset(&c->pending, 0, sizeof(c->pending));
		c->pending.at_us = now_us;
	}
	__u64 ws = cfg_ctx_short_us, wl = cfg_ctx_long_us;
	__u64 es = sat_sub(now_us, c->short_start_us), el = sat_sub(now_us, c->long_start_us);

	if (es >= ws) {
		if (es < 2 * ws) {
			c->short_prev = c->short_cur;
			c->short_start_us += ws;
		} else {
			c->short_prev = 0;
			c->short_start_us = now_us;
		}
		c->short_cur = 0;
	}
	if (el >= wl) {
		if (el < 2 * wl) {
			c->prev = c->cur;
			c->long_start_us += wl;
		} else {
			__builtin_memset(&c->prev, 0, sizeof(c->prev));
			c->long_start_us = now_us;
		}
		__builtin_memset(&c->cur, 0, sizeof(c->cur));
	}
}

/* The previous bucket's weight in the estimate, in 1/65536: the part of it still inside the last
 * W (one division per window, not one per feature). elapsed < W after ctx_roll. */
static __always_inline __u64 ctx_weight(__u64 start_us, __u64 w, __u64 now_us)
{
	__u64 e = sat_sub(now_us, start_us);
	return e < w ? ((w - e) << 16) / w : 0;
}

/* cur + floor(prev * weight / 65536): the count over the last W. */
static __always_inline __u64 ctx_est(__u64 cur, __u64 prev, __u64 weight)
{
	return cur + ((prev * weight) >> 16);
}

/* Arguments of the two context hooks (a global function takes pointers to fixed-size memory). */
struct ctx_event {
	__u8 family;
	__u8 pad;
	__u16 dport;
	__u8 src[16];
	__u8 dst[16];
	__u64 now_us;
};

static __always_inline struct xids_src_ctx *ctx_get(const struct ctx_event *ev, bool create)
{
	struct xids_block_key k = { .family = ev->family };
	struct xids_src_ctx *c, *fresh;
	__u32 zero = 0;

	__builtin_memcpy(k.addr, ev->src, 16);
	if (ev->family == 4)
		__builtin_memset(k.addr + 4, 0, 12);
	c = bpf_map_lookup_elem(&srcctx, &k);
	if (c || !create)
		return c;
	fresh = bpf_map_lookup_elem(&ctx_scratch, &zero);
	if (!fresh)
		return NULL;
	__builtin_memset(fresh, 0, sizeof(*fresh));
	fresh->short_start_us = ev->now_us;
	fresh->long_start_us = ev->now_us;
	fresh->pending.at_us = ev->now_us;
	/* NOEXIST: another CPU may have inserted it meanwhile; then that entry is the one. */
	if (bpf_map_update_elem(&srcctx, &k, fresh, BPF_NOEXIST) == 0)
		count(XIDS_C_CTX_NEW, 1);
	c = bpf_map_lookup_elem(&srcctx, &k);
	if (!c)
		count(XIDS_C_CTX_INSERT_FAILED, 1);
	return c;
}

/* Counts a flow start into a rolled context: the flow, its destination port and address. */
static __always_inline void ctx_count_start(struct xids_src_ctx *c, const struct ctx_event *ev)
{
	__u32 pb = ctx_hash(ev->dport, 7), ab = ctx_hash(ctx_fold(ev->dst, ev->family), 6), sb = ctx_hash(ev->dport, 4);
	c->short_cur += 1;
	c->cur.started += 1;
	c->cur.ports[(pb >> 6) & 1] |= 1ULL << (pb & 63);
	c->cur.addrs |= 1ULL << (ab & 63);
	if (c->cur.same_port[sb & (XIDS_CTX_SAME_PORT - 1)] < 0xffff)
		c->cur.same_port[sb & (XIDS_CTX_SAME_PORT - 1)] += 1;
}

/* A flow started: count it and mark its destination port and address. */
__noinline int xids_ctx_flow_start(const struct ctx_event *ev)
{
#ifdef XIDS_NO_CONTEXT /* the bench's variant without the source context (features 22..31 = 0) */
	return ev ? 0 : -1;
#endif
	if (!ev)
		return -1;
	struct xids_src_ctx *c = ctx_get(ev, true);
	if (!c)
		return -1;
	ctx_roll(c, ev->now_us);
	ctx_count_start(c, ev);
	return 0;
}

/* A flow ended: write its source's context into the record (features 22..31, 36): the history before
 * this instant plus the flow itself; then count how it ended (pending until the clock moves).
 * started_too: the flow also started with this packet (one-packet flows: scans, floods), so its
 * start is counted here first, on the same context, saving the start hook's lookup. */
__noinline int xids_ctx_flow_end(const struct ctx_event *ev, const struct xids_flow_acc *a, struct xids_flow_record *r, __u32 started_too)
{
#ifdef XIDS_NO_CONTEXT
	return ev && a && r && started_too < 2 ? 0 : -1;
#endif
	if (!ev || !a || !r)
		return -1;
	/* A flow whose start was never seen (a pinned table from an earlier run) still has a source. */
	struct xids_src_ctx *c = ctx_get(ev, true);
	if (!c)
		return -1;
	ctx_roll(c, ev->now_us);
	if (started_too)
		ctx_count_start(c, ev);
	__u32 no_hs = r->proto == IPPROTO_TCP && (a->flags & XIDS_FL_SYN0) && !(a->flags & XIDS_FL_ACK);
	__u32 rst = r->end_reason == XIDS_END_RST;
	__u32 shrt = a->n <= 3;

	__u64 wl = ctx_weight(c->long_start_us, cfg_ctx_long_us, ev->now_us);
	__u64 ws = ctx_weight(c->short_start_us, cfg_ctx_short_us, ev->now_us);
	__u32 sb = ctx_hash(ev->dport, 4) & (XIDS_CTX_SAME_PORT - 1);
	__u64 ended = ctx_est(c->cur.ended + 1, c->prev.ended, wl);
	__u64 payload = ctx_est(c->cur.payload + a->sum_p, c->prev.payload, wl);
	__u64 acked = ctx_est(c->cur.acked + a->acked, c->prev.acked, wl);
	__u64 *f = r->features;

	f[22] = ctx_est(c->short_cur, c->short_prev, ws);
	f[23] = ctx_est(c->cur.started, c->prev.started, wl);
	f[24] = __builtin_popcountll(c->cur.ports[0] | c->prev.ports[0]) + __builtin_popcountll(c->cur.ports[1] | c->prev.ports[1]);
	f[25] = __builtin_popcountll(c->cur.addrs | c->prev.addrs);
	f[26] = ctx_est(c->cur.same_port[sb], c->prev.same_port[sb], wl);
	f[27] = ended;
	f[28] = ctx_est(c->cur.no_handshake + no_hs, c->prev.no_handshake, wl);
	f[29] = ctx_est(c->cur.rst + rst, c->prev.rst, wl);
	f[30] = ctx_est(c->cur.short_flows + shrt, c->prev.short_flows, wl);
	f[31] = ended ? payload / ended : 0;
	f[36] = ended ? acked / ended : 0;

	c->pending.ended += 1;
	c->pending.no_handshake += no_hs;
	c->pending.rst += rst;
	c->pending.short_flows += shrt;
	c->pending.payload += a->sum_p;
	c->pending.acked += a->acked;
	return 0;
}
