/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * offloadd: the user-space half of the offload datapath (ebpf/offload). It turns the
 * datapath's new-flow events into flows (conntrack, NAT, next hop), keeps them alive and
 * true (conntrack timeouts, teardown on conntrack/route/neighbour changes) and answers the
 * TypeScript plugin on a unix socket. One job per file:
 *
 *   main.c       arguments, the event loop, timers, signals
 *   control.c    the control socket: newline-delimited JSON requests and responses
 *   datapath.c   the BPF object: load, attach/detach, maps, stats, heart beat
 *   conntrack.c  ctnetlink: look up, refresh, event subscription
 *   rtnl.c       rtnetlink: link cache, route and neighbour look-ups, change events
 *   flows.c      the flow table: setup from events, policy, teardown, refresh
 *   csum.c       the checksum deltas of the datapath's contract
 *   util.c       logging, addresses, time, netlink event draining
 */
#ifndef OFFLOADD_H
#define OFFLOADD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <jansson.h>
#include <libmnl/libmnl.h>

#include "offload.h"

/* ---- util.c ------------------------------------------------------------------------- */

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern enum log_level log_level;

void logmsg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs every message waiting on a non-blocking netlink event socket through cb: 0 once it
 * is drained, else -errno (-ENOBUFS: the kernel dropped events, the caller resyncs). */
int netlink_drain(struct mnl_socket *sock, mnl_cb_t cb);
#define log_error(...) logmsg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) logmsg(LOG_WARN, __VA_ARGS__)
#define log_info(...) logmsg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) logmsg(LOG_DEBUG, __VA_ARGS__)

uint64_t monotonic_ns(void);
/* "10.1.0.12" / "fd01::12" from 4 or 16 bytes. buf needs INET6_ADDRSTRLEN. */
const char *addr_str(uint8_t family, const uint8_t *addr, char *buf);
/* Parses an IPv4 or IPv6 address into 16 bytes (IPv4: first 4); returns the family or 0. */
uint8_t addr_parse(const char *text, uint8_t *addr);
const char *mac_str(const uint8_t *mac, char *buf); /* buf: 18 bytes */
bool mac_parse(const char *text, uint8_t *mac);
bool mac_zero(const uint8_t *mac);
/* Whether addr lies in prefix/len (same family). */
bool prefix_match(uint8_t family, const uint8_t *prefix, int len, const uint8_t *addr);
int addr_len(uint8_t family); /* 4 or 16 */

/* ---- csum.c ------------------------------------------------------------------------- */

/* The datapath's checksum delta (RFC 1624) from old to new bytes, big-endian, 0 for -0. */
uint16_t csum_delta(const uint8_t *old_bytes, const uint8_t *new_bytes, size_t len);

/* ---- the flow's conntrack view ------------------------------------------------------- */

/* One direction's tuple, addresses and ports as on the wire. */
struct tuple {
	uint8_t family; /* OFFLOAD_FAMILY_IPV4 / _IPV6 */
	uint8_t proto;  /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};

struct ct_entry {
	struct tuple orig, reply;
	uint32_t status;   /* IPS_* */
	uint8_t tcp_state; /* TCP_CONNTRACK_* */
	uint32_t timeout;  /* s */
	bool has_helper;
	uint16_t zone;
};

/* ---- conntrack.c -------------------------------------------------------------------- */

int ct_init(void);
void ct_close(void);
int ct_event_fd(void);
/* Looks up the entry one of whose directions is t: 0, -ENOENT, or -errno. */
int ct_get(const struct tuple *t, struct ct_entry *out);
/* Sets the timeout (s) of the entry whose original tuple is orig. */
int ct_set_timeout(const struct tuple *orig, uint32_t timeout);
/* TCP: makes conntrack's window tracking liberal in both directions (the fast path moves
 * the sequence numbers past what conntrack saw). */
int ct_set_liberal(const struct tuple *orig);
/* Reads pending conntrack events, calling flows_ct_event() for each; -ENOBUFS when events
 * were lost (the caller then resynchronises). */
int ct_events_read(void);
/* The default timeout (s) conntrack gives an entry in this state (the namespace's sysctls). */
uint32_t ct_default_timeout(const struct ct_entry *ct);

/* ---- rtnl.c ------------------------------------------------------------------------- */

struct link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16];     /* IFLA_INFO_KIND: "vlan", "bridge", "veth", ... or "" */
	int parent;        /* IFLA_LINK (a VLAN's lower device), 0 if none */
	int master;        /* IFLA_MASTER (a bridge), 0 if none */
	uint16_t vlan_id;  /* kind vlan */
	uint16_t vlan_proto; /* kind vlan, network order */
	uint32_t mtu;
	uint16_t type;     /* ARPHRD_* */
	unsigned int flags; /* IFF_* */
	uint8_t mac[6];
	bool has_mac;
};

/* Where a direction of a flow leaves the router. */
struct egress {
	int l3_ifindex;     /* the route's output device (e.g. a VLAN device or a bridge) */
	int ifindex;        /* the lowest device: where the frame is sent */
	uint8_t family;
	uint8_t nexthop[16];  /* the gateway, or the destination itself when on-link */
	uint8_t dst_mac[6], src_mac[6];
	uint16_t vlan_tci;  /* with vlan */
	bool vlan;
	uint16_t pppoe_sid; /* network order, with pppoe */
	bool pppoe;
	uint16_t mtu;
};

