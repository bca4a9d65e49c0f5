// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flow table: one pair per conntrack entry, its two directions written to the
 * datapath's flows map. Set up from new-flow events (conntrack says established, NAT from
 * its tuples, next hops from rtnetlink), refused with a counted reason otherwise; kept
 * alive (conntrack timeout refreshed while the fast path carries it); torn down when
 * conntrack destroys the entry or TCP leaves ESTABLISHED, when a next hop is gone, on
 * request (flush, flush_client), or when policy excludes it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>

#include "offloadd.h"

#define BUCKETS 16384

struct pair;

struct dir {
	struct offload_flow_key key;
	struct offload_flow_value value; /* as written, counters zero */
	struct egress eg;
	uint64_t packets_base, bytes_base; /* counters of entries replaced by re-resolution */
	uint64_t packets_seen;             /* the total at the last refresh */
	struct dir *next;                  /* key bucket */
	struct pair *pair;
};

struct pair {
	uint32_t id;
	struct ct_entry ct; /* at setup */
	struct dir d[2];    /* 0: the original direction, 1: the reply direction */
	uint64_t created_ns;
	bool pending;       /* re-resolve at the next flows_process_pending() */
	struct pair *next_ct, *prev, *next;
};

static const char *refusal_names[] = {
#define X(name) #name,
	REFUSALS(X)
#undef X
};

static struct {
	struct pair *by_ct[BUCKETS];
	struct dir *by_key[BUCKETS];
	struct pair *all;
	size_t n_pairs;
	uint32_t next_id;
	bool resolve_all;
	bool any_pending;
	struct policy policy;
	int attached[64];
	int n_attached;
	uint64_t seen, offloaded, refused[REFUSED_MAX];
	uint64_t removed;
} ft = { .policy = { .ipv6 = true } };

/* ---- tables ----------------------------------------------------------------------------- */

static uint32_t hash_bytes(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % BUCKETS;
}

