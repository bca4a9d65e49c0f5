/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between the offload datapath (offload.bpf.c) and user space: map keys
 * and values, events, statistics and pin names. Included by both sides, so it holds
 * only fixed-width types, explicit padding and no pointers.
 *
 * Byte order: what is copied from or to the wire (addresses, ports, PPPoE session ids,
 * MAC addresses, checksum deltas) is in network byte order, exactly as on the wire.
 * Everything else (ifindexes, VLAN ids, MTU, counters, times) is in host byte order.
 * Padding must be zero: keys are compared byte by byte.
 *
 * The README beside this file describes who writes what and the checksum-delta
 * convention.
 */
#ifndef WRTKIT_OFFLOAD_H
#define WRTKIT_OFFLOAD_H

#include <linux/types.h>

/* Bumped whenever a struct below changes layout or meaning. */
#define OFFLOAD_ABI_VERSION 1

/*
 * Map names. With LIBBPF_PIN_BY_NAME each map is pinned as <pin root>/<name>; the
 * loader picks the pin root (a bpffs directory, e.g. /sys/fs/bpf/wrtkit-offload), and
 * every program instance loaded with the same root shares the same maps.
 */
#define OFFLOAD_MAP_FLOWS "flows"
#define OFFLOAD_MAP_TX_PORTS "tx_ports"
#define OFFLOAD_MAP_EVENTS "events"
#define OFFLOAD_MAP_EVENT_LIMIT "event_limit"
#define OFFLOAD_MAP_STATS "stats"
#define OFFLOAD_MAP_HEARTBEAT "heartbeat"

/* Program (function) names of the two entry points. */
#define OFFLOAD_PROG_XDP "offload_xdp"
#define OFFLOAD_PROG_TC "offload_tc"

#define OFFLOAD_FAMILY_IPV4 4
#define OFFLOAD_FAMILY_IPV6 6

/*
 * flows: BPF_MAP_TYPE_HASH, struct offload_flow_key -> struct offload_flow_value.
 * Written by user space only; the datapath never creates entries, it only adds to the
 * counters of the entries it hits.
 */
struct offload_flow_key {
	__u32 ifindex;   /* ingress device */
	__u16 vlan_id;   /* VID of the ingress 802.1Q/802.1ad tag, 0 when untagged */
	__be16 pppoe_sid; /* PPPoE session id, 0 when not PPPoE */
	__u8 family;     /* OFFLOAD_FAMILY_IPV4 or OFFLOAD_FAMILY_IPV6 */
	__u8 proto;      /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 dsa_port;   /* DSA source port (DSA builds), 0 otherwise */
	__u8 pad0;
	__be16 sport;
	__be16 dport;
	__u8 saddr[16];  /* IPv4: the first 4 bytes, the rest zero */
	__u8 daddr[16];
};

enum offload_action {
	OFFLOAD_ACTION_PASS = 0,    /* known to user space, not offloaded (yet): the stack */
	OFFLOAD_ACTION_FORWARD = 1, /* rewrite and redirect */
	OFFLOAD_ACTION_DROP = 2,    /* drop in the datapath */
};

/* struct offload_flow_value.flags */
#define OFFLOAD_F_SNAT (1 << 0)  /* write nat_saddr and nat_sport */
#define OFFLOAD_F_DNAT (1 << 1)  /* write nat_daddr and nat_dport */
#define OFFLOAD_F_VLAN (1 << 2)  /* send with an 802.1Q tag carrying egress_vlan */
#define OFFLOAD_F_PPPOE (1 << 3) /* send inside PPPoE session egress_pppoe_sid */
#define OFFLOAD_F_DSA (1 << 4)   /* send with a DSA tag for egress_dsa_port (DSA builds) */

struct offload_flow_value {
	__u8 action;     /* enum offload_action */
	__u8 flags;      /* OFFLOAD_F_* */
	__u16 mtu;       /* largest IP packet the egress takes; bigger ones, and all when 0, go to the stack */
	__u32 egress_ifindex;

	/* NAT: the new source and destination (used per OFFLOAD_F_SNAT / OFFLOAD_F_DNAT). */
	__u8 nat_saddr[16];
	__u8 nat_daddr[16];
	__be16 nat_sport;
	__be16 nat_dport;
	/*
	 * Checksum deltas, precomputed by user space (see the README): the one's-complement
	 * sum of the new 16-bit words minus the old ones, folded to 16 bits and stored in
	 * network byte order like a checksum field. Zero when nothing changes.
	 */
	__be16 csum_addr; /* the addresses: IPv4 header checksum and the L4 pseudo header */
	__be16 csum_port; /* the ports: the TCP/UDP checksum */

	/* The egress L2 header. */
	__u8 dst_mac[6];
	__u8 src_mac[6];
	__u16 egress_vlan;      /* 802.1Q TCI (PCP and VID) with OFFLOAD_F_VLAN */
	__be16 egress_pppoe_sid; /* with OFFLOAD_F_PPPOE */
	__u8 egress_dsa_port;   /* with OFFLOAD_F_DSA */
	__u8 pad0[7];

