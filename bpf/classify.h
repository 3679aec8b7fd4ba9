/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * classify.h - in-kernel classification of ended flows, included at the end of xids.bpf.c.
 *
 * A flow's record waits in the per-CPU scratch map; the packet that ended it tail-calls
 * XIDS_STAGE_ENTRY, which picks the active parameter slot once, then either walks the decision
 * tree or standardises the inputs and runs the MLP's layers: inline, in the same program, while
 * they are at most 32 wide (up to 4 of them: every shipped shape), then XIDS_STAGE_LAYER, one tail
 * call per remaining layer, so any shape up to 16 x 64 needs no C change. The last stage writes
 * the verdict into the record, blocks the source if configured, emits the record and returns the
 * packet's own verdict. Arithmetic is INT32_SPEC.md, bit for bit.
 *
 * Hot update without a lock: user space writes the idle slot, then flips model_index. An
 * inference reads the index once and keeps its slot to the end. Before user space rewrites a
 * slot it waits until no CPU is inside an inference that started before the flip: each CPU's
 * infer_state.seq is odd exactly while an inference runs (see plugins/models/kernel/model-slots.ts).
 *
 * Needs from the includer: maps scratch (XIDS_MAX_PENDING records), events, blocklist,
 * local_addrs; helpers count(), counters_get(), now_ns() and addr_allowed(). Flows end into
 * scratch (end_flow), and every program that can end flows returns through classify_pending().
 */

/* The block settings (pipeline.block) are not load-time constants: user space rewrites them while
 * traffic flows (a reload). They are read only where a flow ends, never on a packet's way, and
 * live in a data section of their own, so rewriting it touches no other global. */
#define XIDS_POLICY SEC(".data.policy")
__u32 cfg_model_action XIDS_POLICY = XIDS_ACTION_BLOCK;
__u64 cfg_block_ttl_ns XIDS_POLICY = 600000000000ULL; /* 10 min; 0 = permanent */
__u32 cfg_block_reason XIDS_POLICY = 1;
/* Block policy: a source is blocked once, over the last window, it has at least this many attack
 * verdicts and attacks are at least this share (%) of its verdicts. 1 and 0: the first attack
 * verdict blocks (and the evidence map is never touched). One wrong verdict among a client's
 * many right ones then does not cut it off; a scanner or flood has nearly only attack flows.
 * The window slides: the previous window's counts weigh in by the part of it still inside the
 * last window_ns, so a client's benign history does not vanish at a window boundary (with a
 * tumbling window, two wrong verdicts right after a boundary would be 100 % and block it). */
__u32 cfg_block_min_attacks XIDS_POLICY = 1;
__u32 cfg_block_min_attack_pct XIDS_POLICY = 0;
__u64 cfg_block_window_ns XIDS_POLICY = 10000000000ULL; /* 10 s */
/* A source whose only traffic is one packet (what a random-source flood sends from each address:
 * one SYN, ACK or datagram) is not blocked unless this is set: it cannot be told from a spoofed
 * address, and blocking spoofed addresses fills the block list and protects nothing. Its verdict
 * still counts as evidence, so a real scanner is blocked on its next flow. */
bool cfg_block_lone_packet XIDS_POLICY = false;
/* Block list full: evict the entry closest to expiry (never a permanent one) to make room, or
 * (false) refuse the new entry and keep the old ones. Either way it is counted and reported. */
bool cfg_block_evict XIDS_POLICY = true;

#define XIDS_E2BIG 7

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct xids_block_key);
	__type(value, struct xids_evidence);
} evidence SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XIDS_STAGE__MAX);
	__type(key, __u32);
	__type(value, __u32);
} classify_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xids_model_index);
} model_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XIDS_MODEL_SLOTS);
	__type(key, __u32);
	__type(value, struct xids_model_meta);
} model_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XIDS_MODEL_SLOTS * XIDS_MLP_MAX_LAYERS);
	__type(key, __u32);
	__type(value, struct xids_mlp_layer);
} mlp_layers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XIDS_MODEL_SLOTS * XIDS_DT_MAX_NODES);
	__type(key, __u32);
	__type(value, struct xids_dt_node);
} dt_nodes SEC(".maps");

/* One value per slot: the whole ensemble, so the walk needs one lookup and no null check per node. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XIDS_MODEL_SLOTS);
	__type(key, __u32);
	__type(value, struct xids_gbt_slot);
} gbt_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xids_infer_state);
} infer_state SEC(".maps");

static __always_inline struct xids_infer_state *infer_state_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&infer_state, &zero);
}

static __always_inline struct xids_flow_record *pending_record(__u32 i)
{
	return bpf_map_lookup_elem(&scratch, &i);
}

static __always_inline void emit_record(struct xids_flow_record *r)
{
	if (bpf_ringbuf_output(&events, r, sizeof(*r), 0))
		count(XIDS_C_RECORDS_LOST, 1);
	else
		count(XIDS_C_RECORDS_EMITTED, 1);
}

static __always_inline __s64 sat32(__s64 v)
{
	if (v > 2147483647LL)
		return 2147483647LL;
	if (v < -2147483648LL)
		return -2147483648LL;
	return v;
}

/* log2(x + 1) in Q8: the top bit's position, then the 8 bits below it as a linear mantissa
 * (models/mlp/log2q8.ts computes the same). x is clamped to xmax <= 2^31, so y < 2^32 and the
 * result is at most 31 * 256. Without a branch to mispredict (the inputs' magnitudes vary from
 * flow to flow): (c - v) >> 63 is 1 exactly when v > c (v < 2^63), which takes the top bit's
 * search down to one byte in two steps, a table gives that byte's top bit, and (y << 8) >> msb
 * is the mantissa on either side of msb = 8. Identical to the branchy search it replaced for
 * every x in 0..2^31 (checked exhaustively). */