static bool tuple_eq(const struct tuple *a, const struct tuple *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static struct pair *find_ct(const struct tuple *orig)
{
	for (struct pair *p = ft.by_ct[hash_bytes(orig, sizeof(*orig))]; p; p = p->next_ct)
		if (tuple_eq(&p->ct.orig, orig))
			return p;
	return NULL;
}

static struct dir *find_key(const struct offload_flow_key *key)
{
	for (struct dir *d = ft.by_key[hash_bytes(key, sizeof(*key))]; d; d = d->next)
		if (!memcmp(&d->key, key, sizeof(*key)))
			return d;
	return NULL;
}

static void link_pair(struct pair *p)
{
	uint32_t h = hash_bytes(&p->ct.orig, sizeof(p->ct.orig));

	p->next_ct = ft.by_ct[h];
	ft.by_ct[h] = p;
	for (int i = 0; i < 2; i++) {
		uint32_t k = hash_bytes(&p->d[i].key, sizeof(p->d[i].key));

		p->d[i].pair = p;
		p->d[i].next = ft.by_key[k];
		ft.by_key[k] = &p->d[i];
	}
	p->prev = NULL;
	p->next = ft.all;
	if (ft.all)
		ft.all->prev = p;
	ft.all = p;
	ft.n_pairs++;
}

static void unlink_pair(struct pair *p)
{
	struct pair **pp = &ft.by_ct[hash_bytes(&p->ct.orig, sizeof(p->ct.orig))];

	while (*pp && *pp != p)
		pp = &(*pp)->next_ct;
	if (*pp)
		*pp = p->next_ct;
	for (int i = 0; i < 2; i++) {
		struct dir **dp = &ft.by_key[hash_bytes(&p->d[i].key, sizeof(p->d[i].key))];

		while (*dp && *dp != &p->d[i])
			dp = &(*dp)->next;
		if (*dp)
			*dp = p->d[i].next;
	}
	if (p->prev)
		p->prev->next = p->next;
	else
		ft.all = p->next;
	if (p->next)
		p->next->prev = p->prev;
	ft.n_pairs--;
}

/* ---- logging helpers ------------------------------------------------------------------ */

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

static const char *tuple_str(const struct tuple *t, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	bool v6 = t->family == OFFLOAD_FAMILY_IPV6;

	snprintf(buf, len, "%s %s%s%s:%u > %s%s%s:%u", proto_name(t->proto), v6 ? "[" : "", addr_str(t->family, t->src, s),
		 v6 ? "]" : "", ntohs(t->sport), v6 ? "[" : "", addr_str(t->family, t->dst, d), v6 ? "]" : "",
		 ntohs(t->dport));
	return buf;
}

static const char *ifname_of(int ifindex)
{
	const struct link *l = link_get(ifindex);

	return l ? l->name : "?";
}

static void remove_pair(struct pair *p, const char *why)
{
	char buf[128];

	for (int i = 0; i < 2; i++) {
		int err = dp_flow_del(&p->d[i].key);

		if (err && err != -ENOENT)
			log_warn("delete flow: %s", strerror(-err));
	}
	unlink_pair(p);
	ft.removed++;
	log_info("flow %s removed: %s", tuple_str(&p->ct.orig, buf, sizeof(buf)), why);
	free(p);
}

/* ---- policy ----------------------------------------------------------------------------- */

void flows_init(void)
{
	ft.next_id = 1;
}

void flows_set_attached(int ifindex, bool attached)
{
	for (int i = 0; i < ft.n_attached; i++)
		if (ft.attached[i] == ifindex) {
			if (!attached)
				ft.attached[i] = ft.attached[--ft.n_attached];
			return;
		}
	if (attached && ft.n_attached < (int)(sizeof(ft.attached) / sizeof(ft.attached[0])))
		ft.attached[ft.n_attached++] = ifindex;
}

static bool is_attached(int ifindex)
{
	for (int i = 0; i < ft.n_attached; i++)
		if (ft.attached[i] == ifindex)
			return true;
	return false;
}

static bool mac_excluded(const uint8_t *mac)
{
	for (int i = 0; i < ft.policy.n_macs; i++)
		if (!memcmp(ft.policy.macs[i], mac, 6))
			return true;
	return false;
}

static bool addr_excluded(uint8_t family, const uint8_t *addr)
{
	for (int i = 0; i < ft.policy.n_cidrs; i++)
		if (ft.policy.cidrs[i].family == family &&
		    prefix_match(family, ft.policy.cidrs[i].addr, ft.policy.cidrs[i].len, addr))
			return true;
	return false;
}

static bool pair_excluded(const struct pair *p)
{
	return addr_excluded(p->ct.orig.family, p->ct.orig.src) || addr_excluded(p->ct.orig.family, p->ct.orig.dst) ||
	       addr_excluded(p->ct.orig.family, p->ct.reply.src) || mac_excluded(p->d[0].eg.dst_mac) ||
	       mac_excluded(p->d[1].eg.dst_mac);
}

size_t flows_set_policy(struct policy *np)
{
	size_t removed = 0;

	free(ft.policy.macs);
	free(ft.policy.cidrs);
	ft.policy = *np;
	for (struct pair *p = ft.all, *next; p; p = next) {
		next = p->next;
		if (pair_excluded(p)) {
			remove_pair(p, "excluded");
			removed += 2; /* entries, one per direction, as the flush commands count */
		}
	}
	if (!ft.policy.ipv6)
		removed += flows_flush_family(OFFLOAD_FAMILY_IPV6);
	if (removed)
		log_info("policy: %zu flows removed", removed);
	return removed;
}

/* ---- setup ------------------------------------------------------------------------------ */

static int refuse(const struct tuple *t, enum refusal why, const char *detail)
{
	char buf[128];

	ft.refused[why]++;
	log_info("event %s: refused (%s%s%s)", tuple_str(t, buf, sizeof(buf)), refusal_names[why], detail ? ": " : "",
		 detail ? detail : "");
	return -1;
}

static enum refusal refusal_by_name(const char *name)
{
	for (int i = 0; i < REFUSED_MAX; i++)
		if (!strcmp(refusal_names[i], name))
			return (enum refusal)i;
	return REFUSED_no_route;
}

/* The tuple a direction's packets arrive with, and the one they leave with. */
static void dir_tuples(const struct ct_entry *ct, int dir, struct tuple *in, struct tuple *out)
{
	const struct tuple *a = dir ? &ct->reply : &ct->orig, *b = dir ? &ct->orig : &ct->reply;

	*in = *a;
	memset(out, 0, sizeof(*out));
	out->family = a->family;
	out->proto = a->proto;
	memcpy(out->src, b->dst, 16);
	memcpy(out->dst, b->src, 16);
	out->sport = b->dport;
	out->dport = b->sport;
}

static void build_value(const struct ct_entry *ct, int dir, const struct egress *eg, struct offload_flow_value *v)
{
	struct tuple in, out;
	int alen = addr_len(ct->orig.family);
	uint8_t old_addrs[32], new_addrs[32];
	uint16_t old_ports[2], new_ports[2];

	dir_tuples(ct, dir, &in, &out);
	memset(v, 0, sizeof(*v));
	v->action = OFFLOAD_ACTION_FORWARD;
	if (memcmp(in.src, out.src, 16) || in.sport != out.sport) {
		v->flags |= OFFLOAD_F_SNAT;
		memcpy(v->nat_saddr, out.src, 16);
		v->nat_sport = out.sport;
	}
	if (memcmp(in.dst, out.dst, 16) || in.dport != out.dport) {
		v->flags |= OFFLOAD_F_DNAT;
		memcpy(v->nat_daddr, out.dst, 16);
		v->nat_dport = out.dport;
	}
	memcpy(old_addrs, in.src, (size_t)alen);
	memcpy(old_addrs + alen, in.dst, (size_t)alen);
	memcpy(new_addrs, out.src, (size_t)alen);
	memcpy(new_addrs + alen, out.dst, (size_t)alen);
	v->csum_addr = csum_delta(old_addrs, new_addrs, (size_t)(2 * alen));
	old_ports[0] = in.sport;
	old_ports[1] = in.dport;
	new_ports[0] = out.sport;
	new_ports[1] = out.dport;
	v->csum_port = csum_delta((uint8_t *)old_ports, (uint8_t *)new_ports, 4);
	v->mtu = eg->mtu;
	v->egress_ifindex = (uint32_t)eg->ifindex;
	memcpy(v->dst_mac, eg->dst_mac, 6);
	memcpy(v->src_mac, eg->src_mac, 6);
	if (eg->vlan) {
		v->flags |= OFFLOAD_F_VLAN;
		v->egress_vlan = eg->vlan_tci;
	}
	if (eg->pppoe) {
		v->flags |= OFFLOAD_F_PPPOE;
		v->egress_pppoe_sid = eg->pppoe_sid;
	}
}

/* The key of a direction's packets arriving on the device another direction leaves by. */
static void key_from_egress(const struct ct_entry *ct, int dir, const struct egress *arrive,
			    struct offload_flow_key *k)
{
	const struct tuple *t = dir ? &ct->reply : &ct->orig;

	memset(k, 0, sizeof(*k));
	k->ifindex = (uint32_t)arrive->ifindex;
	k->vlan_id = arrive->vlan ? (arrive->vlan_tci & 0x0fff) : 0;
	k->pppoe_sid = arrive->pppoe ? arrive->pppoe_sid : 0;
	k->family = t->family;
	k->proto = t->proto;
	k->sport = t->sport;
	k->dport = t->dport;
	memcpy(k->saddr, t->src, 16);
	memcpy(k->daddr, t->dst, 16);
}

/* Resolves direction dir's egress; its packets arrive on L3 device iif. */
static int resolve_dir(const struct ct_entry *ct, int dir, int iif, struct egress *eg, const char **why)
{
	struct tuple in, out;

	dir_tuples(ct, dir, &in, &out);
	/* routed after DNAT, from the source as it arrived */
	return rtnl_resolve(ct->orig.family, out.dst, in.src, iif, eg, why);
}

/*
 * What conntrack must say before a flow is offloaded. TODO: on kernels with BTF the
 * datapath could also ask conntrack itself per packet (bpf_xdp_ct_lookup /
 * bpf_skb_ct_lookup kfuncs) as an extra check; the object does not expose that yet.
 */
static bool ct_offloadable(const struct tuple *t, const struct ct_entry *ct)
{
	if (ct->status & (IPS_OFFLOAD | IPS_HW_OFFLOAD))
		return refuse(t, REFUSED_flowtable, NULL), false;
	if (ct->has_helper || (ct->status & IPS_HELPER))
		return refuse(t, REFUSED_helper, NULL), false;
	if (ct->status & IPS_SEQ_ADJUST)
		return refuse(t, REFUSED_nat_seq_adjust, NULL), false;
	if (ct->orig.proto == IPPROTO_TCP &&
	    (ct->tcp_state != TCP_CONNTRACK_ESTABLISHED || !(ct->status & IPS_ASSURED) || (ct->status & IPS_DYING)))
		return refuse(t, REFUSED_tcp_not_established, NULL), false;
	if (ct->orig.proto == IPPROTO_UDP && (!(ct->status & IPS_SEEN_REPLY) || (ct->status & IPS_DYING)))
		return refuse(t, REFUSED_udp_not_replied, NULL), false;
	return true;
}

static int write_pair(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		int err;

		if (dp_txport_add(p->d[i].eg.ifindex))
			log_debug("tx_ports %s: %s", ifname_of(p->d[i].eg.ifindex), strerror(errno));
		err = dp_flow_put(&p->d[i].key, &p->d[i].value);
		if (err) {
			if (i)
				dp_flow_del(&p->d[0].key);
			return err;
		}
	}
	return 0;
}

