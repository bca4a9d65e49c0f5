/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Header parsers for the offload datapath, after the contract of xdp-tools'
 * parsing_helpers.h: each takes a cursor and the end of the packet data, checks the
 * bounds before it reads a byte, and on success advances the cursor past the header,
 * hands out a pointer to it and returns what comes next (an ethertype or PPP protocol
 * in network byte order, an IP protocol number, a header length). On failure (too
 * short, or not the header it claims to be) it returns -1 and leaves the cursor alone.
 *
 * The parsers check structure only; what the datapath accepts (options, fragments,
 * TTL) is decided by its caller.
 *
 * Bit fields of the linux/ *.h structs (iphdr ihl/version, tcphdr doff/flags, ipv6hdr
 * version) are never used: their order depends on asm/byteorder.h of the build host,
 * which is wrong for the other byte order. Those fields are read as bytes.
 */
#ifndef WRTKIT_OFFLOAD_PARSING_H
#define WRTKIT_OFFLOAD_PARSING_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define PPP_PROTO_IPV4 0x0021
#define PPP_PROTO_IPV6 0x0057

/* IPv4 frag_off bits, host order */
#define IP_MF_BIT 0x2000
#define IP_OFFSET_MASK 0x1fff

/* TCP flags: byte 13 of the header */
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04

struct hdr_cursor {
	void *pos;
};

/* 802.1Q / 802.1ad tag after the source MAC (linux/if_vlan.h is not uapi). */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

/* PPPoE session header and the PPP protocol field after it (RFC 2516). */
struct pppoe_session_hdr {
	__u8 ver_type; /* 0x11 */
	__u8 code;     /* 0x00 for session data */
	__be16 sid;
	__be16 length; /* PPP payload, including the protocol field */
	__be16 ppp_proto;
};

/* MediaTek DSA tag (tag_mtk): 4 bytes between the source MAC and the ethertype. */
#define MTK_TAG_LEN 4
#define MTK_TAG_RX_PORT_MASK 0x0007
#define MTK_TAG_TX_TAGGED_8100 0x01
#define MTK_TAG_TX_PORT_MASK 0x3f

static __always_inline int proto_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Ethernet header. Returns the ethertype. */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end, struct ethhdr **ethhdr)
{
	struct ethhdr *eth = nh->pos;

	if ((void *)(eth + 1) > data_end)
		return -1;
	nh->pos = eth + 1;
	*ethhdr = eth;
	return eth->h_proto;
}

/*
 * Ethernet header with a MediaTek DSA tag in place of the ethertype. Returns the
 * ethertype after the tag; *port is the switch port the frame came in on.
 */
static __always_inline int parse_ethhdr_mtk(struct hdr_cursor *nh, void *data_end, __u8 *port)
{
	__u8 *p = nh->pos;

	if ((void *)(p + 2 * ETH_ALEN + MTK_TAG_LEN + 2) > data_end)
		return -1;
	*port = p[2 * ETH_ALEN + 1] & MTK_TAG_RX_PORT_MASK;
	nh->pos = p + 2 * ETH_ALEN + MTK_TAG_LEN + 2;
	return *(__be16 *)(p + 2 * ETH_ALEN + MTK_TAG_LEN);
}

/* One VLAN tag. Returns the encapsulated ethertype. */
static __always_inline int parse_vlanhdr(struct hdr_cursor *nh, void *data_end, struct vlan_hdr **vlanhdr)
{
	struct vlan_hdr *vlh = nh->pos;

	if ((void *)(vlh + 1) > data_end)
		return -1;
	nh->pos = vlh + 1;
	*vlanhdr = vlh;
	return vlh->h_vlan_encapsulated_proto;
}

/* PPPoE session header with its PPP protocol field. Returns the PPP protocol. */
static __always_inline int parse_pppoehdr(struct hdr_cursor *nh, void *data_end,
					  struct pppoe_session_hdr **pppoehdr)
{
	struct pppoe_session_hdr *ph = nh->pos;

	if ((void *)(ph + 1) > data_end)
		return -1;
	if (ph->ver_type != 0x11 || ph->code != 0)
		return -1;
	nh->pos = ph + 1;
	*pppoehdr = ph;
	return ph->ppp_proto;
}

/* IPv4 header including its options. Returns the protocol. */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end, struct iphdr **iphdr)
{
	struct iphdr *iph = nh->pos;
	__u8 vihl;
	int hdrsize;

	if ((void *)(iph + 1) > data_end)
		return -1;
	vihl = *(__u8 *)iph;
	if ((vihl >> 4) != 4)
		return -1;
	hdrsize = (vihl & 0x0f) * 4;
	if (hdrsize < (int)sizeof(*iph))
		return -1;
	if (nh->pos + hdrsize > data_end)
		return -1;
	nh->pos += hdrsize;
	*iphdr = iph;
	return iph->protocol;
}

/* IPv6 fixed header. Returns the next header. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end, struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -1;
	if ((*(__u8 *)ip6h >> 4) != 6)
		return -1;
	nh->pos = ip6h + 1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

/*
 * TCP header. Only its fixed 20 bytes must be in the data and the cursor moves past
 * them (options are never read); returns the header length from the data offset.
 */
static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end, struct tcphdr **tcphdr)
{
	struct tcphdr *th = nh->pos;
	int len;

	if ((void *)(th + 1) > data_end)
		return -1;
	len = (((__u8 *)th)[12] >> 4) * 4;
	if (len < (int)sizeof(*th))
		return -1;
	nh->pos = th + 1;
	*tcphdr = th;
	return len;
}

/* UDP header. Returns the UDP length (header and payload). */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end, struct udphdr **udphdr)
{
	struct udphdr *uh = nh->pos;
	int len;

	if ((void *)(uh + 1) > data_end)
		return -1;
	len = bpf_ntohs(uh->len);
	if (len < (int)sizeof(*uh))
		return -1;
	nh->pos = uh + 1;
	*udphdr = uh;
	return len;
}

#endif /* WRTKIT_OFFLOAD_PARSING_H */