static const __u8 log2q8_msb8[256] = {
	[2 ... 3] = 1, [4 ... 7] = 2, [8 ... 15] = 3, [16 ... 31] = 4,
	[32 ... 63] = 5, [64 ... 127] = 6, [128 ... 255] = 7,
};

static __always_inline __u64 log2q8(__u64 x)
{
	__u64 y = x + 1, v = y, s, msb;

	s = ((0xffffULL - v) >> 63) << 4;
	v >>= s;
	msb = s;
	s = ((0xffULL - v) >> 63) << 3;
	v >>= s;
	msb += s;
	msb += log2q8_msb8[v & 255];
	return (msb << 8) | (((y << 8) >> msb) & 255);
}

struct evict_ctx {
	__u64 soonest;
	struct xids_block_key key;
	bool found;
};

static long evict_pick_cb(struct bpf_map *map, struct xids_block_key *k, struct xids_block_val *v,
			  struct evict_ctx *e)
{
	if (v->expires_ns && (!e->found || v->expires_ns < e->soonest)) {
		e->soonest = v->expires_ns;
		e->key = *k;
		e->found = true;
	}
	return 0;
}

/* Writes the block; a full list evicts the entry closest to expiry first (cfg_block_evict).
 * Returns 0 or the update's negative errno. */
static __always_inline long block_insert(const struct xids_block_key *k, const struct xids_block_val *v)
{
	long err = bpf_map_update_elem(&blocklist, k, v, BPF_ANY);
	struct evict_ctx e = {};

	if (err != -XIDS_E2BIG || !cfg_block_evict)
		return err;
	bpf_for_each_map_elem(&blocklist, evict_pick_cb, &e, 0);
	if (!e.found)
		return err; /* only permanent entries: nothing may go */
	if (bpf_map_delete_elem(&blocklist, &e.key) == 0)
		count(XIDS_C_BLOCK_EVICTED, 1);
	return bpf_map_update_elem(&blocklist, k, v, BPF_ANY);
}

/* Blocks the record's source; the outcome goes into the record. The data plane's drop path never
 * consults the allow list, so an allow-listed source must never stay in the block list: the caller
 * checked the allow list before, and it is checked again after the insert. User space's allow()
 * puts the CIDR in first and then lifts every block inside it, so a verdict racing with it either
 * sees the CIDR here (and takes its entry back) or has its entry lifted there. The atomic add of
 * 0 is the full barrier that orders the insert before the second lookup. */
static __always_inline void block_source(struct xids_flow_record *r, const struct xids_block_key *k)
{
	struct xids_block_val v = {};
	struct xids_counters *xc;
	long err;

	v.added_ns = now_ns();
	v.expires_ns = cfg_block_ttl_ns ? v.added_ns + cfg_block_ttl_ns : 0;
	v.reason = cfg_block_reason;
	err = block_insert(k, &v);
	if (err) {
		count(XIDS_C_BLOCK_FAILED, 1);
		r->block_action = XIDS_BLOCK_FAILED;
		r->block_error = err;
		return;
	}
	xc = counters_get();
	if (xc)
		__sync_fetch_and_add(&xc->c[XIDS_C_BLOCKS_ADDED], 0);
	if (addr_allowed(r->family, r->src)) {
		bpf_map_delete_elem(&blocklist, k);
		r->block_action = XIDS_BLOCK_ALLOWED;
		return;
	}
	count(XIDS_C_BLOCKS_ADDED, 1);
	r->block_action = XIDS_BLOCK_BLOCKED;
}

/* The record is one packet and its source has started nothing else (FEATURES.md 2 and 23). */
static __always_inline bool lone_packet(const struct xids_flow_record *r)
{
	return r->features[2] == 1 && r->features[23] <= 1;
}

/* The previous window's weight in the sliding estimate, in 1/1024: the part of it that is still
 * inside the last window_ns. */
#define XIDS_EVIDENCE_ONE 1024

/* Adds one verdict to the source's evidence; true when the block policy says: block it now.
 * *count gets the attack verdicts it holds for the source (the sliding estimate, floored). */