void flows_on_event(const struct offload_event *ev)
{
	const struct offload_flow_key *key = &ev->key;
	struct tuple t = { 0 };
	struct pair *p, *old;
	const char *why = NULL;
	char buf[128], mac[18];
	int dir, other, iif, err;

	if (ev->type == OFFLOAD_EVENT_FLOW_END) {
		/* a FIN or RST the datapath passed to the stack: conntrack's state may not change
		 * (an RST outside the window it last saw), so the flow ends here, not on an event
		 * of conntrack's; and it is not refreshed any more. A connection that goes on is
		 * reported again as a new flow and set up from conntrack's state then. */
		struct dir *d = find_key(key);

		if (d)
			remove_pair(d->pair, (ev->tcp_flags & OFFLOAD_TCP_RST) ? "TCP RST" : "TCP FIN");
		return;
	}
	if (ev->type != OFFLOAD_EVENT_NEW_FLOW)
		return;
	ft.seen++;
	t.family = key->family;
	t.proto = key->proto;
	t.sport = key->sport;
	t.dport = key->dport;
	memcpy(t.src, key->saddr, 16);
	memcpy(t.dst, key->daddr, 16);

	if (find_key(key)) {
		/* reported before the flow was written (the ring buffer is a queue) */
		ft.refused[REFUSED_duplicate]++;
		log_debug("event %s: already offloaded", tuple_str(&t, buf, sizeof(buf)));
		return;
	}
	if (t.family == OFFLOAD_FAMILY_IPV6 && !ft.policy.ipv6)
		return (void)refuse(&t, REFUSED_ipv6_disabled, NULL);
	if (!is_attached((int)key->ifindex))
		return (void)refuse(&t, REFUSED_not_configured, NULL);

	p = calloc(1, sizeof(*p));
	if (!p)
		return (void)refuse(&t, REFUSED_map_error, "out of memory");
	err = ct_get(&t, &p->ct);
	if (err) {
		free(p);
		return (void)refuse(&t, err == -ENOENT ? REFUSED_not_found : REFUSED_conntrack_error,
				    err == -ENOENT ? NULL : strerror(-err));
	}
	if (tuple_eq(&t, &p->ct.orig)) {
		dir = 0;
	} else if (tuple_eq(&t, &p->ct.reply)) {
		dir = 1;
	} else {
		free(p);
		return (void)refuse(&t, REFUSED_not_found, "tuple mismatch");
	}
	other = !dir;
	if (!ct_offloadable(&t, &p->ct) ||
	    ((addr_excluded(t.family, p->ct.orig.src) || addr_excluded(t.family, p->ct.orig.dst) ||
	      addr_excluded(t.family, p->ct.reply.src)) &&
	     refuse(&t, REFUSED_excluded, NULL))) {
		free(p);
		return;
	}

	/* the event's direction: its packets arrive as the event says */
	iif = link_l3_ingress((int)key->ifindex, key->vlan_id);
	if (resolve_dir(&p->ct, dir, iif, &p->d[dir].eg, &why) ||
	    /* the other direction arrives where this one leaves (symmetric routing) */
	    resolve_dir(&p->ct, other, p->d[dir].eg.l3_ifindex, &p->d[other].eg, &why)) {
		free(p);
		return (void)refuse(&t, refusal_by_name(why), NULL);
	}
	p->d[dir].key = *key;
	key_from_egress(&p->ct, other, &p->d[dir].eg, &p->d[other].key);
	if (mac_excluded(p->d[0].eg.dst_mac) || mac_excluded(p->d[1].eg.dst_mac)) {
		free(p);
		return (void)refuse(&t, REFUSED_excluded, NULL);
	}
	for (int i = 0; i < 2; i++)
		build_value(&p->ct, i, &p->d[i].eg, &p->d[i].value);

	/* the path changed (replies on another device): start over */
	old = find_ct(&p->ct.orig);
	if (old)
		remove_pair(old, "path changed");
	if (find_key(&p->d[other].key)) {
		free(p);
		return (void)refuse(&t, REFUSED_duplicate, "reverse key taken");
	}
	if (p->ct.orig.proto == IPPROTO_TCP) {
		/* the fast path moves the sequence numbers past what conntrack saw: it must
		 * accept the FIN/RST the stack gets at the end (as the nft flowtable does) */
		err = ct_set_liberal(&p->ct.orig);
		if (err) {
			free(p);
			return (void)refuse(&t, REFUSED_conntrack_error, strerror(-err));
		}
	}
	err = write_pair(p);
	if (err) {
		free(p);
		return (void)refuse(&t, REFUSED_map_error, strerror(-err));
	}
	p->id = ft.next_id++;
	p->created_ns = monotonic_ns();
	link_pair(p);
	ft.offloaded++;
	log_info("event %s: offloaded #%u via %s > %s (%s)%s%s", tuple_str(&t, buf, sizeof(buf)), p->id,
		 ifname_of(p->d[dir].eg.l3_ifindex), ifname_of(p->d[dir].eg.ifindex), mac_str(p->d[dir].eg.dst_mac, mac),
		 p->d[dir].value.flags & (OFFLOAD_F_SNAT | OFFLOAD_F_DNAT) ? ", NAT" : "", dir ? ", reply direction" : "");
}

