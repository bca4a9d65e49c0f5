// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bench harness for bench/offload/testrun.mjs: loads the offload object and the baseline
 * object (pass.bpf.c) with libbpf, plays user space (settings, flows, tx ports, heart
 * beat) and times programs with BPF_PROG_TEST_RUN, which reports the time the kernel
 * spent in its run loop (the `duration` field: ns per repetition, syscall and packet copy
 * excluded). Unlike ebpf/offload/test/runner.c it pins nothing: every map is private to
 * this process.
 *
 *   testrun OFFLOAD_OBJECT PASS_OBJECT
 *
 * Commands on stdin, one per line; one line of JSON per command on stdout.
 *
 *   set NAME VALUE                       a const volatile setting of the offload object (before load)
 *   load                                 load both objects
 *   heartbeat                            write the heart beat (now)
 *   flow KEY VALUE                       hex, as plugins/offload/test/datapath/runner.ts encodes them
 *   txport IFINDEX
 *   time PROG PACKET IFINDEX REPEAT N    N test runs of REPEAT repetitions each; PROG is
 *                                        xdp|tc (offload) or xdppass|tcpass (baselines).
 *                                        Answers every run's ns per repetition, the verdict
 *                                        of the last one, and how the stats map moved.
 *   quit
 *
 * Note: with REPEAT > 1 the kernel runs the program again and again on the SAME buffer, so
 * from the second repetition on a rewriting program sees its own output (translated
 * addresses, TTL one lower): only programs that leave the packet alone (the baselines,
 * a miss) can be timed that way. The stats delta shows what the repetitions did.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../../ebpf/offload/offload.h"
#include "../../ebpf/offload/test/harness.h"

#define MAX_PACKET 4096
#define MAX_LINE (4 * MAX_PACKET)
#define MAX_RUNS 1000000

static struct bpf_object *offload, *pass;
static int loaded;

static int map_fd(const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(offload, name);

	return map ? bpf_map__fd(map) : -1;
}

static int heartbeat(void)
{
	struct timespec ts;
	__u32 zero = 0;
	__u64 beat;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	beat = (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	return bpf_map_update_elem(map_fd(OFFLOAD_MAP_HEARTBEAT), &zero, &beat, BPF_ANY);
}

static int read_stats(uint64_t *sums)
{
	int ncpu = libbpf_num_possible_cpus(), fd = map_fd(OFFLOAD_MAP_STATS);
	uint64_t *values;

	if (fd < 0 || ncpu <= 0 || !(values = calloc(ncpu, sizeof(*values))))
		return -1;
	for (__u32 i = 0; i < OFFLOAD_STAT_MAX; i++) {
		sums[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, values) == 0)
			for (int c = 0; c < ncpu; c++)
				sums[i] += values[c];
	}
	free(values);
	return 0;
}

static void cmd_time(char **argv, int argc)
{
	static const char *names[] = OFFLOAD_STAT_NAMES;
	static unsigned char in[MAX_PACKET], out[MAX_PACKET + 512];
	uint64_t before[OFFLOAD_STAT_MAX], after[OFFLOAD_STAT_MAX];
	const char *which = argc > 1 ? argv[1] : "";
	struct bpf_program *prog = NULL;
	struct xdp_md xdp_ctx = {};
	struct __sk_buff skb_ctx = {};
	unsigned int repeat, runs, *ns;
	int len, tc = 0, moved = 0;
	__u32 retval = 0;

	if (argc != 6)
		return reply_error("usage: time xdp|tc|xdppass|tcpass PACKET IFINDEX REPEAT N");
	if (!strcmp(which, "xdp")) {
		prog = bpf_object__find_program_by_name(offload, OFFLOAD_PROG_XDP);
	} else if (!strcmp(which, "tc")) {
		prog = bpf_object__find_program_by_name(offload, OFFLOAD_PROG_TC);
		tc = 1;
	} else if (!strcmp(which, "xdppass")) {
		prog = bpf_object__find_program_by_name(pass, "bench_xdp_pass");
	} else if (!strcmp(which, "tcpass")) {
		prog = bpf_object__find_program_by_name(pass, "bench_tc_pass");
		tc = 1;
	}
	len = parse_hex(argv[2], in, sizeof(in));
	repeat = strtoul(argv[4], NULL, 0);
	runs = strtoul(argv[5], NULL, 0);
	if (!prog || len < 14 || repeat < 1 || runs < 1 || runs > MAX_RUNS)
		return reply_error("bad program, packet, repeat or count");
	if (!(ns = calloc(runs, sizeof(*ns))))
		return reply_error("out of memory");
	if (heartbeat() || read_stats(before)) {
		free(ns);
		return reply_error("heartbeat or stats: %s", strerror(errno));
	}

	for (unsigned int i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = repeat);
		if (tc) {
			skb_ctx = (struct __sk_buff){ .ifindex = strtoul(argv[3], NULL, 0) };
			opts.ctx_in = &skb_ctx;
			opts.ctx_size_in = sizeof(skb_ctx);
		} else {
			xdp_ctx = (struct xdp_md){ .ingress_ifindex = strtoul(argv[3], NULL, 0), .data_end = len };
			opts.ctx_in = &xdp_ctx;
			opts.ctx_size_in = sizeof(xdp_ctx);
		}
		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
			free(ns);
			return reply_error("test run: %s (errno %d)", strerror(errno), errno);
		}
		ns[i] = opts.duration;
		retval = opts.retval;
	}
	read_stats(after);

	printf("{\"ok\":true,\"ret\":%u,\"ns\":[", retval);
	for (unsigned int i = 0; i < runs; i++)
		printf("%s%u", i ? "," : "", ns[i]);
	printf("],\"moved\":{");
	for (int i = 0; i < OFFLOAD_STAT_MAX; i++)
		if (after[i] != before[i])
			printf("%s\"%s\":%llu", moved++ ? "," : "", names[i], (unsigned long long)(after[i] - before[i]));
	printf("}}\n");
	free(ns);
}