static __always_inline bool enough_evidence(const struct xids_block_key *k, bool attack, __u32 *count_out)
{
	struct xids_evidence *e, fresh = {};
	__u64 now, elapsed, w = cfg_block_window_ns, prev_w, attacks, benign;

	*count_out = attack;
	if (cfg_block_min_attacks <= 1 && !cfg_block_min_attack_pct)
		return attack;
	now = now_ns();
	e = bpf_map_lookup_elem(&evidence, k);
	if (!e) {
		fresh.window_start_ns = now;
		fresh.attacks = attack;
		fresh.benign = !attack;
		bpf_map_update_elem(&evidence, k, &fresh, BPF_ANY);
		return attack && 1 >= cfg_block_min_attacks && 100 >= cfg_block_min_attack_pct;
	}
	elapsed = now - e->window_start_ns;
	if (elapsed >= w) {
		/* One window on, the current counts become the previous ones; two or more, both are
		 * stale. (CPUs racing here may lose a verdict: the estimate is approximate, never stuck.) */
		if (elapsed < 2 * w) {
			e->prev_attacks = e->attacks;
			e->prev_benign = e->benign;
			e->window_start_ns += w;
		} else {
			e->prev_attacks = 0;
			e->prev_benign = 0;
			e->window_start_ns = now;
		}
		e->attacks = 0;
		e->benign = 0;
		elapsed = now - e->window_start_ns;
	}
	if (attack)
		__sync_fetch_and_add(&e->attacks, 1);
	else
		__sync_fetch_and_add(&e->benign, 1);
	prev_w = elapsed < w ? (w - elapsed) * XIDS_EVIDENCE_ONE / w : 0;
	attacks = (__u64)e->attacks * XIDS_EVIDENCE_ONE + (__u64)e->prev_attacks * prev_w;
	benign = (__u64)e->benign * XIDS_EVIDENCE_ONE + (__u64)e->prev_benign * prev_w;
	*count_out = attacks / XIDS_EVIDENCE_ONE;
	return attack && attacks >= (__u64)cfg_block_min_attacks * XIDS_EVIDENCE_ONE &&
	       attacks * 100 >= (__u64)cfg_block_min_attack_pct * (attacks + benign);
}

/* What the verdict does to the record's source, written into the record (block_action and its
 * detail): the policy's evidence, then the rules that overrule it, then the block list. A global
 * function: verified once, not at each of finish_record's inlined call sites. */
__noinline int xids_act_on_verdict(struct xids_flow_record *r)
{
	struct xids_block_key k = {};
	bool attack, enough;
	__u32 n = 0;

	if (!r)
		return 0;
	attack = r->verdict == XIDS_VERDICT_ATTACK;
	if (attack)
		count(XIDS_C_VERDICT_ATTACK, 1);
	else
		count(XIDS_C_VERDICT_BENIGN, 1);
	if (cfg_model_action != XIDS_ACTION_BLOCK) {
		r->block_action = attack ? XIDS_BLOCK_ALERT : XIDS_BLOCK_NONE;
		return 0;
	}
	k.family = r->family;
	__builtin_memcpy(k.addr, r->src, 16); /* an IPv4 source is zero-padded, as in the block list */
	/* Allow-listed and local sources gather no evidence: nothing they do may block them. */
	if (addr_allowed(r->family, r->src)) {
		r->block_action = attack ? XIDS_BLOCK_ALLOWED : XIDS_BLOCK_NONE;
		return 0;
	}
	if (bpf_map_lookup_elem(&local_addrs, &k)) {
		if (attack)
			count(XIDS_C_BLOCK_NEVER, 1);
		r->block_action = attack ? XIDS_BLOCK_NEVER : XIDS_BLOCK_NONE;
		return 0;
	}
	enough = enough_evidence(&k, attack, &n);
	r->evidence = n > 0xffff ? 0xffff : n;
	if (!attack)
		return 0;
	if (!enough) {
		r->block_action = XIDS_BLOCK_NOT_YET;
		return 0;
	}
	if (!cfg_block_lone_packet && lone_packet(r)) {
		count(XIDS_C_BLOCK_LONE_PACKET, 1);
		r->block_action = XIDS_BLOCK_LONE_PACKET;
		return 0;
	}
	block_source(r, &k);
	return 0;
}

/* Publishes an evaluation result into the test-run packet. */
static __always_inline void write_eval(struct xdp_md *ctx, struct xids_infer_state *st,
				       const struct xids_flow_record *r, __s64 l0, __s64 l1)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xids_eval_io *io = data;

	if ((void *)(io + 1) > data_end)
		return;
	io->verdict = r->verdict;
	io->score = r->score;
	io->slot_used = st->slot;
	io->version = st->version;
	io->logit0 = l0;
	io->logit1 = l1;
}

/* Ends the classification of the current record and moves on to the next pending one, or
 * returns the packet's verdict. Called from every stage, including failure paths, so that seq
 * always returns to even. */
