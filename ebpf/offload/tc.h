/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TC hit path. Unlike XDP, an skb may carry a partial checksum (CHECKSUM_PARTIAL:
 * locally generated TCP/UDP, the L4 field holds only the pseudo-header sum and the NIC
 * or the stack finishes it) or a full-packet sum (CHECKSUM_COMPLETE). So checksum
 * fields are updated only through bpf_l3_csum_replace()/bpf_l4_csum_replace(), which
 * look at skb->ip_summed, and every store states whether skb->csum must follow it.
 *
 * Which store needs BPF_F_RECOMPUTE_CSUM (keeps a CHECKSUM_COMPLETE sum right):
 *  - IPv4 addresses, TTL, ports: no. Each change is balanced by the change of a
 *    checksum field in the same packet, so the sum over the packet stays; the
 *    pseudo-header part of the L4 update is what moves skb->csum, and
 *    bpf_l4_csum_replace(BPF_F_PSEUDO_HDR) does that itself.
 *  - IPv6 addresses: yes. No IPv6 header checksum balances them; the L4 helper's
 *    pseudo-header update (called without BPF_F_IPV6, which older kernels reject)
 *    then takes the same amount off again.
 *  - IPv6 hop limit: yes, nothing balances it.
 *  - The Ethernet header: no, CHECKSUM_COMPLETE starts after it.
 */
#ifndef WRTKIT_OFFLOAD_TC_H
#define WRTKIT_OFFLOAD_TC_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "offload.h"
#include "parsing.h"
#include "csum.h"
#include "maps.h"
#include "flow.h"

static __always_inline int tc_rewrite_l3l4(struct __sk_buff *skb, struct packet *pkt,
					   struct offload_flow_value *flow)
{
	__u8 flags = flow->flags;
	__u32 l3 = pkt->l3_off;
	__u32 l4 = pkt->l4_off;
	int udp = pkt->key.proto == IPPROTO_UDP;
	__u32 check_off = l4 + (udp ? offsetof(struct udphdr, check) : offsetof(struct tcphdr, check));
	__u64 l4_flags = udp ? BPF_F_MARK_MANGLED_0 : 0;
	int ret = 0;

	if (pkt->key.family == OFFLOAD_FAMILY_IPV4) {
		__u8 ttl;

		if (bpf_skb_load_bytes(skb, l3 + offsetof(struct iphdr, ttl), &ttl, 1))
			return -1;
		ttl--;
		if (flags & OFFLOAD_F_SNAT)
			ret |= bpf_skb_store_bytes(skb, l3 + offsetof(struct iphdr, saddr), flow->nat_saddr, 4, 0);
		if (flags & OFFLOAD_F_DNAT)
			ret |= bpf_skb_store_bytes(skb, l3 + offsetof(struct iphdr, daddr), flow->nat_daddr, 4, 0);
		ret |= bpf_skb_store_bytes(skb, l3 + offsetof(struct iphdr, ttl), &ttl, 1, 0);
		ret |= bpf_l3_csum_replace(skb, l3 + offsetof(struct iphdr, check), 0,
					   csum_add16(flow->csum_addr, csum_ttl_dec_delta()), 0);
	} else {
		__u8 hop_limit;

		if (bpf_skb_load_bytes(skb, l3 + offsetof(struct ipv6hdr, hop_limit), &hop_limit, 1))
			return -1;
		hop_limit--;
		if (flags & OFFLOAD_F_SNAT)
			ret |= bpf_skb_store_bytes(skb, l3 + offsetof(struct ipv6hdr, saddr), flow->nat_saddr, 16,
						   BPF_F_RECOMPUTE_CSUM);
		if (flags & OFFLOAD_F_DNAT)
			ret |= bpf_skb_store_bytes(skb, l3 + offsetof(struct ipv6hdr, daddr), flow->nat_daddr, 16,
						   BPF_F_RECOMPUTE_CSUM);
		ret |= bpf_skb_store_bytes(skb, l3 + offsetof(struct ipv6hdr, hop_limit), &hop_limit, 1,
					   BPF_F_RECOMPUTE_CSUM);
	}

