// SPDX-License-Identifier: GPL-2.0-only
/*
 * offloadd --control SOCKET --object OFFLOAD.bpfel.o --pin-dir DIR [--log-level info|debug]
 *          [--keep-pins] [--heartbeat-timeout-ms MS]
 *
 * Loads the offload datapath (maps pinned under DIR), then runs one event loop over: the
 * datapath's new-flow ring buffer, conntrack events, rtnetlink events, the control
 * socket and its clients, the heart beat and refresh timers, and SIGTERM/SIGINT, which
 * detach every program, unpin the maps (unless --keep-pins) and exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "offloadd.h"

#define MAX_INTERFACES 32

unsigned int refresh_s = 10;

static int epfd = -1, heartbeat_fd = -1, refresh_fd = -1;
static unsigned int heartbeat_ms = 1000;
static uint64_t heartbeat_timeout_ns = 3000000000ULL;

static struct interface {
	char ifname[IFNAMSIZ];
	int ifindex;
	enum attach_mode mode;
	const char *how;
} ifaces[MAX_INTERFACES];
static int n_ifaces;

/* ---- the loop's registry ---------------------------------------------------------------- */

int loop_add_fd(int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int loop_mod_fd(int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

void loop_del_fd(int fd)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

static int timer_set(int fd, uint64_t interval_ms)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = (time_t)(interval_ms / 1000), .tv_nsec = (long)(interval_ms % 1000) * 1000000 },
	};

	its.it_value = its.it_interval;
	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

int heartbeat_set_interval(unsigned int ms)
{
	heartbeat_ms = ms;
	return timer_set(heartbeat_fd, ms);
}

unsigned int heartbeat_interval(void)
{
	return heartbeat_ms;
}

static void beat(void)
{
	int err = dp_heartbeat(monotonic_ns());

	if (err)
		log_error("heart beat: %s", strerror(-err));
}

/* ---- configure -------------------------------------------------------------------------- */