static __always_inline int finish_record(struct xdp_md *ctx, struct xids_infer_state *st, __u8 verdict,
					 __s64 score, __s64 l0, __s64 l1)
{
	struct xids_flow_record *r = pending_record(st->rec);

	if (r) {
		r->verdict = verdict;
		r->score = verdict == XIDS_VERDICT_NONE ? 0 : score;
		r->model_slot = verdict == XIDS_VERDICT_NONE ? 0 : st->slot;
		r->model_version = verdict == XIDS_VERDICT_NONE ? 0 : st->version;
	}
	/* Release the slot: a full barrier, so hot update sees it only after our last read. */
	if (st->seq & 1)
		__sync_fetch_and_add(&st->seq, 1);
	if (st->eval) {
		if (r)
			write_eval(ctx, st, r, l0, l1);
		st->n_rec = 0;
		return XDP_PASS;
	}
	if (r) {
		if (verdict != XIDS_VERDICT_NONE)
			xids_act_on_verdict(r);
		emit_record(r);
	}
	st->rec++;
	if (st->rec < st->n_rec && st->rec < XIDS_MAX_PENDING) {
		bpf_tail_call(ctx, &classify_progs, XIDS_STAGE_ENTRY);
		/* Out of tail calls (or stages gone): what is left goes out unclassified. */
		for (__u32 i = 1; i < XIDS_MAX_PENDING; i++) {
			if (st->rec >= st->n_rec)
				break;
			r = pending_record(st->rec);
			if (r) {
				count(XIDS_C_INFER_ABORTED, 1);
				emit_record(r);
			}
			st->rec++;
		}
	}
	st->n_rec = 0;
	return st->pkt_verdict;
}

/* Whether a model is active: flows end into the pending records only then. */
static __always_inline const struct xids_model_meta *active_model(void)
{
	struct xids_model_index *ix;
	struct xids_model_meta *m;
	__u32 zero = 0, slot;

	ix = bpf_map_lookup_elem(&model_index, &zero);
	if (!ix)
		return NULL;
	slot = ix->active_slot & (XIDS_MODEL_SLOTS - 1);
	m = bpf_map_lookup_elem(&model_meta, &slot);
	return m && m->kind != XIDS_MODEL_NONE ? m : NULL;
}

/* How many records one chain of tail calls can classify: each MLP record takes at most
 * 1 + n_layers tail calls (1 when its layers all run inline), each tree record 1, and a chain may make XIDS_MAX_TAIL_CALLS, of which `used` were
 * made before the records (the sweep stage). No model: any. */
static __always_inline __u32 classify_budget(__u32 used)
{
	const struct xids_model_meta *m = active_model();
	__u32 per_record, n;

	if (!m)
		return 0xffffffff;
	per_record = m->kind == XIDS_MODEL_MLP ? 1 + (m->n_layers & (XIDS_MLP_MAX_LAYERS - 1)) : 1;
	if (m->kind == XIDS_MODEL_MLP && m->n_layers >= XIDS_MLP_MAX_LAYERS)
		per_record = 1 + XIDS_MLP_MAX_LAYERS;
	n = (XIDS_MAX_TAIL_CALLS - used) / per_record;
	return n < XIDS_MAX_PENDING ? (n ? n : 1) : XIDS_MAX_PENDING;
}

/* Called as the very last step of a program that may have ended flows: the records wait in
 * scratch[0..n_rec). Never returns when a model is active (the stages return for it). */
static __always_inline int classify_pending(struct xdp_md *ctx, int pkt_verdict)
{
	struct xids_infer_state *st = infer_state_get();
	__u32 i, n;

	if (!st || !st->n_rec)
		return pkt_verdict;
	n = st->n_rec;
	st->rec = 0;
	st->pkt_verdict = pkt_verdict;
	st->eval = 0;
	st->eval_slot = XIDS_EVAL_ACTIVE_SLOT;
	if (active_model())
		bpf_tail_call(ctx, &classify_progs, XIDS_STAGE_ENTRY);
	/* No model (or its stages are not installed): records go out without a verdict. */
	for (i = 0; i < XIDS_MAX_PENDING; i++) {
		struct xids_flow_record *r;
		if (i >= n)
			break;
		r = pending_record(i);
		if (r)
			emit_record(r);
	}
	st->n_rec = 0;
	return pkt_verdict;
}

static __always_inline int dt_walk(struct xdp_md *ctx, struct xids_infer_state *st,
				   const struct xids_flow_record *r)
{
	__u32 idx = 0, d;

	for (d = 0; d < XIDS_DT_MAX_DEPTH; d++) {
		__u32 key = st->slot * XIDS_DT_MAX_NODES + (idx & (XIDS_DT_MAX_NODES - 1));
		struct xids_dt_node *n = bpf_map_lookup_elem(&dt_nodes, &key);
		__u32 f;

		if (!n)
			break;
		if (n->feature < 0) {
			__s64 score = n->value;
			return finish_record(ctx, st, n->is_attack ? XIDS_VERDICT_ATTACK : XIDS_VERDICT_BENIGN,
					     score, 0, score);
		}
		f = n->feature;
		if (f >= XIDS_NUM_FEATURES)
			break;
		idx = (__s64)r->features[f] <= n->threshold ? n->left : n->right;
	}
	/* A malformed tree (cycle, bad index): no verdict rather than a wrong one. */
	count(XIDS_C_INFER_ABORTED, 1);
	return finish_record(ctx, st, XIDS_VERDICT_NONE, 0, 0, 0);
}

