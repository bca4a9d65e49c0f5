/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hook-independent core: parse a frame into a flow key, apply the pass rules, look
 * the flow up, report new flows, account hits. XDP and TC fill a struct offload_ctx and
 * call offload_classify(); they differ only in how they rewrite and send (xdp.h, tc.h).
 */
#ifndef WRTKIT_OFFLOAD_FLOW_H
#define WRTKIT_OFFLOAD_FLOW_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "offload.h"
#include "parsing.h"
#include "maps.h"

/* What the hook knows about the packet, independent of its context type. */
struct offload_ctx {
	void *data;
	void *data_end;
	__u32 len;       /* the whole packet; TC: skb->len, which may exceed data_end - data */
	__u32 ifindex;   /* ingress device */
	__u32 gso_size;  /* TC: payload bytes per segment of a GSO packet, else 0 */
	__u32 gso_segs;  /* segments this packet stands for (1 unless GSO) */
	__u16 vlan_tci;  /* TC: a tag the stack already took off the frame ... */
	__u8 vlan_accel; /* ... when this is set */
	__u8 hook;       /* enum offload_hook */
};

/* The parsed packet. Offsets count from the start of the frame. */
struct packet {
	struct offload_flow_key key;
	__u32 l3_off;
	__u32 l4_off;
	__u32 l3_len;     /* from the IP header */
	__u32 l4_hdr_len; /* TCP header with options, or 8 */
	__u8 tcp_flags;
	__u8 vlan_in_data; /* a VLAN tag sits in the frame */
	__u8 pppoe;        /* a PPPoE session header sits in the frame */
	__u8 dsa;          /* a DSA tag sits in the frame */
};

/* parse_packet() result when the packet may be offloaded (not a stat index). */
#define PARSE_OK OFFLOAD_STAT_MAX

static __always_inline int is_ipv6_ext_hdr(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253: /* experiments */
	case 254:
		return 1;
	}
	return 0;
}

static __always_inline int parse_l4(struct hdr_cursor *nh, void *data_end, struct packet *pkt, __u32 l4_len)
{
	if (pkt->key.proto == IPPROTO_TCP) {
		struct tcphdr *th;
		int hlen = parse_tcphdr(nh, data_end, &th);

		if (hlen < 0 || (__u32)hlen > l4_len)
			return OFFLOAD_STAT_PASS_MALFORMED;
		/* FIN, RST and SYN pass (offload_classify), but with the whole key: a FIN or RST
		 * of an offloaded flow is reported so that user space tears the flow down */
		pkt->tcp_flags = ((__u8 *)th)[13];
		pkt->key.sport = th->source;
		pkt->key.dport = th->dest;
		pkt->l4_hdr_len = hlen;
		return PARSE_OK;
	}

	struct udphdr *uh;
	int ulen = parse_udphdr(nh, data_end, &uh);

	/* The UDP length must be the IP payload: anything else is for the stack to judge. */
	if (ulen < 0 || (__u32)ulen != l4_len)
		return OFFLOAD_STAT_PASS_MALFORMED;
	/* A zero checksum means "none" only for IPv4. */
	if (pkt->key.family == OFFLOAD_FAMILY_IPV6 && uh->check == 0)
		return OFFLOAD_STAT_PASS_MALFORMED;
	pkt->key.sport = uh->source;
	pkt->key.dport = uh->dest;
	pkt->l4_hdr_len = sizeof(*uh);
	return PARSE_OK;
}

static __always_inline int parse_ipv4(struct hdr_cursor *nh, struct offload_ctx *ctx, struct packet *pkt)
{
	struct iphdr *iph;
	__u32 hdr_len, tot_len;
	int proto = parse_iphdr(nh, ctx->data_end, &iph);

	if (proto < 0)
		return OFFLOAD_STAT_PASS_MALFORMED;
	hdr_len = nh->pos - (void *)iph;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hdr_len || pkt->l3_off + tot_len > ctx->len)
		return OFFLOAD_STAT_PASS_MALFORMED;
	if (hdr_len != sizeof(*iph))
		return OFFLOAD_STAT_PASS_OPTIONS;
	if (iph->frag_off & bpf_htons(IP_MF_BIT | IP_OFFSET_MASK))
		return OFFLOAD_STAT_PASS_FRAGMENT;
	if (iph->ttl <= 1)
		return OFFLOAD_STAT_PASS_TTL;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return OFFLOAD_STAT_PASS_UNKNOWN;

	pkt->key.family = OFFLOAD_FAMILY_IPV4;
	pkt->key.proto = proto;
	__builtin_memcpy(pkt->key.saddr, &iph->saddr, 4);
	__builtin_memcpy(pkt->key.daddr, &iph->daddr, 4);
	pkt->l3_len = tot_len;
	pkt->l4_off = pkt->l3_off + hdr_len;
	return parse_l4(nh, ctx->data_end, pkt, tot_len - hdr_len);
}

