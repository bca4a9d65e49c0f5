// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test harness for the offload datapath: loads an offload object with libbpf, plays
 * user space (settings, flows, tx ports, heart beat) and runs packets through the real
 * kernel, with BPF_PROG_TEST_RUN or by attaching to devices and sending frames.
 *
 *   runner OBJECT PIN_ROOT
 *
 * mounts a bpffs on PIN_ROOT (the pin root of the object's maps; outside /sys, which
 * `ip netns exec` remounts), then reads commands from stdin, one per line, and answers
 * each with one line of JSON on stdout: {"ok":true,...} or {"ok":false,"error":"..."}.
 * Keys, values and packets travel as hex; the test lays out the structs itself and
 * checks its layout against `layout`.
 *
 *   set NAME VALUE              a const volatile setting (before load)
 *   load                        load the object (maps get pinned / reused)
 *   layout                      sizes and offsets of the structs in offload.h
 *   heartbeat now|zero|ago NS   write the heart beat: now, 0, or NS ago
 *   flow KEY VALUE | delflow KEY | getflow KEY
 *   txport IFINDEX | deltxport IFINDEX
 *   run xdp|tc PACKET [IFINDEX [GSO_SIZE GSO_SEGS]]   BPF_PROG_TEST_RUN
 *   stats | resetstats          the stats map, summed over CPUs
 *   events                      drain the ring buffer
 *   pins                        what is pinned under PIN_ROOT; a second instance
 *                               loaded from the same object must get the same maps
 *   ifindex IFNAME [NETNS]
 *   attach xdp|xdppass|tc IFNAME [NETNS] | detach xdp|tc IFNAME [NETNS]
 *   listen IFNAME [NETNS]       an AF_PACKET socket; answers its id
 *   send IFNAME FRAME [NETNS]
 *   recv ID TIMEOUT_MS [NEEDLE] frames until one containing NEEDLE arrives, or the timeout
 *   quit
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../offload.h"
#include "harness.h"

#define MAX_PACKET 4096
#define MAX_SOCKETS 16
#define MAX_LINE (4 * MAX_PACKET)

static struct bpf_object *obj;
static const char *obj_path;
static const char *pin_root;
static int loaded;
static struct ring_buffer *rb;
static int sockets[MAX_SOCKETS];
static int nsockets;

/* ---- output ---------------------------------------------------------------------- */

static void print_hex(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	putchar('"');
	for (size_t i = 0; i < len; i++)
		printf("%02x", p[i]);
	putchar('"');
}

/* ---- network namespaces ---------------------------------------------------------- */

static int home_ns = -1;

/* Enters NETNS (a name under /run/netns) for what follows; netns_leave() comes back. */
static int netns_enter(const char *name)
{
	char path[256];
	int fd, ret;

	if (!name)
		return 0;
	if (home_ns < 0)
		home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	close(fd);
	return ret;
}

static void netns_leave(const char *name)
{
	if (name && setns(home_ns, CLONE_NEWNET))
		abort(); /* would run the rest in the wrong namespace */
}

/* ---- maps and settings ----------------------------------------------------------- */

static int map_fd(const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);

	return map ? bpf_map__fd(map) : -1;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int map_ids(struct bpf_object *o, char *out, size_t len)
{
	struct bpf_map *map;
	size_t used = 0;

	out[0] = 0;
	bpf_object__for_each_map(map, o) {
		struct bpf_map_info info = {};
		__u32 info_len = sizeof(info);

		if (strchr(bpf_map__name(map), '.'))
			continue; /* .rodata: per instance */
		if (bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &info_len))
			return -1;
		used += snprintf(out + used, len - used, "%s\"%s\":%u", used ? "," : "", bpf_map__name(map), info.id);
		if (used >= len)
			return -1;
	}
	return 0;
}