/* The boosted ensemble's margin for the record (models/GBT_SPEC.md) into st->act[0][0]: base plus
 * one leaf value per tree, in s64; its threshold into st->act[0][1], so the caller needs no lookup
 * of its own. Returns 0, or -1 for a malformed ensemble (a feature out of
 * range, or the walk bound reached: a cycle): no verdict rather than a wrong one. A global
 * function: verified once, on its own, so its bounded walk does not multiply with the entry
 * stage's paths. Nodes are read through a masked index, so any stored index stays in bounds. */
__noinline int xids_gbt_margin(struct xids_flow_record *r, struct xids_infer_state *st)
{
	const struct xids_gbt_slot *g;
	__u32 slot, idx = 0, i;
	__s64 margin;

	if (!r || !st)
		return -1;
	slot = st->slot & (XIDS_MODEL_SLOTS - 1);
	g = bpf_map_lookup_elem(&gbt_slots, &slot);
	if (!g)
		return -1;
	margin = g->base;
#pragma nounroll
	for (i = 0; i < XIDS_GBT_MAX_STEPS; i++) {
		const struct xids_gbt_node *n = &g->nodes[idx & (XIDS_GBT_MAX_NODES - 1)];
		__s32 f = n->feature;

		if ((__u32)f >= XIDS_NUM_FEATURES) {
			if (f != -1)
				return -1;
			margin += n->threshold;
			if (n->next == XIDS_GBT_END) {
				st->act[0][0] = margin;
				st->act[0][1] = g->threshold;
				return 0;
			}
			idx = n->next;
			continue;
		}
		idx = n->next + ((__s64)r->features[f] > n->threshold);
	}
	return -1;
}

static __always_inline int gbt_classify(struct xdp_md *ctx, struct xids_infer_state *st,
					struct xids_flow_record *r)
{
	__s64 margin, thr;

	if (xids_gbt_margin(r, st)) {
		count(XIDS_C_INFER_ABORTED, 1);
		return finish_record(ctx, st, XIDS_VERDICT_NONE, 0, 0, 0);
	}
	margin = st->act[0][0];
	thr = st->act[0][1];
	/* attack iff margin > threshold; the score is their difference, saturated to s32. */
	return finish_record(ctx, st, margin > thr ? XIDS_VERDICT_ATTACK : XIDS_VERDICT_BENIGN,
			     sat32(margin - thr), sat32(thr), sat32(margin));
}

/* The logits are in act[dst]: attack iff logit1 > logit0 (ties go to benign). */
static __always_inline int finish_logits(struct xdp_md *ctx, struct xids_infer_state *st, __u32 dst)
{
	__s64 l0 = st->act[dst & 1][0], l1 = st->act[dst & 1][1];

	return finish_record(ctx, st, l1 > l0 ? XIDS_VERDICT_ATTACK : XIDS_VERDICT_BENIGN, sat32(l1 - l0), l0, l1);
}

static __always_inline __s64 neuron_out(__u64 acc, __u32 shift, bool relu)
{
	__s64 y = sat32((__s64)acc >> shift);

	/* ReLU without a branch: its sign is a coin toss the predictor would lose half the time. */
	return relu ? y & ~(y >> 63) : y;
}

/* One linear layer: a (K values) -> out (n_out values, rows 4 at a time), for a width K known
 * at compile time so every loop over the inputs is unrolled into straight-line code.
 *
 * acc_j = Σ_k w[j][k]·a[k] + (bias_j << b), pairwise (Winograd 1968): for each input pair
 * (2p, 2p+1), (w[j][2p] + a[2p+1])·(w[j][2p+1] + a[2p]) = w[j][2p]·a[2p] + w[j][2p+1]·a[2p+1]
 * + w[j][2p]·w[j][2p+1] + a[2p]·a[2p+1], so
 *   acc_j = Σ_p (w[j][2p] + a[2p+1])·(w[j][2p+1] + a[2p]) − wpair_j − alpha + (bias_j << b)
 * with wpair_j = Σ_p w[j][2p]·w[j][2p+1] (the writer's, per row) and alpha = Σ_p a[2p]·a[2p+1]
 * (once per layer): one multiply per two weights instead of two. The weights are stored offset
 * by 2^31 (wu = w + 2^31: BPF before cpu v4 has no sign-extending load), and w + a = wu + (a − 2^31),
 * so the inputs are shifted by −2^31 once per layer (in place). It is an identity in any
 * commutative ring, here the integers modulo 2^64 (unsigned 64-bit arithmetic wraps), and the
 * true sum fits in s64 (the artifact's overflow analysis), so the result is Σ w·a exactly: the
 * same 64-bit value as the plain dot product, for every input.
 *
 * Inputs past the layer's n_in (up to K) meet zero weights (the writer pads every row with
 * them); whatever value such an input holds, it enters alpha and the products alike and cancels.
 * Rows past n_out (to a multiple of 4) are zero rows (zero weights, bias and wpair): their
 * output is 0. */

/* A first layer may take up to 40 inputs inline: every model input fits (XIDS_MLP_MAX_INPUTS),
 * so a model on all the features does not pay the layer stage's 64-wide rows for one input over 32. */