/* ---- teardown --------------------------------------------------------------------------- */

void flows_ct_event(bool destroy, const struct ct_entry *ct)
{
	struct pair *p = find_ct(&ct->orig);

	if (!p)
		return;
	if (destroy) {
		remove_pair(p, "conntrack entry destroyed");
	} else if (ct->orig.proto == IPPROTO_TCP && ct->tcp_state != TCP_CONNTRACK_NONE &&
		   ct->tcp_state != TCP_CONNTRACK_ESTABLISHED) {
		struct ct_entry now;

		/* The handshake's own UPDATEs (SYN_RECV) can still be queued on the event socket
		 * when the datapath's event set the flow up from an ESTABLISHED entry: a state
		 * before ESTABLISHED is news only if conntrack still says so. (A reused tuple
		 * passes FIN/CLOSE states first, and those end the flow.) */
		if ((ct->tcp_state == TCP_CONNTRACK_SYN_SENT || ct->tcp_state == TCP_CONNTRACK_SYN_RECV ||
		     ct->tcp_state == TCP_CONNTRACK_SYN_SENT2) &&
		    ct_get(&p->ct.orig, &now) == 0 && now.tcp_state == TCP_CONNTRACK_ESTABLISHED)
			return;
		remove_pair(p, "TCP left ESTABLISHED");
	}
}