/*
 * What a loader does for tx_ports before bpf_object__load(): the kernel reports every
 * devmap with BPF_F_RDONLY_PROG, which older libbpf (1.1 here) takes for a mismatch with the
 * object's definition and refuses to reuse the pin. So take the pinned map by hand.
 */
static int reuse_pinned_devmaps(struct bpf_object *o)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, o) {
		enum bpf_map_type type = bpf_map__type(map);
		int fd, err;

		if ((type != BPF_MAP_TYPE_DEVMAP && type != BPF_MAP_TYPE_DEVMAP_HASH) || !bpf_map__pin_path(map))
			continue;
		fd = bpf_obj_get(bpf_map__pin_path(map));
		if (fd < 0)
			continue; /* not pinned yet: libbpf creates and pins it */
		err = bpf_map__set_pin_path(map, NULL);
		if (!err)
			err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

/* ---- commands -------------------------------------------------------------------- */

static void cmd_layout(void)
{
	static const char *names[] = OFFLOAD_STAT_NAMES;

#define F(type, field) printf("\"" #field "\":[%zu,%zu]", offsetof(struct type, field), sizeof(((struct type *)0)->field))
	printf("{\"ok\":true,\"abi\":%d,\"key\":{\"size\":%zu,", OFFLOAD_ABI_VERSION, sizeof(struct offload_flow_key));
	F(offload_flow_key, ifindex); putchar(','); F(offload_flow_key, vlan_id); putchar(',');
	F(offload_flow_key, pppoe_sid); putchar(','); F(offload_flow_key, family); putchar(',');
	F(offload_flow_key, proto); putchar(','); F(offload_flow_key, dsa_port); putchar(',');
	F(offload_flow_key, sport); putchar(','); F(offload_flow_key, dport); putchar(',');
	F(offload_flow_key, saddr); putchar(','); F(offload_flow_key, daddr);
	printf("},\"value\":{\"size\":%zu,", sizeof(struct offload_flow_value));
	F(offload_flow_value, action); putchar(','); F(offload_flow_value, flags); putchar(',');
	F(offload_flow_value, mtu); putchar(','); F(offload_flow_value, egress_ifindex); putchar(',');
	F(offload_flow_value, nat_saddr); putchar(','); F(offload_flow_value, nat_daddr); putchar(',');
	F(offload_flow_value, nat_sport); putchar(','); F(offload_flow_value, nat_dport); putchar(',');
	F(offload_flow_value, csum_addr); putchar(','); F(offload_flow_value, csum_port); putchar(',');
	F(offload_flow_value, dst_mac); putchar(','); F(offload_flow_value, src_mac); putchar(',');
	F(offload_flow_value, egress_vlan); putchar(','); F(offload_flow_value, egress_pppoe_sid); putchar(',');
	F(offload_flow_value, egress_dsa_port); putchar(','); F(offload_flow_value, packets); putchar(',');
	F(offload_flow_value, bytes); putchar(','); F(offload_flow_value, last_seen_ns);
	printf("},\"event\":{\"size\":%zu,", sizeof(struct offload_event));
	F(offload_event, ts_ns); putchar(','); F(offload_event, type); putchar(',');
	F(offload_event, l3_len); putchar(','); F(offload_event, hook); putchar(',');
	F(offload_event, tcp_flags); putchar(','); F(offload_event, key);
	printf("},\"stats\":[");
	for (int i = 0; i < OFFLOAD_STAT_MAX; i++)
		printf("%s\"%s\"", i ? "," : "", names[i]);
	printf("]}\n");
#undef F
}

static void cmd_run(char **argv, int argc)
{
	unsigned char in[MAX_PACKET], out[MAX_PACKET + 512];
	struct bpf_program *prog;
	struct xdp_md xdp_ctx = {};
	struct __sk_buff skb_ctx = {};
	int tc, len, ret;

	if (argc < 3)
		return reply_error("usage: run xdp|tc PACKET [IFINDEX [GSO_SIZE GSO_SEGS]]");
	tc = !strcmp(argv[1], "tc");
	prog = bpf_object__find_program_by_name(obj, tc ? OFFLOAD_PROG_TC : OFFLOAD_PROG_XDP);
	len = parse_hex(argv[2], in, sizeof(in));
	if (!prog || len < 0)
		return reply_error("bad program or packet");

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	if (argc > 3) {
		if (tc) {
			skb_ctx.ifindex = strtoul(argv[3], NULL, 0);
			if (argc > 5) {
				skb_ctx.gso_size = strtoul(argv[4], NULL, 0);
				skb_ctx.gso_segs = strtoul(argv[5], NULL, 0);
			}
			opts.ctx_in = &skb_ctx;
			opts.ctx_size_in = sizeof(skb_ctx);
		} else {
			xdp_ctx.ingress_ifindex = strtoul(argv[3], NULL, 0);
			xdp_ctx.data_end = len;
			opts.ctx_in = &xdp_ctx;
			opts.ctx_size_in = sizeof(xdp_ctx);
		}
	}
	ret = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (ret)
		return reply_error("test run: %s (errno %d)", strerror(errno), errno);
	printf("{\"ok\":true,\"ret\":%u,\"out\":", opts.retval);
	print_hex(out, opts.data_size_out);
	printf("}\n");
}

static void cmd_stats(int reset)
{
	static const char *names[] = OFFLOAD_STAT_NAMES;
	int ncpu = libbpf_num_possible_cpus(), fd = map_fd(OFFLOAD_MAP_STATS);
	uint64_t *values;

	if (fd < 0 || ncpu <= 0)
		return reply_error("no stats");
	values = calloc(ncpu, sizeof(*values));
	printf("{\"ok\":true,\"stats\":{");
	for (__u32 i = 0; i < OFFLOAD_STAT_MAX; i++) {
		uint64_t sum = 0;

		if (reset) {
			bpf_map_update_elem(fd, &i, values, BPF_ANY);
			continue;
		}
		if (bpf_map_lookup_elem(fd, &i, values) == 0)
			for (int c = 0; c < ncpu; c++)
				sum += values[c];
		printf("%s\"%s\":%llu", i ? "," : "", names[i], (unsigned long long)sum);
	}
	printf("}}\n");
	free(values);
}

static int events_seen;
static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	printf("%s", events_seen++ ? "," : "");
	print_hex(data, size);
	return 0;
}