	/* Ports: offsets 0 and 2 in both TCP and UDP. */
	if (flags & OFFLOAD_F_SNAT)
		ret |= bpf_skb_store_bytes(skb, l4, &flow->nat_sport, 2, 0);
	if (flags & OFFLOAD_F_DNAT)
		ret |= bpf_skb_store_bytes(skb, l4 + 2, &flow->nat_dport, 2, 0);
	if (flow->csum_addr)
		ret |= bpf_l4_csum_replace(skb, check_off, 0, flow->csum_addr, BPF_F_PSEUDO_HDR | l4_flags);
	if (flow->csum_port)
		ret |= bpf_l4_csum_replace(skb, check_off, 0, flow->csum_port, l4_flags);
	return ret ? -1 : 0;
}

static __always_inline int tc_write_l2(struct __sk_buff *skb, struct packet *pkt, struct offload_flow_value *flow,
				       __u8 vlan_accel)
{
	__u8 flags = flow->flags;

	/* The ingress tag, wherever it is (in the frame or in skb metadata), goes. */
	if ((pkt->vlan_in_data || vlan_accel) && bpf_skb_vlan_pop(skb))
		return -1;
	/* The egress tag rides in skb metadata; the device or the stack inserts it. */
	if ((flags & OFFLOAD_F_VLAN) && bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), flow->egress_vlan))
		return -1;

	if (flags & OFFLOAD_F_PPPOE) {
		struct pppoe_session_hdr ph = {
			.ver_type = 0x11,
			.code = 0,
			.sid = flow->egress_pppoe_sid,
			.length = bpf_htons(pkt->l3_len + 2),
			.ppp_proto = pkt->key.family == OFFLOAD_FAMILY_IPV4 ? bpf_htons(PPP_PROTO_IPV4)
									    : bpf_htons(PPP_PROTO_IPV6),
		};
		__be16 type = bpf_htons(ETH_P_PPP_SES);

		if (bpf_skb_adjust_room(skb, sizeof(ph), BPF_ADJ_ROOM_MAC, 0) ||
		    bpf_skb_store_bytes(skb, ETH_HLEN, &ph, sizeof(ph), 0) ||
		    bpf_skb_store_bytes(skb, 2 * ETH_ALEN, &type, 2, 0))
			return -1;
	}

	if (bpf_skb_store_bytes(skb, 0, flow->dst_mac, ETH_ALEN, 0) ||
	    bpf_skb_store_bytes(skb, ETH_ALEN, flow->src_mac, ETH_ALEN, 0))
		return -1;
	return 0;
}

/*
 * Rewrites the skb for flow. Returns OFFLOAD_STAT_FORWARD when it is ready for
 * bpf_redirect(), a PASS_* stat when the packet is untouched, or
 * OFFLOAD_STAT_DROP_ERROR when it changed and cannot be completed.
 */
static __always_inline int tc_forward(struct __sk_buff *skb, struct offload_ctx *ctx, struct packet *pkt,
				      struct offload_flow_value *flow)
{
	__u8 flags = flow->flags;

	if (!flow->egress_ifindex)
		return OFFLOAD_STAT_PASS_NO_TXPORT;
	/*
	 * bpf_skb_adjust_room() only works on IP skbs: no taking a PPPoE (or DSA) header
	 * off here. Adding PPPoE to a GSO skb would leave segmentation guessing.
	 */
	if (pkt->pppoe || pkt->dsa || (flags & OFFLOAD_F_DSA))
		return OFFLOAD_STAT_PASS_L2;
	if ((flags & OFFLOAD_F_PPPOE) && ctx->gso_size)
		return OFFLOAD_STAT_PASS_L2;

	if (tc_rewrite_l3l4(skb, pkt, flow) < 0)
		return OFFLOAD_STAT_DROP_ERROR;
	if (tc_write_l2(skb, pkt, flow, ctx->vlan_accel) < 0)
		return OFFLOAD_STAT_DROP_ERROR;
	return OFFLOAD_STAT_FORWARD;
}

#endif /* WRTKIT_OFFLOAD_TC_H */