void flows_ct_resync(void)
{
	struct ct_entry e;

	for (struct pair *p = ft.all, *next; p; p = next) {
		next = p->next;
		if (ct_get(&p->ct.orig, &e) == -ENOENT)
			remove_pair(p, "conntrack entry gone");
		else if (e.orig.proto == IPPROTO_TCP && e.tcp_state != TCP_CONNTRACK_ESTABLISHED)
			remove_pair(p, "TCP left ESTABLISHED");
	}
}

static bool pair_uses(const struct pair *p, int ifindex)
{
	for (int i = 0; i < 2; i++)
		if ((int)p->d[i].key.ifindex == ifindex || p->d[i].eg.ifindex == ifindex || p->d[i].eg.l3_ifindex == ifindex)
			return true;
	return false;
}

void flows_link_changed(int ifindex, bool removed)
{
	if (removed) {
		flows_flush_ifindex(ifindex);
		flows_set_attached(ifindex, false);
		return;
	}
	for (struct pair *p = ft.all; p; p = p->next)
		if (pair_uses(p, ifindex)) {
			p->pending = true;
			ft.any_pending = true;
		}
}

void flows_route_changed(void)
{
	ft.resolve_all = true;
}

void flows_neigh_changed(int ifindex, uint8_t family, const uint8_t *addr, const uint8_t *mac, bool valid)
{
	for (struct pair *p = ft.all; p; p = p->next)
		for (int i = 0; i < 2; i++) {
			const struct egress *eg = &p->d[i].eg;

			if (eg->l3_ifindex != ifindex || eg->family != family || eg->pppoe ||
			    memcmp(eg->nexthop, addr, (size_t)addr_len(family)))
				continue;
			if (!valid || memcmp(eg->dst_mac, mac, 6)) {
				p->pending = true;
				ft.any_pending = true;
			}
		}
}