#define XIDS_MLP_INLINE_INPUTS 40
#if XIDS_MLP_MAX_INPUTS > XIDS_MLP_INLINE_INPUTS
#error "XIDS_MLP_INLINE_INPUTS must cover every model input (XIDS_MLP_MAX_INPUTS)"
#endif

/* Input pair (P, P+1) for rows j..j+3 (w points at row j; the rows are 4 * XIDS_MLP_MAX_WIDTH
 * bytes apart). In assembly so that the compiler neither hoists the loads out of the row loop
 * nor starts them all first (either spills them: BPF has 10 registers, all of them used here):
 * 26 instructions and 4 multiplies for 8 multiply-adds, the two inputs loaded once for 4 rows. */
#define XIDS_MLP_ROW (4 * XIDS_MLP_MAX_WIDTH) /* bytes from one row of weights to the next */
#define XIDS_MLP_PAIR(P)								\
	asm volatile("%[x0] = *(u64 *)(%[a] + %[oa0])\n\t"				\
		     "%[x1] = *(u64 *)(%[a] + %[oa1])\n\t"				\
		     "%[t] = *(u32 *)(%[w] + %[ow0])\n\t"				\
		     "%[t] += %[x1]\n\t"						\
		     "%[u] = *(u32 *)(%[w] + %[ow1])\n\t"				\
		     "%[u] += %[x0]\n\t"						\
		     "%[t] *= %[u]\n\t"							\
		     "%[acc0] += %[t]\n\t"						\
		     "%[t] = *(u32 *)(%[w] + %[ow2])\n\t"				\
		     "%[t] += %[x1]\n\t"						\
		     "%[u] = *(u32 *)(%[w] + %[ow3])\n\t"				\
		     "%[u] += %[x0]\n\t"						\
		     "%[t] *= %[u]\n\t"							\
		     "%[acc1] += %[t]\n\t"						\
		     "%[t] = *(u32 *)(%[w] + %[ow4])\n\t"				\
		     "%[t] += %[x1]\n\t"						\
		     "%[u] = *(u32 *)(%[w] + %[ow5])\n\t"				\
		     "%[u] += %[x0]\n\t"						\
		     "%[t] *= %[u]\n\t"							\
		     "%[acc2] += %[t]\n\t"						\
		     "%[t] = *(u32 *)(%[w] + %[ow6])\n\t"				\
		     "%[t] += %[x1]\n\t"						\
		     "%[u] = *(u32 *)(%[w] + %[ow7])\n\t"				\
		     "%[u] += %[x0]\n\t"						\
		     "%[t] *= %[u]\n\t"							\
		     "%[acc3] += %[t]\n\t"						\
		     : [acc0] "+r"(acc0), [acc1] "+r"(acc1), [acc2] "+r"(acc2), [acc3] "+r"(acc3),	\
		       [x0] "=&r"(x0), [x1] "=&r"(x1), [t] "=&r"(t), [u] "=&r"(u)		\
		     : [a] "r"(a), [w] "r"(w), [oa0] "i"(8 * (P)), [oa1] "i"(8 * (P) + 8),	\
		       [ow0] "i"(4 * (P)), [ow1] "i"(4 * (P) + 4),				\
		       [ow2] "i"(4 * (P) + XIDS_MLP_ROW), [ow3] "i"(4 * (P) + 4 + XIDS_MLP_ROW),	\
		       [ow4] "i"(4 * (P) + 2 * XIDS_MLP_ROW), [ow5] "i"(4 * (P) + 4 + 2 * XIDS_MLP_ROW),	\
		       [ow6] "i"(4 * (P) + 3 * XIDS_MLP_ROW), [ow7] "i"(4 * (P) + 4 + 3 * XIDS_MLP_ROW)	\
		     : "memory")
#define XIDS_MLP_PAIRS8(P) XIDS_MLP_PAIR(P); XIDS_MLP_PAIR((P) + 2); XIDS_MLP_PAIR((P) + 4); XIDS_MLP_PAIR((P) + 6)