static json_t *bad(json_t **error, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static json_t *bad(json_t **error, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*error = json_pack("{s:s,s:s}", "code", code, "message", msg);
	return NULL;
}

static json_t *interfaces_json(void)
{
	json_t *list = json_array();

	for (int i = 0; i < n_ifaces; i++)
		json_array_append_new(list, json_pack("{s:s,s:i,s:s,s:s}", "ifname", ifaces[i].ifname, "ifindex",
						      ifaces[i].ifindex, "mode", ifaces[i].mode == ATTACH_XDP ? "xdp" : "tc",
						      "attached", ifaces[i].how));
	return list;
}

json_t *cmd_configure(json_t *args, json_t **error)
{
	json_t *list = json_object_get(args, "interfaces"), *macs = json_object_get(args, "exclude_macs"),
	       *cidrs = json_object_get(args, "exclude_cidrs"), *ipv6 = json_object_get(args, "ipv6"),
	       *hb = json_object_get(args, "heartbeat_ms"), *refresh = json_object_get(args, "refresh_s"), *item;
	struct interface want[MAX_INTERFACES];
	struct policy policy = { .ipv6 = ipv6 ? json_is_true(ipv6) : true };
	char failures[1024] = "";
	size_t idx, n_want = 0, removed;
	long long hb_ms = hb ? json_integer_value(hb) : 1000;

	/* everything is checked before anything changes */
	if (list && !json_is_array(list))
		return bad(error, "bad_args", "interfaces must be an array");
	if (ipv6 && !json_is_boolean(ipv6))
		return bad(error, "bad_args", "ipv6 must be a boolean");
	if (hb && (!json_is_integer(hb) || hb_ms < 10 || (uint64_t)hb_ms * 2000000ULL > heartbeat_timeout_ns))
		return bad(error, "bad_args", "heartbeat_ms must be an integer from 10 to %llu (half the datapath's timeout)",
			   (unsigned long long)(heartbeat_timeout_ns / 2000000ULL));
	if (refresh && (!json_is_integer(refresh) || json_integer_value(refresh) < 1 || json_integer_value(refresh) > 3600))
		return bad(error, "bad_args", "refresh_s must be an integer from 1 to 3600");
	if (list && json_array_size(list) > MAX_INTERFACES)
		return bad(error, "bad_args", "at most %d interfaces", MAX_INTERFACES);
	json_array_foreach(list, idx, item) {
		const char *name = json_string_value(json_object_get(item, "ifname"));
		const char *mode = json_string_value(json_object_get(item, "mode"));
		const struct link *l;

		if (!name || strlen(name) >= IFNAMSIZ)
			return bad(error, "bad_args", "interfaces[%zu]: ifname missing or too long", idx);
		if (!mode || (strcmp(mode, "xdp") && strcmp(mode, "tc")))
			return bad(error, "bad_args", "%s: mode must be \"xdp\" or \"tc\"", name);
		l = link_by_name(name);
		if (!l)
			return bad(error, "no_such_interface", "%s: no such interface", name);
		for (size_t j = 0; j < n_want; j++)
			if (want[j].ifindex == l->ifindex)
				return bad(error, "bad_args", "%s: listed twice", name);
		want[n_want] = (struct interface){ .ifindex = l->ifindex, .mode = !strcmp(mode, "xdp") ? ATTACH_XDP : ATTACH_TC };
		snprintf(want[n_want].ifname, IFNAMSIZ, "%s", name);
		n_want++;
	}
	if ((macs && !json_is_array(macs)) || (cidrs && !json_is_array(cidrs)))
		return bad(error, "bad_args", "exclude_macs and exclude_cidrs must be arrays");
	policy.macs = calloc(json_array_size(macs) + 1, 6);
	policy.cidrs = calloc(json_array_size(cidrs) + 1, sizeof(*policy.cidrs));
	json_array_foreach(macs, idx, item) {
		const char *text = json_string_value(item);

		if (!text || !mac_parse(text, policy.macs[policy.n_macs])) {
			free(policy.macs);
			free(policy.cidrs);
			return bad(error, "bad_args", "exclude_macs[%zu]: not a MAC address", idx);
		}
		policy.n_macs++;
	}
	json_array_foreach(cidrs, idx, item) {
		const char *text = json_string_value(item);
		char addr[INET6_ADDRSTRLEN + 8], *slash;
		struct cidr *c = &policy.cidrs[policy.n_cidrs];

		snprintf(addr, sizeof(addr), "%s", text ? text : "");
		slash = strchr(addr, '/');
		if (slash)
			*slash = 0;
		c->family = text ? addr_parse(addr, c->addr) : 0;
		c->len = slash ? atoi(slash + 1) : addr_len(c->family) * 8;
		if (!c->family || c->len < 0 || c->len > addr_len(c->family) * 8) {
			free(policy.macs);
			free(policy.cidrs);
			return bad(error, "bad_args", "exclude_cidrs[%zu]: not an address/prefix", idx);
		}
		policy.n_cidrs++;
	}

	/* apply */
	if (hb)
		heartbeat_set_interval((unsigned int)hb_ms);
	if (refresh && (unsigned int)json_integer_value(refresh) != refresh_s) {
		refresh_s = (unsigned int)json_integer_value(refresh);
		timer_set(refresh_fd, (uint64_t)refresh_s * 1000);
	}
	if (policy.ipv6 != dp_current_settings()->ipv6) {
		struct dp_settings s = *dp_current_settings();

		s.ipv6 = policy.ipv6;
		if (dp_reload(&s))
			log_warn("reload with ipv6=%d failed: IPv6 flows are refused by policy only", policy.ipv6);
	}
	removed = flows_set_policy(&policy);
	if (list) {
		/* what is no longer wanted goes first */
		for (int i = 0; i < n_ifaces;) {
			bool keep = false;

			for (size_t j = 0; j < n_want; j++)
				keep |= want[j].ifindex == ifaces[i].ifindex;
			if (keep) {
				i++;
				continue;
			}
			dp_attach(ifaces[i].ifindex, ATTACH_NONE, &ifaces[i].how);
			flows_set_attached(ifaces[i].ifindex, false);
			flows_flush_ifindex(ifaces[i].ifindex);
			log_info("%s: detached", ifaces[i].ifname);
			ifaces[i] = ifaces[--n_ifaces];
		}
		for (size_t j = 0; j < n_want; j++) {
			struct interface *cur = NULL;
			const char *how = NULL;
			int err;

			for (int i = 0; i < n_ifaces; i++)
				if (ifaces[i].ifindex == want[j].ifindex)
					cur = &ifaces[i];
			if (cur && cur->mode == want[j].mode)
				continue; /* idempotent */
			err = dp_attach(want[j].ifindex, want[j].mode, &how);
			if (err) {
				char one[128];

				snprintf(one, sizeof(one), "%s%.15s: %s: %.64s", failures[0] ? "; " : "", want[j].ifname,
					 want[j].mode == ATTACH_XDP ? "xdp" : "tc", strerror(-err));
				strncat(failures, one, sizeof(failures) - strlen(failures) - 1);
				if (cur) {
					/* the old attachment was replaced or removed: forget it */
					flows_set_attached(cur->ifindex, false);
					flows_flush_ifindex(cur->ifindex);
					*cur = ifaces[--n_ifaces];
				}
				continue;
			}
			if (!cur)
				cur = &ifaces[n_ifaces++];
			*cur = want[j];
			cur->how = how;
			flows_set_attached(cur->ifindex, true);
			log_info("%s: attached (%s)", cur->ifname, how);
		}
	}
	if (failures[0])
		return bad(error, "attach_failed", "%s", failures);
	return json_pack("{s:o,s:b,s:i,s:i,s:I}", "interfaces", interfaces_json(), "ipv6", policy.ipv6, "heartbeat_ms",
			 heartbeat_ms, "refresh_s", refresh_s, "removed", (json_int_t)removed);
}

json_t *cmd_status(void)
{
	static const char *names[] = OFFLOAD_STAT_NAMES;
	uint64_t values[OFFLOAD_STAT_MAX];
	json_t *stats = json_object();

	if (!dp_stats(values))
		for (int i = 0; i < OFFLOAD_STAT_MAX; i++)
			json_object_set_new(stats, names[i], json_integer((json_int_t)values[i]));
	return json_pack("{s:o,s:I,s:I,s:o,s:o,s:{s:b,s:i,s:i}}", "interfaces", interfaces_json(), "flows",
			 (json_int_t)flows_count(), "offloaded_total", (json_int_t)flows_offloaded_total(), "stats", stats,
			 "events", flows_events_json(), "settings", "ipv6", dp_current_settings()->ipv6, "heartbeat_ms",
			 heartbeat_ms, "refresh_s", refresh_s);
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --control SOCKET --object OFFLOAD.bpfel.o --pin-dir DIR [--log-level error|warn|info|debug]\n"
		"          [--keep-pins] [--heartbeat-timeout-ms MS]\n",
		argv0);
}

