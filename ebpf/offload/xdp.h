/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The XDP hit path: rebuild the L2 header in place (bpf_xdp_adjust_head), NAT and
 * TTL with checksums updated by hand, then bpf_redirect_map() through tx_ports.
 */
#ifndef WRTKIT_OFFLOAD_XDP_H
#define WRTKIT_OFFLOAD_XDP_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "offload.h"
#include "parsing.h"
#include "csum.h"
#include "maps.h"
#include "flow.h"

#define VLAN_HLEN 4
#define PPPOE_HLEN 8 /* session header and PPP protocol */

/* Writes the egress L2 header at data; new_l2 bytes are known to be there. */
static __always_inline int xdp_write_l2(void *data, void *data_end, struct packet *pkt,
					struct offload_flow_value *flow)
{
	__u8 flags = flow->flags;
	__u8 *p = data;
	__u32 off = 2 * ETH_ALEN;

	if (p + 2 * ETH_ALEN > (__u8 *)data_end)
		return -1;
	__builtin_memcpy(p, flow->dst_mac, ETH_ALEN);
	__builtin_memcpy(p + ETH_ALEN, flow->src_mac, ETH_ALEN);

#ifdef OFFLOAD_DSA
	if (flags & OFFLOAD_F_DSA) {
		/* An egress VLAN rides in the MTK tag: TPID marker, port bit, TCI. */
		if (p + off + MTK_TAG_LEN > (__u8 *)data_end)
			return -1;
		p[off] = (flags & OFFLOAD_F_VLAN) ? MTK_TAG_TX_TAGGED_8100 : 0;
		p[off + 1] = (1 << (flow->egress_dsa_port & 7)) & MTK_TAG_TX_PORT_MASK;
		*(__be16 *)(p + off + 2) = (flags & OFFLOAD_F_VLAN) ? bpf_htons(flow->egress_vlan) : 0;
		off += MTK_TAG_LEN;
	} else
#endif
	if (flags & OFFLOAD_F_VLAN) {
		struct vlan_hdr *vlh = (void *)(p + off + 2);

		if ((void *)(vlh + 1) > data_end)
			return -1;
		*(__be16 *)(p + off) = bpf_htons(ETH_P_8021Q);
		vlh->h_vlan_TCI = bpf_htons(flow->egress_vlan);
		off += VLAN_HLEN; /* the ethertype after the tag is written below */
	}

	if (flags & OFFLOAD_F_PPPOE) {
		struct pppoe_session_hdr *ph = (void *)(p + off + 2);

		if ((void *)(ph + 1) > data_end)
			return -1;
		*(__be16 *)(p + off) = bpf_htons(ETH_P_PPP_SES);
		ph->ver_type = 0x11;
		ph->code = 0;
		ph->sid = flow->egress_pppoe_sid;
		ph->length = bpf_htons(pkt->l3_len + 2);
		ph->ppp_proto = pkt->key.family == OFFLOAD_FAMILY_IPV4 ? bpf_htons(PPP_PROTO_IPV4)
								       : bpf_htons(PPP_PROTO_IPV6);
		return 0;
	}

	if (p + off + 2 > (__u8 *)data_end)
		return -1;
	*(__be16 *)(p + off) = pkt->key.family == OFFLOAD_FAMILY_IPV4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	return 0;
}

/* NAT, TTL and checksums of the IP packet at l3; its headers are known to be there. */
static __always_inline int xdp_rewrite_l3l4(void *l3, void *data_end, struct packet *pkt,
					    struct offload_flow_value *flow)
{
	__u16 addr_delta = flow->csum_addr;
	__u16 l4_delta = csum_add16(addr_delta, flow->csum_port);
	__u8 flags = flow->flags;
	void *l4;

	if (pkt->key.family == OFFLOAD_FAMILY_IPV4) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) > data_end)
			return -1;
		if (flags & OFFLOAD_F_SNAT)
			__builtin_memcpy(&iph->saddr, flow->nat_saddr, 4);
		if (flags & OFFLOAD_F_DNAT)
			__builtin_memcpy(&iph->daddr, flow->nat_daddr, 4);
		iph->ttl--;
		iph->check = csum_update(iph->check, csum_add16(addr_delta, csum_ttl_dec_delta()));
		l4 = iph + 1;
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end)
			return -1;
		if (flags & OFFLOAD_F_SNAT)
			__builtin_memcpy(&ip6h->saddr, flow->nat_saddr, 16);
		if (flags & OFFLOAD_F_DNAT)
			__builtin_memcpy(&ip6h->daddr, flow->nat_daddr, 16);
		ip6h->hop_limit--;
		l4 = ip6h + 1;
	}

	if (pkt->key.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return -1;
		if (flags & OFFLOAD_F_SNAT)
			th->source = flow->nat_sport;
		if (flags & OFFLOAD_F_DNAT)
			th->dest = flow->nat_dport;
		th->check = csum_update(th->check, l4_delta);
	} else {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return -1;
		if (flags & OFFLOAD_F_SNAT)
			uh->source = flow->nat_sport;
		if (flags & OFFLOAD_F_DNAT)
			uh->dest = flow->nat_dport;
		/* IPv4 UDP without a checksum keeps none; a computed 0 is sent as 0xffff */
		if (uh->check) {
			__u16 check = csum_update(uh->check, l4_delta);

			uh->check = check ? check : 0xffff;
		}
	}
	return 0;
}

/*
 * Rewrites the packet for flow. Returns OFFLOAD_STAT_FORWARD when it is ready for
 * bpf_redirect_map(), a PASS_* stat when the packet is still untouched, or
 * OFFLOAD_STAT_DROP_ERROR when it changed and cannot be completed.
 */
static __always_inline int xdp_forward(struct xdp_md *xdp, struct packet *pkt, struct offload_flow_value *flow)
{
	__u32 egress = flow->egress_ifindex;
	__u8 flags = flow->flags;
	__u32 new_l2 = ETH_HLEN;
	void *data, *data_end;
	int delta;

	if (!bpf_map_lookup_elem(&tx_ports, &egress))
		return OFFLOAD_STAT_PASS_NO_TXPORT;

#ifdef OFFLOAD_DSA
	if (flags & OFFLOAD_F_DSA)
		new_l2 += MTK_TAG_LEN;
	else if (flags & OFFLOAD_F_VLAN)
		new_l2 += VLAN_HLEN;
#else
	if (flags & OFFLOAD_F_DSA)
		return OFFLOAD_STAT_PASS_L2;
	if (flags & OFFLOAD_F_VLAN)
		new_l2 += VLAN_HLEN;
#endif
	if (flags & OFFLOAD_F_PPPOE)
		new_l2 += PPPOE_HLEN;

	/* The only step that can fail comes first, while the packet is still as it came. */
	delta = (int)pkt->l3_off - (int)new_l2;
	if (delta && bpf_xdp_adjust_head(xdp, delta))
		return OFFLOAD_STAT_PASS_ERROR;

	data = (void *)(long)xdp->data;
	data_end = (void *)(long)xdp->data_end;
	if (new_l2 > 2 * ETH_HLEN + PPPOE_HLEN)
		return OFFLOAD_STAT_DROP_ERROR;
	if (xdp_write_l2(data, data_end, pkt, flow) < 0)
		return OFFLOAD_STAT_DROP_ERROR;
	if (xdp_rewrite_l3l4(data + new_l2, data_end, pkt, flow) < 0)
		return OFFLOAD_STAT_DROP_ERROR;
	return OFFLOAD_STAT_FORWARD;
}

#endif /* WRTKIT_OFFLOAD_XDP_H */
