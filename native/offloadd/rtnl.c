// SPDX-License-Identifier: GPL-2.0-only
/*
 * rtnetlink, in this (the router's) network namespace: a cache of links (kind, VLAN id,
 * lower device, bridge master, MTU, MAC), the egress of a packet (RTM_GETROUTE for its
 * destination as the stack would route it, then the next hop's MAC from RTM_GETNEIGH, then
 * the lowest device and its tag), and the link, route and neighbour change events that
 * make flows be re-resolved or torn down.
 *
 * Nothing here blocks on the network: a next hop without a valid neighbour entry is a
 * refusal (the stack, which gets the packet, resolves it; the next event retries).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "offloadd.h"

#define LINK_CACHE_MAX 1024

static struct mnl_socket *query_sock, *event_sock;
static unsigned int query_portid, seq;
static struct link links[LINK_CACHE_MAX];
static int n_links;

/* ---- requests ------------------------------------------------------------------------- */

static int request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int this_seq = ++seq;
	int ret;

	nlh->nlmsg_seq = this_seq;
	if (mnl_socket_sendto(query_sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ret = (int)mnl_socket_recvfrom(query_sock, buf, sizeof(buf));
		if (ret < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)ret, this_seq, query_portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/* ---- links ---------------------------------------------------------------------------- */

const struct link *link_get(int ifindex)
{
	for (int i = 0; i < n_links; i++)
		if (links[i].ifindex == ifindex)
			return &links[i];
	return NULL;
}

const struct link *link_by_name(const char *name)
{
	for (int i = 0; i < n_links; i++)
		if (!strcmp(links[i].name, name))
			return &links[i];
	return NULL;
}

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	struct link *l = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int vlaninfo_cb(const struct nlattr *attr, void *data)
{
	struct link *l = data;

	if (mnl_attr_get_type(attr) == IFLA_VLAN_ID)
		l->vlan_id = mnl_attr_get_u16(attr);
	else if (mnl_attr_get_type(attr) == IFLA_VLAN_PROTOCOL)
		l->vlan_proto = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link *l = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(attr));
		break;
	case IFLA_MTU:
		l->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_LINK:
		l->parent = (int)mnl_attr_get_u32(attr);
		break;
	case IFLA_MASTER:
		l->master = (int)mnl_attr_get_u32(attr);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == 6) {
			memcpy(l->mac, mnl_attr_get_payload(attr), 6);
			l->has_mac = true;
		}
		break;
	case IFLA_LINKINFO: {
		const struct nlattr *data_attr;

		mnl_attr_parse_nested(attr, linkinfo_cb, l);
		mnl_attr_for_each_nested(data_attr, attr)
			if (mnl_attr_get_type(data_attr) == IFLA_INFO_DATA && !strcmp(l->kind, "vlan"))
				mnl_attr_parse_nested(data_attr, vlaninfo_cb, l);
		break;
	}
	}
	return MNL_CB_OK;
}

/* Applies an RTM_NEWLINK / RTM_DELLINK; returns the ifindex. */
static int link_update(const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link l = { .ifindex = ifi->ifi_index, .type = ifi->ifi_type, .flags = ifi->ifi_flags };
	struct link *slot = (struct link *)link_get(ifi->ifi_index);

	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (slot)
			*slot = links[--n_links];
		return ifi->ifi_index;
	}
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, &l);
	if (strcmp(l.kind, "vlan"))
		l.parent = 0; /* IFLA_LINK of a veth is its peer, maybe in another namespace */
	if (!slot && n_links < LINK_CACHE_MAX)
		slot = &links[n_links++];
	if (slot)
		*slot = l;
	return ifi->ifi_index;
}

static int link_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	if (nlh->nlmsg_type == RTM_NEWLINK)
		link_update(nlh);
	return MNL_CB_OK;
}

int link_l3_ingress(int ifindex, uint16_t vlan_id)
{
	const struct link *l = link_get(ifindex);

	if (!l)
		return 0;
	if (vlan_id) {
		const struct link *v = NULL;

		for (int i = 0; i < n_links; i++)
			if (!strcmp(links[i].kind, "vlan") && links[i].parent == ifindex && links[i].vlan_id == vlan_id)
				v = &links[i];
		if (!v)
			return 0;
		l = v;
	}
	if (l->master) {
		const struct link *m = link_get(l->master);

		if (m && !strcmp(m->kind, "bridge"))
			return m->ifindex;
	}
	return l->ifindex;
}

/* ---- init ----------------------------------------------------------------------------- */

static int links_dump(void);