static __always_inline int parse_ipv6(struct hdr_cursor *nh, struct offload_ctx *ctx, struct packet *pkt)
{
	struct ipv6hdr *ip6h;
	__u32 payload_len;
	int nexthdr;

	if (!enable_ipv6)
		return OFFLOAD_STAT_PASS_DISABLED;
	nexthdr = parse_ip6hdr(nh, ctx->data_end, &ip6h);
	if (nexthdr < 0)
		return OFFLOAD_STAT_PASS_MALFORMED;
	payload_len = bpf_ntohs(ip6h->payload_len);
	/* 0 is a jumbogram (hop-by-hop option), or nonsense */
	if (payload_len == 0 || pkt->l3_off + sizeof(*ip6h) + payload_len > ctx->len)
		return OFFLOAD_STAT_PASS_MALFORMED;
	if (nexthdr == IPPROTO_FRAGMENT)
		return OFFLOAD_STAT_PASS_FRAGMENT;
	if (is_ipv6_ext_hdr(nexthdr))
		return OFFLOAD_STAT_PASS_OPTIONS;
	if (ip6h->hop_limit <= 1)
		return OFFLOAD_STAT_PASS_TTL;
	if (nexthdr != IPPROTO_TCP && nexthdr != IPPROTO_UDP)
		return OFFLOAD_STAT_PASS_UNKNOWN;

	pkt->key.family = OFFLOAD_FAMILY_IPV6;
	pkt->key.proto = nexthdr;
	__builtin_memcpy(pkt->key.saddr, &ip6h->saddr, 16);
	__builtin_memcpy(pkt->key.daddr, &ip6h->daddr, 16);
	pkt->l3_len = sizeof(*ip6h) + payload_len;
	pkt->l4_off = pkt->l3_off + sizeof(*ip6h);
	return parse_l4(nh, ctx->data_end, pkt, payload_len);
}

/* Parses L2 to L4 into pkt. Returns PARSE_OK, or the stat saying why the stack gets it. */
static __always_inline int parse_packet(struct offload_ctx *ctx, struct packet *pkt)
{
	struct hdr_cursor nh = { .pos = ctx->data };
	void *data_end = ctx->data_end;
	__u32 pppoe_len = 0;
	int proto, ret;

#ifdef OFFLOAD_DSA
	proto = parse_ethhdr_mtk(&nh, data_end, &pkt->key.dsa_port);
	pkt->dsa = 1;
#else
	struct ethhdr *eth;

	proto = parse_ethhdr(&nh, data_end, &eth);
#endif
	if (proto < 0)
		return OFFLOAD_STAT_PASS_MALFORMED;

	if (ctx->vlan_accel)
		pkt->key.vlan_id = ctx->vlan_tci & 0x0fff;
	if (proto_is_vlan(proto)) {
		struct vlan_hdr *vlh;

		/* one tag only: in the frame after one outside it, or two in it, is QinQ */
		if (ctx->vlan_accel)
			return OFFLOAD_STAT_PASS_UNKNOWN;
		proto = parse_vlanhdr(&nh, data_end, &vlh);
		if (proto < 0)
			return OFFLOAD_STAT_PASS_MALFORMED;
		if (proto_is_vlan(proto))
			return OFFLOAD_STAT_PASS_UNKNOWN;
		pkt->key.vlan_id = bpf_ntohs(vlh->h_vlan_TCI) & 0x0fff;
		pkt->vlan_in_data = 1;
	}

	if (proto == bpf_htons(ETH_P_PPP_SES)) {
		struct pppoe_session_hdr *ph;

		proto = parse_pppoehdr(&nh, data_end, &ph);
		if (proto < 0)
			return OFFLOAD_STAT_PASS_MALFORMED;
		if (proto == bpf_htons(PPP_PROTO_IPV4))
			proto = bpf_htons(ETH_P_IP);
		else if (proto == bpf_htons(PPP_PROTO_IPV6))
			proto = bpf_htons(ETH_P_IPV6);
		else
			return OFFLOAD_STAT_PASS_UNKNOWN;
		pkt->key.pppoe_sid = ph->sid;
		pkt->pppoe = 1;
		pppoe_len = bpf_ntohs(ph->length);
	}

	pkt->l3_off = nh.pos - ctx->data;
	if (proto == bpf_htons(ETH_P_IP))
		ret = parse_ipv4(&nh, ctx, pkt);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = parse_ipv6(&nh, ctx, pkt);
	else
		return OFFLOAD_STAT_PASS_UNKNOWN;
	if (ret != PARSE_OK)
		return ret;

	/* PPPoE's length covers the PPP protocol field and the IP packet, exactly. */
	if (pkt->pppoe && pppoe_len != pkt->l3_len + 2)
		return OFFLOAD_STAT_PASS_MALFORMED;
	pkt->key.ifindex = ctx->ifindex;
	return PARSE_OK;
}