static void command(char *line)
{
	char *argv[8];
	int argc = split_words(line, argv, 8);

	if (argc == 0)
		return reply_error("empty command");

	if (!strcmp(argv[0], "set")) {
		command_set(offload, loaded, argc, argv);
	} else if (!strcmp(argv[0], "load")) {
		int err = bpf_object__load(offload);

		if (!err)
			err = bpf_object__load(pass);
		if (err)
			return reply_error("load: %s", strerror(-err));
		loaded = 1;
		printf("{\"ok\":true}\n");
	} else if (!loaded) {
		reply_error("%s: load first", argv[0]);
	} else if (!strcmp(argv[0], "heartbeat")) {
		if (heartbeat())
			return reply_error("heartbeat: %s", strerror(errno));
		printf("{\"ok\":true}\n");
	} else if (!strcmp(argv[0], "flow")) {
		struct offload_flow_key key;
		struct offload_flow_value value;

		if (argc != 3 || parse_hex(argv[1], &key, sizeof(key)) != sizeof(key) ||
		    parse_hex(argv[2], &value, sizeof(value)) != sizeof(value))
			return reply_error("bad key or value");
		if (bpf_map_update_elem(map_fd(OFFLOAD_MAP_FLOWS), &key, &value, BPF_ANY))
			return reply_error("flow: %s", strerror(errno));
		printf("{\"ok\":true}\n");
	} else if (!strcmp(argv[0], "txport") && argc == 2) {
		__u32 ifindex = strtoul(argv[1], NULL, 0);

		if (bpf_map_update_elem(map_fd(OFFLOAD_MAP_TX_PORTS), &ifindex, &ifindex, BPF_ANY))
			return reply_error("txport %u: %s", ifindex, strerror(errno));
		printf("{\"ok\":true}\n");
	} else if (!strcmp(argv[0], "time")) {
		cmd_time(argv, argc);
	} else {
		reply_error("unknown command %s", argv[0]);
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, args);
}

/* No pins: the bench's maps live and die with this process. */
static struct bpf_object *open_unpinned(const char *path)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_map *map;

	if (libbpf_get_error(o)) {
		fprintf(stderr, "testrun: open %s: %s\n", path, strerror(-libbpf_get_error(o)));
		exit(1);
	}
	bpf_object__for_each_map(map, o)
		bpf_map__set_pin_path(map, NULL);
	return o;
}

int main(int argc, char **argv)
{
	static char line[MAX_LINE];

	if (argc != 3) {
		fprintf(stderr, "usage: %s OFFLOAD_OBJECT PASS_OBJECT\n", argv[0]);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	setvbuf(stdout, NULL, _IOLBF, 0);
	offload = open_unpinned(argv[1]);
	pass = open_unpinned(argv[2]);
	printf("{\"ok\":true,\"ready\":true}\n");

	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "quit", 4))
			break;
		command(line);
		fflush(stdout);
	}
	bpf_object__close(offload);
	bpf_object__close(pass);
	return 0;
}