int rtnl_init(void)
{
	struct timeval timeout = { .tv_sec = 1 };
	int bufsize = 4 << 20;

	query_sock = mnl_socket_open(NETLINK_ROUTE);
	if (!query_sock || mnl_socket_bind(query_sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	query_portid = mnl_socket_get_portid(query_sock);
	/* an answer that never comes must not stop the loop */
	setsockopt(mnl_socket_get_fd(query_sock), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	event_sock = mnl_socket_open(NETLINK_ROUTE);
	if (!event_sock || mnl_socket_bind(event_sock, RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
					   MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	if (setsockopt(mnl_socket_get_fd(event_sock), SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)))
		setsockopt(mnl_socket_get_fd(event_sock), SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	fcntl(mnl_socket_get_fd(event_sock), F_SETFL, O_NONBLOCK);
	seq = (unsigned int)time(NULL);
	return links_dump();
}

/* (Re)reads every link into the cache. */
static int links_dump(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtgenmsg *rt;

	n_links = 0;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_UNSPEC;
	return request(nlh, link_dump_cb, NULL);
}

void rtnl_close(void)
{
	if (query_sock)
		mnl_socket_close(query_sock);
	if (event_sock)
		mnl_socket_close(event_sock);
}

int rtnl_event_fd(void)
{
	return mnl_socket_get_fd(event_sock);
}

/* ---- routes --------------------------------------------------------------------------- */

struct route {
	int found;
	uint8_t type;
	int oif;
	uint8_t gateway[16];
	bool has_gateway;
	uint32_t mtu;
};

static int metrics_cb(const struct nlattr *attr, void *data)
{
	struct route *r = data;

	if (mnl_attr_get_type(attr) == RTAX_MTU)
		r->mtu = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route *r = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_OIF:
		r->oif = (int)mnl_attr_get_u32(attr);
		break;
	case RTA_GATEWAY: {
		uint16_t len = mnl_attr_get_payload_len(attr);

		if (len == 4 || len == 16) {
			memcpy(r->gateway, mnl_attr_get_payload(attr), len);
			r->has_gateway = true;
		}
		break;
	}
	case RTA_METRICS:
		mnl_attr_parse_nested(attr, metrics_cb, r);
		break;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route *r = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	r->found = 1;
	r->type = rtm->rtm_type;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, r);
	return MNL_CB_OK;
}

static int route_get(uint8_t family, const uint8_t *dst, const uint8_t *src, int iif, struct route *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int alen = addr_len(family), err;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family == OFFLOAD_FAMILY_IPV6 ? AF_INET6 : AF_INET;
	rtm->rtm_dst_len = (uint8_t)(alen * 8);
	mnl_attr_put(nlh, RTA_DST, (size_t)alen, dst);
	if (src && iif > 0) {
		rtm->rtm_src_len = (uint8_t)(alen * 8);
		mnl_attr_put(nlh, RTA_SRC, (size_t)alen, src);
		mnl_attr_put_u32(nlh, RTA_IIF, (uint32_t)iif);
	}
	memset(r, 0, sizeof(*r));
	err = request(nlh, route_cb, r);
	if (err)
		return err;
	return r->found ? 0 : -ENOENT;
}

/* ---- neighbours ----------------------------------------------------------------------- */

struct neigh {
	int found;
	uint16_t state;
	uint8_t mac[6];
	bool has_mac;
	int ifindex; /* AF_BRIDGE: the port */
};

static int neigh_attr_cb(const struct nlattr *attr, void *data)
{
	struct neigh *n = data;

	if (mnl_attr_get_type(attr) == NDA_LLADDR && mnl_attr_get_payload_len(attr) == 6) {
		memcpy(n->mac, mnl_attr_get_payload(attr), 6);
		n->has_mac = true;
	}
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh *n = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return MNL_CB_OK;
	n->found = 1;
	n->state = ndm->ndm_state;
	n->ifindex = ndm->ndm_ifindex;
	mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, n);
	return MNL_CB_OK;
}

#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)

static int neigh_get(uint8_t family, int ifindex, const uint8_t *addr, struct neigh *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	int err;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family == OFFLOAD_FAMILY_IPV6 ? AF_INET6 : AF_INET;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, (size_t)addr_len(family), addr);
	memset(n, 0, sizeof(*n));
	err = request(nlh, neigh_cb, n);
	if (err)
		return err;
	return n->found && n->has_mac && (n->state & NUD_USABLE) ? 0 : -ENOENT;
}

/* The bridge port a MAC was learned on (the bridge's FDB). */
static int fdb_port(int bridge, const uint8_t *mac)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	struct neigh n;
	int err;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	mnl_attr_put_u32(nlh, NDA_MASTER, (uint32_t)bridge);
	memset(&n, 0, sizeof(n));
	err = request(nlh, neigh_cb, &n);
	if (err)
		return err;
	return n.found && n.ifindex != bridge ? n.ifindex : -ENOENT;
}

/* ---- PPPoE ---------------------------------------------------------------------------- */

/* The one PPPoE session of /proc/net/pppoe ("Id Address Device"): session id (network
 * order), the concentrator's MAC, the Ethernet device. More than one: ambiguous. */
static int pppoe_session(uint16_t *sid, uint8_t *mac, int *ifindex)
{
	char line[256], addr[32], dev[IFNAMSIZ + 1];
	unsigned int id;
	int found = 0;
	FILE *f = fopen("/proc/net/pppoe", "r");

	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		const struct link *l;

		if (sscanf(line, "%x %31s %16s", &id, addr, dev) != 3)
			continue; /* the header */
		l = link_by_name(dev);
		if (!l || !mac_parse(addr, mac))
			continue;
		*sid = htons((uint16_t)id);
		*ifindex = l->ifindex;
		found++;
	}
	fclose(f);
	return found == 1 ? 0 : -ENOENT;
}