static void drain(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof(n)) > 0)
		;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "object", required_argument, NULL, 'o' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "keep-pins", no_argument, NULL, 'k' },
		{ "heartbeat-timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *control = NULL, *object = NULL, *pin_dir = NULL;
	struct dp_settings settings = { .ipv6 = true };
	bool keep_pins = false, running = true;
	int sig_fd, opt, err;
	sigset_t mask;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'c': control = optarg; break;
		case 'o': object = optarg; break;
		case 'p': pin_dir = optarg; break;
		case 'k': keep_pins = true; break;
		case 't': heartbeat_timeout_ns = strtoull(optarg, NULL, 10) * 1000000ULL; break;
		case 'l':
			if (!strcmp(optarg, "error")) log_level = LOG_ERROR;
			else if (!strcmp(optarg, "warn")) log_level = LOG_WARN;
			else if (!strcmp(optarg, "info")) log_level = LOG_INFO;
			else if (!strcmp(optarg, "debug")) log_level = LOG_DEBUG;
			else { usage(argv[0]); return 2; }
			break;
		default: usage(argv[0]); return opt == 'h' ? 0 : 2;
		}
	}
	if (!control || !object || !pin_dir || optind != argc || heartbeat_timeout_ns < 20000000ULL) {
		usage(argv[0]);
		return 2;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	settings.heartbeat_timeout_ns = heartbeat_timeout_ns;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	heartbeat_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	refresh_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sig_fd < 0 || epfd < 0 || heartbeat_fd < 0 || refresh_fd < 0) {
		log_error("setup: %s", strerror(errno));
		return 1;
	}

	flows_init();
	err = rtnl_init();
	if (err) {
		log_error("rtnetlink: %s", strerror(-err));
		return 1;
	}
	err = ct_init();
	if (err) {
		log_error("ctnetlink: %s (is nf_conntrack_netlink loaded?)", strerror(-err));
		return 1;
	}
	err = dp_open(object, pin_dir, &settings);
	if (err)
		return 1;
	beat();
	err = control_open(control);
	if (err) {
		log_error("control socket %s: %s", control, strerror(-err));
		dp_close(keep_pins);
		return 1;
	}
	if (loop_add_fd(sig_fd, EPOLLIN) || loop_add_fd(control_listen_fd(), EPOLLIN) ||
	    loop_add_fd(dp_ringbuf_fd(), EPOLLIN) || loop_add_fd(ct_event_fd(), EPOLLIN) ||
	    loop_add_fd(rtnl_event_fd(), EPOLLIN) || loop_add_fd(heartbeat_fd, EPOLLIN) ||
	    loop_add_fd(refresh_fd, EPOLLIN) || timer_set(heartbeat_fd, heartbeat_ms) ||
	    timer_set(refresh_fd, (uint64_t)refresh_s * 1000)) {
		log_error("event loop: %s", strerror(errno));
		dp_close(keep_pins);
		return 1;
	}
	log_info("ready: control %s, object %s, pins %s", control, object, pin_dir);

	while (running) {
		struct epoll_event events[32];
		int n = epoll_wait(epfd, events, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == sig_fd) {
				struct signalfd_siginfo si;

				if (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
					log_info("signal %u: stopping", si.ssi_signo);
					running = false;
				}
			} else if (fd == heartbeat_fd) {
				drain(fd);
				beat();
			} else if (fd == refresh_fd) {
				drain(fd);
				flows_refresh();
			} else if (fd == dp_ringbuf_fd()) {
				dp_ringbuf_consume();
			} else if (fd == ct_event_fd()) {
				if (ct_events_read() == -ENOBUFS) {
					log_warn("conntrack events lost: resynchronising");
					flows_ct_resync();
				}
			} else if (fd == rtnl_event_fd()) {
				rtnl_events_read();
			} else if (fd == control_listen_fd()) {
				control_accept();
			} else {
				control_client_io(fd, events[i].events);
			}
		}
		/* after a batch: route, link and neighbour changes coalesced */
		flows_process_pending();
	}

	control_close();
	dp_close(keep_pins);
	ct_close();
	rtnl_close();
	log_info("stopped");
	return 0;
}