static __always_inline void mlp_layer_k(const struct xids_mlp_layer *L, __u64 *a, __s64 *out, __u32 n_out,
					__u32 rows_max, __u32 shift, bool relu, const __u32 K)
{
	__u64 alpha = 0;
	__u32 j, p;

#pragma unroll
	for (p = 0; p < K; p += 2) {
		__u64 a0 = a[p], a1 = a[p + 1];

		alpha += a0 * a1;
		a[p] = a0 - 0x80000000ULL;
		a[p + 1] = a1 - 0x80000000ULL;
	}
	for (j = 0; j < rows_max; j += 4) {
		const __u32 *w;
		__u64 acc0, acc1, acc2, acc3, x0, x1, t, u;

		if (j >= n_out)
			break;
		w = L->w[j];
		acc0 = ((__u64)(__s64)L->bias[j] << shift) - (__u64)L->wpair[j] - alpha;
		acc1 = ((__u64)(__s64)L->bias[j + 1] << shift) - (__u64)L->wpair[j + 1] - alpha;
		acc2 = ((__u64)(__s64)L->bias[j + 2] << shift) - (__u64)L->wpair[j + 2] - alpha;
		acc3 = ((__u64)(__s64)L->bias[j + 3] << shift) - (__u64)L->wpair[j + 3] - alpha;
		XIDS_MLP_PAIRS8(0);
		if (K > 8) {
			XIDS_MLP_PAIRS8(8);
		}
		if (K > 16) {
			XIDS_MLP_PAIRS8(16);
			XIDS_MLP_PAIRS8(24);
		}
		if (K > 32) {
			XIDS_MLP_PAIRS8(32);
		}
		if (K > 40) {
			XIDS_MLP_PAIRS8(40);
			XIDS_MLP_PAIRS8(48);
			XIDS_MLP_PAIRS8(56);
		}
		out[j] = neuron_out(acc0, shift, relu);
		out[j + 1] = neuron_out(acc1, shift, relu);
		out[j + 2] = neuron_out(acc2, shift, relu);
		out[j + 3] = neuron_out(acc3, shift, relu);
	}
}

/* Layer l of the slot's model, act[l & 1] -> act[(l + 1) & 1], with the narrowest unrolled width
 * that holds its inputs (up to in_max: 32 for the inline path, 64 for the layer stage). */
static __always_inline void mlp_layer(struct xids_infer_state *st, const struct xids_mlp_layer *L, __u32 l,
				      __u32 n_in, __u32 n_out, __u32 shift, bool relu, const __u32 in_max)
{
	__u64 *a = (__u64 *)st->act[l & 1];
	__s64 *out = st->act[(l + 1) & 1];

	/* Inline (in_max = XIDS_MLP_INLINE_INPUTS): 8, 16, 32 or 40 inputs; the layer stage: 32 or 64. */
	if (n_in <= 8 && in_max <= XIDS_MLP_INLINE_INPUTS)
		mlp_layer_k(L, a, out, n_out, in_max, shift, relu, 8);
	else if (n_in <= 16 && in_max <= XIDS_MLP_INLINE_INPUTS)
		mlp_layer_k(L, a, out, n_out, in_max, shift, relu, 16);
	else if (n_in <= 32)
		mlp_layer_k(L, a, out, n_out, in_max, shift, relu, 32);
	else if (in_max <= XIDS_MLP_INLINE_INPUTS)
		mlp_layer_k(L, a, out, n_out, in_max, shift, relu, 40);
	else
		mlp_layer_k(L, a, out, n_out, in_max, shift, relu, 64);
}

/* The MLP's first layers run inline in the entry stage, with no tail call between them, while
 * they are at most XIDS_MLP_INLINE_WIDTH wide (a first layer's inputs: XIDS_MLP_INLINE_INPUTS),
 * up to XIDS_MLP_INLINE_LAYERS of them; the first layer past either bound, and every layer after
 * it, runs in the layer stage, one tail call each. A tail call costs a retpoline here (about
 * 20 ns on this class of machine), and so would a bpf_loop callback per row (a call and a return
 * through the return thunk): the inline path has neither. The bounds keep the verifier's work (it walks every inline layer and
 * row) about where it was with one layer per stage. */
#define XIDS_MLP_INLINE_WIDTH 32
#define XIDS_MLP_INLINE_LAYERS 4