/* ---- the egress ----------------------------------------------------------------------- */

int rtnl_resolve(uint8_t family, const uint8_t *dst, const uint8_t *src, int iif, struct egress *out, const char **why)
{
	const struct link *l3, *dev;
	struct route r;
	struct neigh n;
	int err;

	memset(out, 0, sizeof(*out));
	out->family = family;
	/* as the stack routes the packet it forwards (policy routing by source and input
	 * device included); an output look-up when that fails */
	err = route_get(family, dst, src, iif, &r);
	if (err || !r.oif)
		err = route_get(family, dst, NULL, 0, &r);
	if (err) {
		*why = "no_route";
		return -1;
	}
	if (r.type != RTN_UNICAST) {
		*why = "not_forwarded";
		return -1;
	}
	l3 = link_get(r.oif);
	if (!l3 || !(l3->flags & IFF_UP)) {
		*why = "no_route";
		return -1;
	}
	out->l3_ifindex = l3->ifindex;
	memcpy(out->nexthop, r.has_gateway ? r.gateway : dst, (size_t)addr_len(family));
	out->mtu = (uint16_t)(l3->mtu > 0xffff ? 0xffff : l3->mtu);
	if (r.mtu && r.mtu < out->mtu)
		out->mtu = (uint16_t)r.mtu;

	dev = l3;
	if (l3->type == ARPHRD_PPP) {
		int eth;

		if (pppoe_session(&out->pppoe_sid, out->dst_mac, &eth)) {
			*why = "unsupported_device";
			return -1;
		}
		out->pppoe = true;
		dev = link_get(eth);
		if (!dev || !dev->has_mac) {
			*why = "unsupported_device";
			return -1;
		}
		memcpy(out->src_mac, dev->mac, 6);
	} else {
		if (!l3->has_mac || l3->type != ARPHRD_ETHER) {
			*why = "unsupported_device";
			return -1;
		}
		if (neigh_get(family, l3->ifindex, out->nexthop, &n)) {
			*why = "no_neigh";
			return -1;
		}
		memcpy(out->dst_mac, n.mac, 6);
		memcpy(out->src_mac, l3->mac, 6);
	}
	/* down to the device the frame is sent on */
	if (!strcmp(dev->kind, "bridge")) {
		int port = fdb_port(dev->ifindex, out->dst_mac);

		dev = port > 0 ? link_get(port) : NULL;
		if (!dev) {
			*why = "no_neigh";
			return -1;
		}
	}
	if (!strcmp(dev->kind, "vlan")) {
		if (dev->vlan_proto != htons(ETH_P_8021Q)) {
			*why = "unsupported_device";
			return -1;
		}
		out->vlan = true;
		out->vlan_tci = dev->vlan_id;
		dev = link_get(dev->parent);
		if (!dev || !strcmp(dev->kind, "vlan") || !strcmp(dev->kind, "bridge")) {
			*why = "unsupported_device"; /* QinQ, VLAN on a bridge */
			return -1;
		}
	}
	out->ifindex = dev->ifindex;
	return 0;
}

/* ---- events --------------------------------------------------------------------------- */

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		int ifindex = link_update(nlh);

		flows_link_changed(ifindex, nlh->nlmsg_type == RTM_DELLINK);
		break;
	}
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		flows_route_changed();
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH: {
		const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
		const struct nlattr *attr;
		const uint8_t *addr = NULL;
		struct neigh n = { 0 };

		if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
			break;
		mnl_attr_for_each(attr, nlh, sizeof(*ndm))
			if (mnl_attr_get_type(attr) == NDA_DST)
				addr = mnl_attr_get_payload(attr);
		mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, &n);
		if (!addr)
			break;
		flows_neigh_changed(ndm->ndm_ifindex, ndm->ndm_family == AF_INET6 ? OFFLOAD_FAMILY_IPV6 : OFFLOAD_FAMILY_IPV4,
				    addr, n.mac,
				    nlh->nlmsg_type == RTM_NEWNEIGH && n.has_mac && (ndm->ndm_state & NUD_USABLE));
		break;
	}
	}
	return MNL_CB_OK;
}

int rtnl_events_read(void)
{
	for (;;) {
		int err = netlink_drain(event_sock, event_cb);

		if (err != -ENOBUFS)
			return err;
		/* lost events: read the links again, re-resolve everything */
		log_warn("rtnetlink events lost: resynchronising");
		links_dump();
		flows_route_changed();
	}
}