static void cmd_events(void)
{
	if (!rb)
		rb = ring_buffer__new(map_fd(OFFLOAD_MAP_EVENTS), on_event, NULL, NULL);
	if (!rb)
		return reply_error("ring buffer: %s", strerror(errno));
	events_seen = 0;
	printf("{\"ok\":true,\"events\":[");
	ring_buffer__consume(rb);
	printf("]}\n");
}

static void cmd_pins(void)
{
	char ids[1024], ids2[1024], names[1024] = "";
	struct bpf_object *second;
	struct dirent *de;
	size_t used = 0;
	DIR *dir;
	int err;

	dir = opendir(pin_root);
	while (dir && (de = readdir(dir)))
		if (de->d_name[0] != '.')
			used += snprintf(names + used, sizeof(names) - used, "%s\"%s\"", used ? "," : "", de->d_name);
	if (dir)
		closedir(dir);

	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	second = bpf_object__open_file(obj_path, &opts);
	err = libbpf_get_error(second);
	if (!err)
		err = reuse_pinned_devmaps(second);
	if (!err)
		err = bpf_object__load(second);
	if (err || map_ids(obj, ids, sizeof(ids)) || map_ids(second, ids2, sizeof(ids2))) {
		if (!libbpf_get_error(second))
			bpf_object__close(second);
		return reply_error("second instance: %d", err);
	}
	printf("{\"ok\":true,\"pinned\":[%s],\"maps\":{%s},\"second\":{%s}}\n", names, ids, ids2);
	bpf_object__close(second);
}