static bool egress_eq(const struct egress *a, const struct egress *b)
{
	return a->l3_ifindex == b->l3_ifindex && a->ifindex == b->ifindex && !memcmp(a->dst_mac, b->dst_mac, 6) &&
	       !memcmp(a->src_mac, b->src_mac, 6) && a->vlan == b->vlan && a->vlan_tci == b->vlan_tci &&
	       a->pppoe == b->pppoe && a->pppoe_sid == b->pppoe_sid && a->mtu == b->mtu;
}

/* Re-resolves both directions; rewrites what changed (keeping the counters), removes the
 * pair when a next hop is gone. */
static void reresolve(struct pair *p)
{
	struct egress eg[2];
	const char *why = NULL;
	char buf[160], mac[18];

	p->pending = false;
	for (int i = 0; i < 2; i++) {
		int iif = link_l3_ingress((int)p->d[i].key.ifindex, p->d[i].key.vlan_id);

		if (resolve_dir(&p->ct, i, iif, &eg[i], &why)) {
			snprintf(buf, sizeof(buf), "next hop gone (%s)", why);
			remove_pair(p, buf);
			return;
		}
	}
	if (mac_excluded(eg[0].dst_mac) || mac_excluded(eg[1].dst_mac)) {
		remove_pair(p, "excluded");
		return;
	}
	for (int i = 0; i < 2; i++) {
		struct dir *d = &p->d[i];
		struct offload_flow_value now;
		int err;

		if (egress_eq(&d->eg, &eg[i]))
			continue;
		if (!dp_flow_get(&d->key, &now)) {
			d->packets_base += now.packets;
			d->bytes_base += now.bytes;
		}
		d->eg = eg[i];
		build_value(&p->ct, i, &d->eg, &d->value);
		if (dp_txport_add(d->eg.ifindex))
			log_debug("tx_ports %s: %s", ifname_of(d->eg.ifindex), strerror(errno));
		err = dp_flow_put(&d->key, &d->value);
		if (err) {
			remove_pair(p, "map update failed");
			return;
		}
		log_info("flow %s: %s direction re-resolved via %s > %s (%s)", tuple_str(&p->ct.orig, buf, sizeof(buf)),
			 i ? "reply" : "original", ifname_of(d->eg.l3_ifindex), ifname_of(d->eg.ifindex),
			 mac_str(d->eg.dst_mac, mac));
	}
}

