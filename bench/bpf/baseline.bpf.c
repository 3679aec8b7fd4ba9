// SPDX-License-Identifier: GPL-2.0
/* Baselines for `xids bench`: the cheapest XDP programs there are. Their per-packet cost under
 * BPF_PROG_TEST_RUN is the floor xids is compared with, measured in the same run. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bench_xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/* The throughput baseline: a PASS program that, like xids's own (xdp.frags), takes multi-buffer
 * frames, so veth treats both attachments alike (max MTU, how it builds the xdp_buff). */
SEC("xdp.frags")
int bench_xdp_pass_frags(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
