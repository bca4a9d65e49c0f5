// SPDX-License-Identifier: GPL-2.0-only
/*
 * wrtkit offload: the flow-offload datapath. One object, two entry points; the loader
 * attaches offload_xdp or offload_tc per device. Both run the same core (flow.h) and
 * pass everything they are not sure about to the stack, untouched.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "offload.h"
#include "maps.h"
#include "flow.h"
#include "xdp.h"
#include "tc.h"

/* Enough linear data for Ethernet, a DSA tag, VLAN, PPPoE, IPv6 and TCP. */
#define OFFLOAD_PULL_LEN 128

SEC("xdp")
int offload_xdp(struct xdp_md *xdp)
{
	struct offload_ctx ctx = {
		.data = (void *)(long)xdp->data,
		.data_end = (void *)(long)xdp->data_end,
		.ifindex = xdp->ingress_ifindex,
		.gso_segs = 1,
		.hook = OFFLOAD_HOOK_XDP,
	};
	struct offload_flow_value *flow = NULL;
	__u64 now = bpf_ktime_get_ns();
	struct packet pkt;
	__u32 egress;
	int verdict;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	ctx.len = ctx.data_end - ctx.data;
	verdict = offload_classify(&ctx, &pkt, &flow, now);
	if (verdict == OFFLOAD_STAT_FORWARD && flow)
		verdict = xdp_forward(xdp, &pkt, flow);
	stat_inc(verdict);

	if (verdict == OFFLOAD_STAT_FORWARD && flow) {
		egress = flow->egress_ifindex;
		flow_account(&ctx, &pkt, flow, now);
		/* The packet is rewritten: if the port vanished meanwhile, drop, never pass. */
		return bpf_redirect_map(&tx_ports, egress, XDP_DROP);
	}
	if (verdict == OFFLOAD_STAT_DROP && flow) {
		flow_account(&ctx, &pkt, flow, now);
		return XDP_DROP;
	}
	if (verdict == OFFLOAD_STAT_DROP_ERROR)
		return XDP_DROP;
	return XDP_PASS;
}

SEC("tc")
int offload_tc(struct __sk_buff *skb)
{
	struct offload_ctx ctx = {
		.len = skb->len,
		.ifindex = skb->ifindex,
		.gso_size = skb->gso_size,
		.gso_segs = skb->gso_segs,
		.vlan_tci = skb->vlan_tci,
		.vlan_accel = skb->vlan_present,
		.hook = OFFLOAD_HOOK_TC,
	};
	struct offload_flow_value *flow = NULL;
	__u32 want = skb->len < OFFLOAD_PULL_LEN ? skb->len : OFFLOAD_PULL_LEN;
	__u64 now = bpf_ktime_get_ns();
	struct packet pkt;
	__u32 egress;
	int verdict;

	/* Headers in paged data: make them linear (does not change the bytes). */
	if ((void *)(long)skb->data + want > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, want);
	ctx.data = (void *)(long)skb->data;
	ctx.data_end = (void *)(long)skb->data_end;

	__builtin_memset(&pkt, 0, sizeof(pkt));
	verdict = offload_classify(&ctx, &pkt, &flow, now);
	if (verdict == OFFLOAD_STAT_FORWARD && flow)
		verdict = tc_forward(skb, &ctx, &pkt, flow);
	stat_inc(verdict);

	if (verdict == OFFLOAD_STAT_FORWARD && flow) {
		egress = flow->egress_ifindex;
		flow_account(&ctx, &pkt, flow, now);
		return bpf_redirect(egress, 0);
	}
	if (verdict == OFFLOAD_STAT_DROP && flow) {
		flow_account(&ctx, &pkt, flow, now);
		return TC_ACT_SHOT;
	}
	if (verdict == OFFLOAD_STAT_DROP_ERROR)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