SEC("xdp.frags")
int xids_cls_entry(struct xdp_md *ctx)
{
	struct xids_infer_state *st = infer_state_get();
	struct xids_model_index *ix;
	struct xids_model_meta *m;
	struct xids_flow_record *r;
	__u32 zero = 0, slot, i, b, l, n_layers;

	if (!st)
		return XDP_PASS;
	r = pending_record(st->rec);
	if (!r)
		return finish_record(ctx, st, XIDS_VERDICT_NONE, 0, 0, 0);
	/* Mark this CPU busy (odd) before reading the index: the atomic is a full barrier, so a
	 * writer that flipped the index and then sees an even seq knows we read the new index. */
	__sync_fetch_and_add(&st->seq, 1);
	ix = bpf_map_lookup_elem(&model_index, &zero);
	if (!ix)
		return finish_record(ctx, st, XIDS_VERDICT_NONE, 0, 0, 0);
	slot = st->eval && st->eval_slot != XIDS_EVAL_ACTIVE_SLOT ? st->eval_slot : ix->active_slot;
	slot &= XIDS_MODEL_SLOTS - 1;
	st->slot = slot;
	m = bpf_map_lookup_elem(&model_meta, &slot);
	if (!m || m->kind == XIDS_MODEL_NONE)
		return finish_record(ctx, st, XIDS_VERDICT_NONE, 0, 0, 0);
	st->version = m->version;
	if (m->kind == XIDS_MODEL_DT)
		return dt_walk(ctx, st, r);
	if (m->kind == XIDS_MODEL_GBT)
		return gbt_classify(ctx, st, r);

	/* Standardisation: z = sign(num) * ((|num| << b) / std_q), unsigned division only; inputs
	 * in log_mask are taken as log2q8 of their clamped value first (INT32_SPEC.md step 1b).
	 * The sign is taken and restored with masks, not branches (it varies from flow to flow). */
	b = m->shift & 31;
#pragma unroll
	for (i = 0; i < XIDS_MLP_MAX_INPUTS; i++) {
		__u32 f = m->feature_idx[i];
		__u64 x, mag, neg;
		__s64 num, z = 0;

		/* Padding inputs stay 0 so padded (zero) weights never meet stale values. */
		if (i < m->n_inputs && f < XIDS_NUM_FEATURES) {
			x = r->features[f];
			if (x > m->xmax[i])
				x = m->xmax[i];
			if ((m->log_mask >> i) & 1)
				x = log2q8(x);
			num = (__s64)(x << b) - m->mean_q[i];
			neg = (__u64)(num >> 63); /* all ones iff num < 0 */
			mag = ((((__u64)num ^ neg) - neg) << b) / m->std_q[i];
			/* Saturate while unsigned: a magnitude ≥ 2^63 would turn negative as s64. */
			if (mag > 0x80000000ULL)
				mag = 0x80000000ULL;
			z = sat32((__s64)((mag ^ neg) - neg));
		}
		st->act[0][i] = z;
	}

	/* The layers, inline while they fit (XIDS_MLP_INLINE_*), then the layer stage. */
	n_layers = m->n_layers;
#pragma nounroll
	for (l = 0; l < XIDS_MLP_INLINE_LAYERS; l++) {
		const struct xids_mlp_layer *L;
		__u32 key, n_in, n_out;

		if (l >= n_layers)
			break;
		n_in = m->layer_in[l];
		n_out = m->layer_out[l];
		if (n_in > XIDS_MLP_INLINE_INPUTS || n_out > XIDS_MLP_INLINE_WIDTH)
			break;
		key = slot * XIDS_MLP_MAX_LAYERS + l;
		L = bpf_map_lookup_elem(&mlp_layers, &key);
		if (!L)
			goto abort;
		mlp_layer(st, L, l, n_in, n_out, b, l + 1 < n_layers, XIDS_MLP_INLINE_INPUTS);
		if (l + 1 == n_layers)
			return finish_logits(ctx, st, l + 1);
	}
	if (l < n_layers) {
		st->layer = l;
		bpf_tail_call(ctx, &classify_progs, XIDS_STAGE_LAYER);
	}
abort:
	count(XIDS_C_INFER_ABORTED, 1);
	return finish_record(ctx, st, XIDS_VERDICT_NONE, 0, 0, 0);
}

/* One layer wider than XIDS_MLP_INLINE_WIDTH (or any layer after one): st->layer, then itself
 * again for the next layer, or the verdict after the last. */
SEC("xdp.frags")
int xids_cls_layer(struct xdp_md *ctx)
{
	struct xids_infer_state *st = infer_state_get();
	const struct xids_mlp_layer *L;
	struct xids_model_meta *m;
	__u32 l, key, slot, n_in, n_out;
	bool last;

	if (!st)
		return XDP_PASS;
	slot = st->slot & (XIDS_MODEL_SLOTS - 1);
	m = bpf_map_lookup_elem(&model_meta, &slot);
	l = st->layer;
	if (!m || l >= XIDS_MLP_MAX_LAYERS || l >= m->n_layers)
		goto abort;
	key = slot * XIDS_MLP_MAX_LAYERS + l;
	L = bpf_map_lookup_elem(&mlp_layers, &key);
	if (!L)
		goto abort;
	n_in = m->layer_in[l];
	n_out = m->layer_out[l];
	if (n_in > XIDS_MLP_MAX_WIDTH || n_out > XIDS_MLP_MAX_WIDTH)
		goto abort;
	last = l + 1 == m->n_layers;
	mlp_layer(st, L, l, n_in, n_out, m->shift & 31, !last, XIDS_MLP_MAX_WIDTH);
	if (last)
		return finish_logits(ctx, st, l + 1);
	st->layer = l + 1;
	bpf_tail_call(ctx, &classify_progs, XIDS_STAGE_LAYER);
abort:
	count(XIDS_C_INFER_ABORTED, 1);
	return finish_record(ctx, st, XIDS_VERDICT_NONE, 0, 0, 0);
}

/* Evaluation entry for BPF_PROG_TEST_RUN: the packet is a struct xids_eval_io holding a feature
 * vector; the same stages run on it and the result is written back into the packet. */
SEC("xdp.frags")
int xids_classify_eval(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xids_eval_io *io = data;
	struct xids_infer_state *st = infer_state_get();
	struct xids_flow_record *r = pending_record(0);

	if ((void *)(io + 1) > data_end || !st || !r)
		return XDP_ABORTED;
	__builtin_memset(r, 0, sizeof(*r));
	__builtin_memcpy(r->features, io->features, sizeof(r->features));
	st->n_rec = 1;
	st->rec = 0;
	st->eval = 1;
	st->eval_slot = io->slot;
	st->pkt_verdict = XDP_PASS;
	bpf_tail_call(ctx, &classify_progs, XIDS_STAGE_ENTRY);
	return XDP_ABORTED;
}