static int ifindex_in(const char *ifname, const char *ns)
{
	int ifindex;

	if (netns_enter(ns))
		return -1;
	ifindex = if_nametoindex(ifname);
	netns_leave(ns);
	return ifindex ? ifindex : -1;
}

static int xdp_pass_fd = -1;

static void cmd_attach(char **argv, int argc, int attach)
{
	const char *ns = argc > 3 ? argv[3] : NULL;
	int ifindex, err = 0;

	if (argc < 3)
		return reply_error("usage: attach|detach xdp|xdppass|tc IFNAME [NETNS]");
	if (netns_enter(ns))
		return reply_error("netns %s: %s", ns, strerror(errno));
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		err = -ENODEV;
	} else if (!strcmp(argv[1], "tc")) {
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, OFFLOAD_PROG_TC);
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, tc_opts, .handle = 1, .priority = 1);

		if (attach) {
			err = bpf_tc_hook_create(&hook);
			if (err == -EEXIST)
				err = 0;
			tc_opts.prog_fd = bpf_program__fd(prog);
			if (!err)
				err = bpf_tc_attach(&hook, &tc_opts);
		} else {
			err = bpf_tc_detach(&hook, &tc_opts);
		}
	} else if (!strcmp(argv[1], "xdp") || !strcmp(argv[1], "xdppass")) {
		int fd = -1;

		if (attach && !strcmp(argv[1], "xdp")) {
			fd = bpf_program__fd(bpf_object__find_program_by_name(obj, OFFLOAD_PROG_XDP));
		} else if (attach) {
			/* r0 = XDP_PASS; exit: lets a veth take XDP frames (it needs NAPI for that) */
			struct bpf_insn insns[] = {
				{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
				{ .code = BPF_JMP | BPF_EXIT },
			};

			if (xdp_pass_fd < 0)
				xdp_pass_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_pass", "GPL", insns, 2, NULL);
			fd = xdp_pass_fd;
		}
		err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	} else {
		err = -EINVAL;
	}
	netns_leave(ns);
	if (err)
		return reply_error("%s %s %s: %s", attach ? "attach" : "detach", argv[1], argv[2], strerror(-err));
	printf("{\"ok\":true,\"ifindex\":%d}\n", ifindex);
}

static void cmd_listen(char **argv, int argc)
{
	const char *ns = argc > 2 ? argv[2] : NULL;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd, one = 1;

	if (argc < 2 || nsockets == MAX_SOCKETS)
		return reply_error("usage: listen IFNAME [NETNS]");
	if (netns_enter(ns))
		return reply_error("netns %s: %s", ns, strerror(errno));
	sll.sll_ifindex = if_nametoindex(argv[1]);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	netns_leave(ns);
	if (fd < 0 || !sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)))
		return reply_error("listen %s: %s", argv[1], strerror(errno));
	sockets[nsockets] = fd;
	printf("{\"ok\":true,\"id\":%d}\n", nsockets++);
}

static void cmd_send(char **argv, int argc)
{
	const char *ns = argc > 3 ? argv[3] : NULL;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	unsigned char frame[MAX_PACKET];
	int fd, len;

	if (argc < 3 || (len = parse_hex(argv[2], frame, sizeof(frame))) < ETH_HLEN)
		return reply_error("usage: send IFNAME FRAME [NETNS]");
	if (netns_enter(ns))
		return reply_error("netns %s: %s", ns, strerror(errno));
	sll.sll_ifindex = if_nametoindex(argv[1]);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	netns_leave(ns);
	memcpy(sll.sll_addr, frame, ETH_ALEN);
	if (fd < 0 || !sll.sll_ifindex || sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != len) {
		reply_error("send %s: %s", argv[1], strerror(errno));
	} else {
		printf("{\"ok\":true}\n");
	}
	if (fd >= 0)
		close(fd);
}