void flows_process_pending(void)
{
	bool all = ft.resolve_all;

	if (!all && !ft.any_pending)
		return;
	ft.resolve_all = ft.any_pending = false;
	for (struct pair *p = ft.all, *next; p; p = next) {
		next = p->next;
		if (all || p->pending)
			reresolve(p);
	}
}

/* ---- refresh ---------------------------------------------------------------------------- */

static void counters(const struct dir *d, uint64_t *packets, uint64_t *bytes, uint64_t *last_seen)
{
	struct offload_flow_value v;

	*packets = d->packets_base;
	*bytes = d->bytes_base;
	if (last_seen)
		*last_seen = 0;
	if (!dp_flow_get(&d->key, &v)) {
		*packets += v.packets;
		*bytes += v.bytes;
		if (last_seen)
			*last_seen = v.last_seen_ns;
	}
}

void flows_refresh(void)
{
	for (struct pair *p = ft.all, *next; p; p = next) {
		bool moved = false;
		int err;

		next = p->next;
		for (int i = 0; i < 2; i++) {
			uint64_t packets, bytes;

			counters(&p->d[i], &packets, &bytes, NULL);
			if (packets != p->d[i].packets_seen)
				moved = true;
			p->d[i].packets_seen = packets;
		}
		if (moved) {
			/* conntrack saw none of these packets: keep the entry from expiring */
			err = ct_set_timeout(&p->ct.orig, ct_default_timeout(&p->ct));
		} else {
			struct ct_entry e;

			/* idle: conntrack's own timeout runs; just make sure it still exists */
			err = ct_get(&p->ct.orig, &e);
		}
		if (err == -ENOENT)
			remove_pair(p, "conntrack entry gone");
		else if (err)
			log_warn("conntrack refresh: %s", strerror(-err));
	}
}

/* ---- flush ------------------------------------------------------------------------------ */

size_t flows_flush_all(void)
{
	size_t n = 0;

	while (ft.all) {
		remove_pair(ft.all, "flush");
		n += 2;
	}
	return n;
}

size_t flows_flush_mac(const uint8_t *mac)
{
	size_t n = 0;

	for (struct pair *p = ft.all, *next; p; p = next) {
		next = p->next;
		if (!memcmp(p->d[0].eg.dst_mac, mac, 6) || !memcmp(p->d[1].eg.dst_mac, mac, 6)) {
			remove_pair(p, "flush_client");
			n += 2;
		}
	}
	return n;
}

size_t flows_flush_addr(uint8_t family, const uint8_t *addr)
{
	size_t n = 0;

	for (struct pair *p = ft.all, *next; p; p = next) {
		const struct ct_entry *c = &p->ct;

		next = p->next;
		if (c->orig.family == family &&
		    (!memcmp(c->orig.src, addr, 16) || !memcmp(c->orig.dst, addr, 16) || !memcmp(c->reply.src, addr, 16) ||
		     !memcmp(c->reply.dst, addr, 16))) {
			remove_pair(p, "flush_client");
			n += 2;
		}
	}
	return n;
}

size_t flows_flush_ifindex(int ifindex)
{
	size_t n = 0;

	for (struct pair *p = ft.all, *next; p; p = next) {
		next = p->next;
		if (pair_uses(p, ifindex)) {
			remove_pair(p, "device gone or no longer offloaded");
			n += 2;
		}
	}
	return n;
}