static __always_inline int heartbeat_fresh(__u64 now)
{
	__u32 zero = 0;
	__u64 *beat = bpf_map_lookup_elem(&heartbeat, &zero);

	if (!beat || *beat == 0 || *beat > now)
		return 0;
	return now - *beat <= heartbeat_timeout_ns;
}

/*
 * Tells user space about a packet: OFFLOAD_EVENT_NEW_FLOW for a flow it has no entry for,
 * at most once per event_interval_ns; OFFLOAD_EVENT_FLOW_END for a FIN or RST of an
 * offloaded flow, every time (the flow is in the map until user space removes it, so
 * these are few), and it holds back NEW_FLOW reports of that key for the interval: the
 * stack is about to change the connection's state.
 */
static __always_inline void report_event(struct offload_ctx *ctx, struct packet *pkt, __u64 now, __u32 type)
{
	struct offload_event *ev;
	__u64 *last;

	if (!enable_events)
		return;
	last = bpf_map_lookup_elem(&event_limit, &pkt->key);
	if (type == OFFLOAD_EVENT_NEW_FLOW && last && now - *last < event_interval_ns)
		return;
	bpf_map_update_elem(&event_limit, &pkt->key, &now, BPF_ANY);

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(OFFLOAD_STAT_EVENT_LOST);
		return;
	}
	ev->ts_ns = now;
	ev->type = type;
	ev->l3_len = pkt->l3_len > 0xffff ? 0xffff : pkt->l3_len;
	ev->hook = ctx->hook;
	ev->tcp_flags = pkt->tcp_flags;
	__builtin_memcpy(&ev->key, &pkt->key, sizeof(ev->key));
	bpf_ringbuf_submit(ev, 0);
	stat_inc(OFFLOAD_STAT_EVENT);
}

/*
 * The verdict for a packet: OFFLOAD_STAT_FORWARD (with *flowp set: the hook rewrites
 * and sends), OFFLOAD_STAT_DROP (*flowp set), or a PASS_* stat. Never changes the packet.
 */
static __always_inline int offload_classify(struct offload_ctx *ctx, struct packet *pkt,
					    struct offload_flow_value **flowp, __u64 now)
{
	struct offload_flow_value *flow;
	__u32 size;
	int ret;

	if (!heartbeat_fresh(now))
		return OFFLOAD_STAT_PASS_HEARTBEAT;
	ret = parse_packet(ctx, pkt);
	if (ret != PARSE_OK)
		return ret;

	flow = bpf_map_lookup_elem(&flows, &pkt->key);
	/* TCP connection state is the stack's: these always go there. An offloaded flow
	 * ending is reported, as the kernel's flowtable tears its flows down on FIN/RST:
	 * conntrack may keep an entry ESTABLISHED after an RST it cannot place in its stale
	 * window (it saw none of the offloaded segments), so its state alone cannot say. */
	if (pkt->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST | TCP_FLAG_SYN)) {
		if (flow && (pkt->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)))
			report_event(ctx, pkt, now, OFFLOAD_EVENT_FLOW_END);
		return OFFLOAD_STAT_PASS_FIN_RST;
	}
	if (!flow) {
		report_event(ctx, pkt, now, OFFLOAD_EVENT_NEW_FLOW);
		return OFFLOAD_STAT_PASS_NO_FLOW;
	}
	*flowp = flow;
	if (flow->action == OFFLOAD_ACTION_DROP)
		return OFFLOAD_STAT_DROP;
	if (flow->action != OFFLOAD_ACTION_FORWARD)
		return OFFLOAD_STAT_PASS_FLOW;

	/* A GSO packet leaves as segments: each one's IP size is what must fit. */
	size = pkt->l3_len;
	if (ctx->gso_size)
		size = pkt->l4_off - pkt->l3_off + pkt->l4_hdr_len + ctx->gso_size;
	if (flow->mtu == 0 || size > flow->mtu)
		return OFFLOAD_STAT_PASS_MTU;
	return OFFLOAD_STAT_FORWARD;
}

/* Adds a forwarded or dropped packet to its flow's counters (as the segments it stands for). */
static __always_inline void flow_account(struct offload_ctx *ctx, struct packet *pkt,
					 struct offload_flow_value *flow, __u64 now)
{
	__u32 segs = ctx->gso_segs ? ctx->gso_segs : 1;
	__u64 bytes = pkt->l3_len;

	if (segs > 1)
		bytes += (__u64)(segs - 1) * (pkt->l4_off - pkt->l3_off + pkt->l4_hdr_len);
	__sync_fetch_and_add(&flow->packets, segs);
	__sync_fetch_and_add(&flow->bytes, bytes);
	flow->last_seen_ns = now;
}

#endif /* WRTKIT_OFFLOAD_FLOW_H */
