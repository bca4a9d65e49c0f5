// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctnetlink, in this (the router's) network namespace: look up the entry of a packet's
 * tuple, refresh its timeout while the fast path carries the flow, make TCP window
 * tracking liberal for offloaded flows, and follow DESTROY and UPDATE events. Messages
 * are built and parsed by libnetfilter_conntrack, sent and received with libmnl.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>

#include "offloadd.h"

static struct mnl_socket *query_sock, *event_sock;
static unsigned int query_portid, seq;

int ct_init(void)
{
	struct timeval timeout = { .tv_sec = 1 };
	int bufsize = 4 << 20;

	query_sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!query_sock || mnl_socket_bind(query_sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	query_portid = mnl_socket_get_portid(query_sock);
	setsockopt(mnl_socket_get_fd(query_sock), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	event_sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!event_sock ||
	    mnl_socket_bind(event_sock, NF_NETLINK_CONNTRACK_UPDATE | NF_NETLINK_CONNTRACK_DESTROY, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	/* a burst of closing connections must not overflow it; lost events force a resync */
	if (setsockopt(mnl_socket_get_fd(event_sock), SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)))
		setsockopt(mnl_socket_get_fd(event_sock), SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	fcntl(mnl_socket_get_fd(event_sock), F_SETFL, O_NONBLOCK);
	seq = (unsigned int)time(NULL);
	return 0;
}

void ct_close(void)
{
	if (query_sock)
		mnl_socket_close(query_sock);
	if (event_sock)
		mnl_socket_close(event_sock);
}

int ct_event_fd(void)
{
	return mnl_socket_get_fd(event_sock);
}

static int l3proto(uint8_t family)
{
	return family == OFFLOAD_FAMILY_IPV6 ? AF_INET6 : AF_INET;
}

static void put_tuple(struct nf_conntrack *ct, const struct tuple *t)
{
	nfct_set_attr_u8(ct, ATTR_L3PROTO, (uint8_t)l3proto(t->family));
	if (t->family == OFFLOAD_FAMILY_IPV6) {
		nfct_set_attr(ct, ATTR_IPV6_SRC, t->src);
		nfct_set_attr(ct, ATTR_IPV6_DST, t->dst);
	} else {
		uint32_t src, dst;

		memcpy(&src, t->src, 4);
		memcpy(&dst, t->dst, 4);
		nfct_set_attr_u32(ct, ATTR_IPV4_SRC, src);
		nfct_set_attr_u32(ct, ATTR_IPV4_DST, dst);
	}
	nfct_set_attr_u8(ct, ATTR_L4PROTO, t->proto);
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, t->sport);
	nfct_set_attr_u16(ct, ATTR_PORT_DST, t->dport);
}

static void get_tuple(const struct nf_conntrack *ct, bool reply, struct tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = nfct_get_attr_u8(ct, ATTR_L3PROTO) == AF_INET6 ? OFFLOAD_FAMILY_IPV6 : OFFLOAD_FAMILY_IPV4;
	t->proto = nfct_get_attr_u8(ct, ATTR_L4PROTO);
	if (t->family == OFFLOAD_FAMILY_IPV6) {
		const void *src = nfct_get_attr(ct, reply ? ATTR_REPL_IPV6_SRC : ATTR_ORIG_IPV6_SRC);
		const void *dst = nfct_get_attr(ct, reply ? ATTR_REPL_IPV6_DST : ATTR_ORIG_IPV6_DST);

		if (src)
			memcpy(t->src, src, 16);
		if (dst)
			memcpy(t->dst, dst, 16);
	} else {
		uint32_t src = nfct_get_attr_u32(ct, reply ? ATTR_REPL_IPV4_SRC : ATTR_ORIG_IPV4_SRC);
		uint32_t dst = nfct_get_attr_u32(ct, reply ? ATTR_REPL_IPV4_DST : ATTR_ORIG_IPV4_DST);

		memcpy(t->src, &src, 4);
		memcpy(t->dst, &dst, 4);
	}
	t->sport = nfct_get_attr_u16(ct, reply ? ATTR_REPL_PORT_SRC : ATTR_ORIG_PORT_SRC);
	t->dport = nfct_get_attr_u16(ct, reply ? ATTR_REPL_PORT_DST : ATTR_ORIG_PORT_DST);
}

static void to_entry(const struct nf_conntrack *ct, struct ct_entry *e)
{
	memset(e, 0, sizeof(*e));
	get_tuple(ct, false, &e->orig);
	get_tuple(ct, true, &e->reply);
	e->status = nfct_attr_is_set(ct, ATTR_STATUS) > 0 ? nfct_get_attr_u32(ct, ATTR_STATUS) : 0;
	e->tcp_state = nfct_attr_is_set(ct, ATTR_TCP_STATE) > 0 ? nfct_get_attr_u8(ct, ATTR_TCP_STATE) : TCP_CONNTRACK_NONE;
	e->timeout = nfct_attr_is_set(ct, ATTR_TIMEOUT) > 0 ? nfct_get_attr_u32(ct, ATTR_TIMEOUT) : 0;
	e->has_helper = nfct_attr_is_set(ct, ATTR_HELPER_NAME) > 0;
	e->zone = nfct_attr_is_set(ct, ATTR_ZONE) > 0 ? nfct_get_attr_u16(ct, ATTR_ZONE) : 0;
}

static int parse_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return MNL_CB_ERROR;
	if (nfct_nlmsg_parse(nlh, ct) >= 0 && data)
		to_entry(ct, data);
	nfct_destroy(ct);
	return MNL_CB_OK;
}

/* Sends one request built from ct and waits for its answer (and ACK). */
static int request(uint16_t type, uint16_t flags, uint8_t family, const struct nf_conntrack *ct, struct ct_entry *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfh;
	unsigned int this_seq = ++seq;
	int ret;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = this_seq;
	nfh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfh));
	nfh->nfgen_family = (uint8_t)l3proto(family);
	nfh->version = NFNETLINK_V0;
	nfh->res_id = 0;
	if (nfct_nlmsg_build(nlh, ct) < 0)
		return -EINVAL;
	if (mnl_socket_sendto(query_sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ret = (int)mnl_socket_recvfrom(query_sock, buf, sizeof(buf));
		if (ret < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)ret, this_seq, query_portid, parse_cb, out);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int ct_get(const struct tuple *t, struct ct_entry *out)
{
	struct nf_conntrack *ct = nfct_new();
	int err;

	if (!ct)
		return -ENOMEM;
	put_tuple(ct, t);
	memset(out, 0, sizeof(*out));
	err = request(IPCTNL_MSG_CT_GET, 0, t->family, ct, out);
	nfct_destroy(ct);
	if (!err && !out->orig.family)
		err = -ENOENT;
	return err;
}

int ct_set_timeout(const struct tuple *orig, uint32_t timeout)
{
	struct nf_conntrack *ct = nfct_new();
	int err;

	if (!ct)
		return -ENOMEM;
	put_tuple(ct, orig);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, timeout);
	err = request(IPCTNL_MSG_CT_NEW, 0, orig->family, ct, NULL);
	nfct_destroy(ct);
	return err;
}