static void cmd_recv(char **argv, int argc)
{
	static unsigned char frame[131072];
	unsigned char needle[256];
	int fd, n = 0, done = 0, needle_len = 0;
	uint64_t deadline;

	if (argc < 3 || atoi(argv[1]) >= nsockets ||
	    (argc > 3 && (needle_len = parse_hex(argv[3], needle, sizeof(needle))) <= 0))
		return reply_error("usage: recv ID TIMEOUT_MS [NEEDLE]");
	fd = sockets[atoi(argv[1])];
	deadline = monotonic_ns() + strtoull(argv[2], NULL, 0) * 1000000ULL;
	printf("{\"ok\":true,\"frames\":[");
	while (!done) {
		union {
			struct cmsghdr cm;
			char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} control;
		struct sockaddr_ll from;
		struct iovec iov = { .iov_base = frame, .iov_len = sizeof(frame) };
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = &control, .msg_controllen = sizeof(control) };
		struct tpacket_auxdata aux = {};
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = monotonic_ns();
		ssize_t len;

		if (now >= deadline || poll(&pfd, 1, (deadline - now) / 1000000 + 1) <= 0)
			break;
		len = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (len < 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
				memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		printf("%s{\"frame\":", n++ ? "," : "");
		print_hex(frame, len);
		printf(",\"vlan\":%s,\"vlanTci\":%u,\"vlanTpid\":%u,\"csumNotReady\":%s}",
		       aux.tp_status & TP_STATUS_VLAN_VALID ? "true" : "false", aux.tp_vlan_tci, aux.tp_vlan_tpid,
		       aux.tp_status & TP_STATUS_CSUMNOTREADY ? "true" : "false");
		done = needle_len && memmem(frame, len, needle, needle_len);
	}
	printf("]}\n");
}

static void command(char *line)
{
	char *argv[8];
	int argc = split_words(line, argv, 8);

	if (argc == 0)
		return reply_error("empty command");

	if (!strcmp(argv[0], "set")) {
		command_set(obj, loaded, argc, argv);
	} else if (!strcmp(argv[0], "load")) {
		int err = reuse_pinned_devmaps(obj);

		if (!err)
			err = bpf_object__load(obj);

		if (err)
			return reply_error("load: %s", strerror(-err));
		loaded = 1;
		printf("{\"ok\":true}\n");
	} else if (!strcmp(argv[0], "layout")) {
		cmd_layout();
	} else if (!loaded) {
		reply_error("%s: load first", argv[0]);
	} else if (!strcmp(argv[0], "heartbeat") && argc >= 2) {
		__u32 zero = 0;
		__u64 beat = 0;

		if (!strcmp(argv[1], "now"))
			beat = monotonic_ns();
		else if (!strcmp(argv[1], "ago") && argc == 3)
			beat = monotonic_ns() - strtoull(argv[2], NULL, 0);
		if (bpf_map_update_elem(map_fd(OFFLOAD_MAP_HEARTBEAT), &zero, &beat, BPF_ANY))
			return reply_error("heartbeat: %s", strerror(errno));
		printf("{\"ok\":true,\"beat\":%llu}\n", (unsigned long long)beat);
	} else if (!strcmp(argv[0], "flow") || !strcmp(argv[0], "delflow") || !strcmp(argv[0], "getflow")) {
		struct offload_flow_key key;
		struct offload_flow_value value;
		int fd = map_fd(OFFLOAD_MAP_FLOWS), err;

		if (argc < 2 || parse_hex(argv[1], &key, sizeof(key)) != sizeof(key))
			return reply_error("bad key");
		if (argv[0][0] == 'f') {
			if (argc < 3 || parse_hex(argv[2], &value, sizeof(value)) != sizeof(value))
				return reply_error("bad value");
			err = bpf_map_update_elem(fd, &key, &value, BPF_ANY);
		} else if (argv[0][0] == 'd') {
			err = bpf_map_delete_elem(fd, &key);
		} else {
			err = bpf_map_lookup_elem(fd, &key, &value);
		}
		if (err)
			return reply_error("%s: %s", argv[0], strerror(errno));
		printf("{\"ok\":true");
		if (argv[0][0] == 'g') {
			printf(",\"value\":");
			print_hex(&value, sizeof(value));
		}
		printf("}\n");
	} else if ((!strcmp(argv[0], "txport") || !strcmp(argv[0], "deltxport")) && argc == 2) {
		__u32 ifindex = strtoul(argv[1], NULL, 0);
		int fd = map_fd(OFFLOAD_MAP_TX_PORTS);
		int err = argv[0][0] == 't' ? bpf_map_update_elem(fd, &ifindex, &ifindex, BPF_ANY)
					    : bpf_map_delete_elem(fd, &ifindex);

		if (err)
			return reply_error("%s %u: %s", argv[0], ifindex, strerror(errno));
		printf("{\"ok\":true}\n");
	} else if (!strcmp(argv[0], "run")) {
		cmd_run(argv, argc);
	} else if (!strcmp(argv[0], "stats") || !strcmp(argv[0], "resetstats")) {
		cmd_stats(argv[0][0] == 'r');
	} else if (!strcmp(argv[0], "events")) {
		cmd_events();
	} else if (!strcmp(argv[0], "pins")) {
		cmd_pins();
	} else if (!strcmp(argv[0], "ifindex") && argc >= 2) {
		int ifindex = ifindex_in(argv[1], argc > 2 ? argv[2] : NULL);

		if (ifindex < 0)
			return reply_error("no interface %s", argv[1]);
		printf("{\"ok\":true,\"ifindex\":%d}\n", ifindex);
	} else if (!strcmp(argv[0], "attach") || !strcmp(argv[0], "detach")) {
		cmd_attach(argv, argc, argv[0][0] == 'a');
	} else if (!strcmp(argv[0], "listen")) {
		cmd_listen(argv, argc);
	} else if (!strcmp(argv[0], "send")) {
		cmd_send(argv, argc);
	} else if (!strcmp(argv[0], "recv")) {
		cmd_recv(argv, argc);
	} else {
		reply_error("unknown command %s", argv[0]);
	}
}