	/* Written by the datapath for every packet it forwards or drops. */
	__u64 packets;
	__u64 bytes;        /* IP bytes (the IP header's length), like conntrack counts them */
	__u64 last_seen_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
};

/*
 * events: BPF_MAP_TYPE_RINGBUF of struct offload_event. A packet of a flow that is not
 * in flows is passed to the stack and reported here, at most once per flow key every
 * event_interval_ns (event_limit: an LRU hash keyed by the flow key, holding the time
 * of the last report). A TCP FIN or RST of a flow that is in flows is passed to the
 * stack and reported every time (FLOW_END): user space removes the flow.
 */
enum offload_event_type {
	OFFLOAD_EVENT_NEW_FLOW = 1,
	OFFLOAD_EVENT_FLOW_END = 2, /* a TCP FIN or RST of a flow in flows (passed to the stack) */
};

enum offload_hook {
	OFFLOAD_HOOK_XDP = 1,
	OFFLOAD_HOOK_TC = 2,
};

#define OFFLOAD_TCP_FIN 0x01
#define OFFLOAD_TCP_RST 0x04

struct offload_event {
	__u64 ts_ns;     /* bpf_ktime_get_ns() */
	__u32 type;      /* enum offload_event_type */
	__u16 l3_len;    /* IP length of the packet (saturated) */
	__u8 hook;       /* enum offload_hook */
	__u8 tcp_flags;  /* byte 13 of the TCP header, 0 for UDP: OFFLOAD_TCP_* */
	struct offload_flow_key key;
};

/*
 * stats: BPF_MAP_TYPE_PERCPU_ARRAY of __u64 packet counts, indexed by enum
 * offload_stat; user space sums the CPUs.
 */
enum offload_stat {
	OFFLOAD_STAT_FORWARD,        /* rewritten and redirected */
	OFFLOAD_STAT_DROP,           /* flow action DROP */
	OFFLOAD_STAT_PASS_UNKNOWN,   /* a header the datapath does not handle (ethertype, QinQ, L4 protocol) */
	OFFLOAD_STAT_PASS_MALFORMED, /* truncated or inconsistent headers */
	OFFLOAD_STAT_PASS_FRAGMENT,  /* IPv4 MF/offset, IPv6 fragment header */
	OFFLOAD_STAT_PASS_OPTIONS,   /* IPv4 options, IPv6 extension headers */
	OFFLOAD_STAT_PASS_FIN_RST,   /* TCP FIN, RST or SYN: connection state is the stack's */
	OFFLOAD_STAT_PASS_TTL,       /* TTL / hop limit <= 1 */
	OFFLOAD_STAT_PASS_MTU,       /* bigger than the flow's MTU (or the flow has none) */
	OFFLOAD_STAT_PASS_NO_FLOW,   /* no entry in flows */
	OFFLOAD_STAT_PASS_FLOW,      /* entry with action PASS */
	OFFLOAD_STAT_PASS_HEARTBEAT, /* user space's heartbeat is missing or stale */
	OFFLOAD_STAT_PASS_DISABLED,  /* IPv6 while enable_ipv6 is off */
	OFFLOAD_STAT_PASS_NO_TXPORT, /* XDP: egress not in tx_ports; TC: no egress */
	OFFLOAD_STAT_PASS_L2,        /* an L2 rewrite this hook or build cannot do */
	OFFLOAD_STAT_PASS_ERROR,     /* a helper failed before the packet changed */
	OFFLOAD_STAT_DROP_ERROR,     /* a helper failed after the packet changed */
	OFFLOAD_STAT_EVENT,          /* new-flow events sent */
	OFFLOAD_STAT_EVENT_LOST,     /* new-flow events lost: ring buffer full */
	OFFLOAD_STAT_MAX,
};

/* Names for user space, in enum offload_stat order. */
#define OFFLOAD_STAT_NAMES                                                                  \
	{                                                                                   \
		"forward", "drop", "pass_unknown", "pass_malformed", "pass_fragment",       \
		"pass_options", "pass_fin_rst", "pass_ttl", "pass_mtu", "pass_no_flow",     \
		"pass_flow", "pass_heartbeat", "pass_disabled", "pass_no_txport", "pass_l2", \
		"pass_error", "drop_error", "event", "event_lost"                           \
	}

/*
 * heartbeat: BPF_MAP_TYPE_ARRAY with one __u64 at key 0: the CLOCK_MONOTONIC time in
 * ns (clock_gettime(CLOCK_MONOTONIC), the clock of bpf_ktime_get_ns()) of user space's
 * last heart beat. Zero, or older than heartbeat_timeout_ns: every packet goes to the
 * stack.
 *
 * tx_ports: BPF_MAP_TYPE_DEVMAP_HASH, __u32 ifindex -> __u32 ifindex (the same): the
 * devices XDP may redirect to. A flow whose egress is missing here is passed.
 */

#endif /* WRTKIT_OFFLOAD_H */