int ct_set_liberal(const struct tuple *orig)
{
	struct nf_conntrack *ct = nfct_new();
	int err;

	if (!ct)
		return -ENOMEM;
	put_tuple(ct, orig);
	nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_ORIG, IP_CT_TCP_FLAG_BE_LIBERAL);
	nfct_set_attr_u8(ct, ATTR_TCP_MASK_ORIG, IP_CT_TCP_FLAG_BE_LIBERAL);
	nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_REPL, IP_CT_TCP_FLAG_BE_LIBERAL);
	nfct_set_attr_u8(ct, ATTR_TCP_MASK_REPL, IP_CT_TCP_FLAG_BE_LIBERAL);
	err = request(IPCTNL_MSG_CT_NEW, 0, orig->family, ct, NULL);
	nfct_destroy(ct);
	return err;
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_entry e;
	bool destroy = (nlh->nlmsg_type & 0xff) == IPCTNL_MSG_CT_DELETE;

	(void)data;
	e.orig.family = 0;
	parse_cb(nlh, &e);
	if (e.orig.family && (e.orig.proto == IPPROTO_TCP || e.orig.proto == IPPROTO_UDP))
		flows_ct_event(destroy, &e);
	return MNL_CB_OK;
}

int ct_events_read(void)
{
	return netlink_drain(event_sock, event_cb); /* -ENOBUFS: events were lost */
}

static uint32_t read_sysctl(const char *name, uint32_t fallback)
{
	char path[256];
	unsigned int v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/%s", name);
	f = fopen(path, "r");
	if (!f)
		return fallback;
	if (fscanf(f, "%u", &v) != 1)
		v = fallback;
	fclose(f);
	return v;
}

uint32_t ct_default_timeout(const struct ct_entry *ct)
{
	static uint64_t read_at;
	static uint32_t tcp, udp;
	uint64_t now = monotonic_ns();

	if (!read_at || now - read_at > 5000000000ULL) {
		tcp = read_sysctl("nf_conntrack_tcp_timeout_established", 432000);
		udp = read_sysctl("nf_conntrack_udp_timeout_stream", 120);
		read_at = now;
	}
	return ct->orig.proto == IPPROTO_TCP ? tcp : udp;
}
