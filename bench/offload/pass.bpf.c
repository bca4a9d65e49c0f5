// SPDX-License-Identifier: GPL-2.0-only
/*
 * The baselines of bench/offload/testrun.mjs: the cheapest programs each hook can run.
 * Built with clang -O2 -target bpf; loaded by bench/offload/testrun.c.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench_xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int bench_tc_pass(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