static char verifier_log[1 << 16];
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	size_t used = strlen(verifier_log);

	if (level == LIBBPF_DEBUG)
		return 0;
	return vsnprintf(verifier_log + used, sizeof(verifier_log) - used, fmt, args);
}

int main(int argc, char **argv)
{
	static char line[MAX_LINE];
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJECT PIN_ROOT\n", argv[0]);
		return 2;
	}
	obj_path = argv[1];
	pin_root = argv[2];
	libbpf_set_print(libbpf_print);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (mkdir(pin_root, 0700) && errno != EEXIST) {
		fprintf(stderr, "runner: mkdir %s: %s\n", pin_root, strerror(errno));
		return 1;
	}
	if (mount("bpf", pin_root, "bpf", 0, "mode=0700")) {
		fprintf(stderr, "runner: mount bpffs on %s: %s\n", pin_root, strerror(errno));
		return 1;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	obj = bpf_object__open_file(obj_path, &opts);
	err = libbpf_get_error(obj);
	if (err) {
		fprintf(stderr, "runner: open %s: %s\n", obj_path, strerror(-err));
		umount2(pin_root, MNT_DETACH);
		return 1;
	}
	printf("{\"ok\":true,\"ready\":true}\n");

	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "quit", 4))
			break;
		command(line);
		if (verifier_log[0]) {
			fprintf(stderr, "%s", verifier_log);
			verifier_log[0] = 0;
		}
		fflush(stdout);
	}

	if (rb)
		ring_buffer__free(rb);
	bpf_object__close(obj);
	for (int i = 0; i < nsockets; i++)
		close(sockets[i]);
	umount2(pin_root, MNT_DETACH);
	rmdir(pin_root);
	return 0;
}