size_t flows_flush_family(uint8_t family)
{
	size_t n = 0;

	for (struct pair *p = ft.all, *next; p; p = next) {
		next = p->next;
		if (p->ct.orig.family == family) {
			remove_pair(p, "family disabled");
			n += 2;
		}
	}
	return n;
}

/* ---- reporting -------------------------------------------------------------------------- */

size_t flows_count(void)
{
	return ft.n_pairs * 2;
}

uint64_t flows_offloaded_total(void)
{
	return ft.offloaded;
}

json_t *flows_events_json(void)
{
	json_t *refused = json_object();

	for (int i = 0; i < REFUSED_MAX; i++)
		json_object_set_new(refused, refusal_names[i], json_integer((json_int_t)ft.refused[i]));
	return json_pack("{s:I,s:I,s:o,s:I}", "seen", (json_int_t)ft.seen, "offloaded", (json_int_t)ft.offloaded, "refused",
			 refused, "removed", (json_int_t)ft.removed);
}

static json_t *addr_json(uint8_t family, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];

	return json_string(addr_str(family, addr, buf));
}

static json_t *dir_json(const struct pair *p, int i, uint64_t now)
{
	const struct dir *d = &p->d[i];
	const struct offload_flow_key *k = &d->key;
	const struct offload_flow_value *v = &d->value;
	uint64_t packets, bytes, last_seen;
	json_t *nat = json_null(), *key, *egress;
	char dmac[18], smac[18];

	counters(d, &packets, &bytes, &last_seen);
	key = json_pack("{s:i,s:s,s:i,s:i,s:i,s:s,s:o,s:i,s:o,s:i}", "ifindex", (int)k->ifindex, "ifname",
			ifname_of((int)k->ifindex), "vlan", k->vlan_id, "pppoe_sid", ntohs(k->pppoe_sid), "family",
			k->family, "proto", proto_name(k->proto), "src", addr_json(k->family, k->saddr), "sport",
			ntohs(k->sport), "dst", addr_json(k->family, k->daddr), "dport", ntohs(k->dport));
	if (v->flags & (OFFLOAD_F_SNAT | OFFLOAD_F_DNAT)) {
		nat = json_object();
		if (v->flags & OFFLOAD_F_SNAT) {
			json_object_set_new(nat, "src", addr_json(k->family, v->nat_saddr));
			json_object_set_new(nat, "sport", json_integer(ntohs(v->nat_sport)));
		}
		if (v->flags & OFFLOAD_F_DNAT) {
			json_object_set_new(nat, "dst", addr_json(k->family, v->nat_daddr));
			json_object_set_new(nat, "dport", json_integer(ntohs(v->nat_dport)));
		}
	}
	egress = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:i,s:i}", "ifindex", (int)v->egress_ifindex, "ifname",
			   ifname_of((int)v->egress_ifindex), "l3_ifname", ifname_of(d->eg.l3_ifindex), "dst_mac",
			   mac_str(v->dst_mac, dmac), "src_mac", mac_str(v->src_mac, smac), "vlan",
			   v->flags & OFFLOAD_F_VLAN ? v->egress_vlan & 0x0fff : 0, "pppoe_sid",
			   v->flags & OFFLOAD_F_PPPOE ? ntohs(v->egress_pppoe_sid) : 0, "mtu", v->mtu);
	return json_pack("{s:I,s:s,s:o,s:o,s:o,s:{s:I,s:I,s:I}}", "id", (json_int_t)p->id, "dir", i ? "reply" : "original",
			 "key", key, "nat", nat, "egress", egress, "counters", "packets", (json_int_t)packets, "bytes",
			 (json_int_t)bytes, "idle_ms",
			 (json_int_t)(last_seen && now > last_seen ? (json_int_t)((now - last_seen) / 1000000) : -1));
}

json_t *flows_json(void)
{
	json_t *list = json_array();
	uint64_t now = monotonic_ns();

	for (struct pair *p = ft.all; p; p = p->next)
		for (int i = 0; i < 2; i++)
			json_array_append_new(list, dir_json(p, i, now));
	return list;
}