int rtnl_init(void);
void rtnl_close(void);
int rtnl_event_fd(void);
const struct link *link_get(int ifindex);
const struct link *link_by_name(const char *name);
/* The L3 device a frame received on ifindex with this VLAN id belongs to (VLAN device,
 * then its bridge), or 0 when none matches. */
int link_l3_ingress(int ifindex, uint16_t vlan_id);
/* Resolves the egress for a packet to dst (from src, arriving on iif when > 0). Returns 0,
 * or a reason string constant for refusal in *why (then a negative value). */
int rtnl_resolve(uint8_t family, const uint8_t *dst, const uint8_t *src, int iif, struct egress *out, const char **why);
/* Reads pending rtnetlink events: updates the link cache, calls flows_link_changed(),
 * flows_route_changed(), flows_neigh_changed(). */
int rtnl_events_read(void);

/* ---- datapath.c --------------------------------------------------------------------- */

enum attach_mode { ATTACH_NONE, ATTACH_XDP, ATTACH_TC };

struct dp_settings {
	uint64_t heartbeat_timeout_ns;
	bool ipv6;
};

int dp_open(const char *object, const char *pin_dir, const struct dp_settings *s);
/* Loads a new instance with other settings and moves every attachment to it. */
int dp_reload(const struct dp_settings *s);
void dp_close(bool keep_pins);
const struct dp_settings *dp_current_settings(void);
/* Attaches mode on ifindex (replacing what we had there); *how says "xdp-native",
 * "xdp-generic" or "tc". Returns 0 or -errno. */
int dp_attach(int ifindex, enum attach_mode mode, const char **how);
int dp_detach(int ifindex, enum attach_mode mode, bool generic);
int dp_ringbuf_fd(void);
int dp_ringbuf_consume(void);
int dp_flow_put(const struct offload_flow_key *key, const struct offload_flow_value *value);
int dp_flow_get(const struct offload_flow_key *key, struct offload_flow_value *value);
int dp_flow_del(const struct offload_flow_key *key);
void dp_flows_clear(void);
int dp_txport_add(int ifindex);
int dp_heartbeat(uint64_t ns);
/* Sums the per-CPU stats into out[OFFLOAD_STAT_MAX]. */
int dp_stats(uint64_t *out);

/* ---- flows.c ------------------------------------------------------------------------ */

struct policy {
	bool ipv6;
	int n_macs;
	uint8_t (*macs)[6];
	int n_cidrs;
	struct cidr {
		uint8_t family;
		uint8_t addr[16];
		int len;
	} *cidrs;
};

/* Refusal and pass reasons counted in status.events.refused. */
#define REFUSALS(X)                                                                           \
	X(not_found) X(tcp_not_established) X(udp_not_replied) X(helper) X(nat_seq_adjust)    \
	X(flowtable) X(ipv6_disabled) X(excluded) X(no_route) X(not_forwarded) X(no_neigh)    \
	X(unsupported_device) X(not_configured) X(conntrack_error) X(map_error) X(duplicate)
enum refusal {
#define X(name) REFUSED_##name,
	REFUSALS(X)
#undef X
	REFUSED_MAX,
};

void flows_init(void);
size_t flows_set_policy(struct policy *p); /* takes ownership; answers how many flows it removed */
/* Whether ifindex has the datapath attached (the flows' ingress must). */
void flows_set_attached(int ifindex, bool attached);
void flows_on_event(const struct offload_event *ev);
void flows_ct_event(bool destroy, const struct ct_entry *ct);
void flows_ct_resync(void);
void flows_link_changed(int ifindex, bool removed);
void flows_route_changed(void);
void flows_neigh_changed(int ifindex, uint8_t family, const uint8_t *addr, const uint8_t *mac, bool valid);
/* Called from the loop: deferred re-resolution after route/link changes. */
void flows_process_pending(void);
void flows_refresh(void);
size_t flows_flush_all(void);
size_t flows_flush_mac(const uint8_t *mac);
size_t flows_flush_addr(uint8_t family, const uint8_t *addr);
size_t flows_flush_ifindex(int ifindex);
size_t flows_flush_family(uint8_t family);
size_t flows_count(void); /* directions in the map */
json_t *flows_json(void);
json_t *flows_events_json(void);
uint64_t flows_offloaded_total(void);

/* ---- control.c ---------------------------------------------------------------------- */

int control_open(const char *path);
void control_close(void);
int control_listen_fd(void);
void control_accept(void);
/* Handles readiness of a client fd; returns false when fd is not a client. */
bool control_client_io(int fd, uint32_t events);

/* ---- main.c: what the control commands act on --------------------------------------- */

extern unsigned int refresh_s;
/* Registers/unregisters a client fd with the event loop. */
int loop_add_fd(int fd, uint32_t events);
int loop_mod_fd(int fd, uint32_t events);
void loop_del_fd(int fd);
/* Re-arms the heart beat timer. */
int heartbeat_set_interval(unsigned int ms);
unsigned int heartbeat_interval(void);
json_t *cmd_configure(json_t *args, json_t **error);
json_t *cmd_status(void);

#endif /* OFFLOADD_H */
