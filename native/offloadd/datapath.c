// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF object of ebpf/offload: loaded with its maps pinned under the pin dir (a bpffs;
 * mounted here when the dir is not one, e.g. under `ip netns exec`, which remounts /sys),
 * its programs attached per device (XDP native, else generic, or tc ingress through
 * libbpf's bpf_tc_* API), its maps read and written for the flow table.
 *
 * The map fds are kept apart from the object: a reload (other settings) opens a new
 * instance that reuses the same pinned maps, moves every attachment to it and closes the
 * old one, while the ring buffer and the flows stay as they are.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "offloadd.h"
#include "settings.h"

/* Our tc filter: a handle of its own, and a late priority so other ingress filters run
 * first (TC_ACT_OK, the datapath's pass, ends the chain). */
#define TC_HANDLE 0x0ff1
#define TC_PRIORITY 0xfff0

#define MAX_ATTACH 64

static const char *map_names[] = { OFFLOAD_MAP_FLOWS, OFFLOAD_MAP_TX_PORTS, OFFLOAD_MAP_EVENTS,
				   OFFLOAD_MAP_EVENT_LIMIT, OFFLOAD_MAP_STATS, OFFLOAD_MAP_HEARTBEAT };

static struct {
	char *object;
	char *pin_dir;
	bool mounted;
	struct bpf_object *obj;
	struct dp_settings settings;
	int xdp_fd, tc_fd;
	int flows_fd, tx_ports_fd, events_fd, stats_fd, heartbeat_fd;
	struct ring_buffer *rb;
	struct attachment {
		int ifindex;
		enum attach_mode mode;
		bool generic;
	} att[MAX_ATTACH];
	int n_att;
} dp = { .xdp_fd = -1, .tc_fd = -1, .flows_fd = -1, .tx_ports_fd = -1, .events_fd = -1, .stats_fd = -1,
	 .heartbeat_fd = -1 };

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[1024];
	size_t len;

	if (level == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, args);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = 0;
	/* bpf_tc_hook_create() on a device that has clsact already: expected */
	if (strstr(line, "Exclusivity flag on"))
		return 0;
	if (len)
		logmsg(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, "%s", line); /* "libbpf: ..." */
	return 0;
}

/*
 * libbpf 1.1 refuses to reuse a pinned devmap (the kernel reports BPF_F_RDONLY_PROG on
 * it, which that libbpf takes for a mismatch): take the pin by hand (ebpf/offload/README.md).
 */
static int reuse_devmap_pins(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		enum bpf_map_type type = bpf_map__type(map);
		const char *pin = bpf_map__pin_path(map);
		int fd, err;

		if ((type != BPF_MAP_TYPE_DEVMAP && type != BPF_MAP_TYPE_DEVMAP_HASH) || !pin)
			continue;
		fd = bpf_obj_get(pin);
		if (fd < 0)
			continue;
		err = bpf_map__set_pin_path(map, NULL);
		if (!err)
			err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

static struct bpf_object *load_instance(const struct dp_settings *s)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dp.pin_dir);
	struct bpf_object *obj;
	int err;

	obj = bpf_object__open_file(dp.object, &opts);
	err = libbpf_get_error(obj);
	if (err) {
		log_error("open %s: %s", dp.object, strerror(-err));
		return NULL;
	}
	err = reuse_devmap_pins(obj);
	if (!err)
		err = offload_set_setting(obj, "heartbeat_timeout_ns", s->heartbeat_timeout_ns);
	if (!err)
		err = offload_set_setting(obj, "enable_ipv6", s->ipv6 ? 1 : 0);
	if (!err)
		err = bpf_object__load(obj);
	if (err) {
		log_error("load %s: %s", dp.object, strerror(-err));
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

static int prog_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);

	return prog ? bpf_program__fd(prog) : -1;
}

static int ringbuf_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size >= sizeof(struct offload_event))
		flows_on_event(data);
	return 0;
}

static int ensure_bpffs(const char *dir)
{
	struct statfs st;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (statfs(dir, &st))
		return -errno;
	if (st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", dir, "bpf", 0, "mode=0700"))
		return -errno;
	dp.mounted = true;
	return 0;
}

int dp_open(const char *object, const char *pin_dir, const struct dp_settings *s)
{
	int err;

	libbpf_set_print(libbpf_log);
	dp.object = strdup(object);
	dp.pin_dir = strdup(pin_dir);
	err = ensure_bpffs(pin_dir);
	if (err) {
		log_error("bpffs at %s: %s", pin_dir, strerror(-err));
		return err;
	}
	dp.obj = load_instance(s);
	if (!dp.obj)
		return -EINVAL;
	dp.settings = *s;
	dp.xdp_fd = prog_fd(dp.obj, OFFLOAD_PROG_XDP);
	dp.tc_fd = prog_fd(dp.obj, OFFLOAD_PROG_TC);
	dp.flows_fd = dup(bpf_object__find_map_fd_by_name(dp.obj, OFFLOAD_MAP_FLOWS));
	dp.tx_ports_fd = dup(bpf_object__find_map_fd_by_name(dp.obj, OFFLOAD_MAP_TX_PORTS));
	dp.events_fd = dup(bpf_object__find_map_fd_by_name(dp.obj, OFFLOAD_MAP_EVENTS));
	dp.stats_fd = dup(bpf_object__find_map_fd_by_name(dp.obj, OFFLOAD_MAP_STATS));
	dp.heartbeat_fd = dup(bpf_object__find_map_fd_by_name(dp.obj, OFFLOAD_MAP_HEARTBEAT));
	if (dp.xdp_fd < 0 || dp.tc_fd < 0 || dp.flows_fd < 0 || dp.tx_ports_fd < 0 || dp.events_fd < 0 ||
	    dp.stats_fd < 0 || dp.heartbeat_fd < 0) {
		log_error("%s: programs or maps missing", object);
		return -EINVAL;
	}
	dp.rb = ring_buffer__new(dp.events_fd, ringbuf_event, NULL, NULL);
	if (!dp.rb) {
		log_error("ring buffer: %s", strerror(errno));
		return -errno;
	}
	/* flows left by an earlier run have nobody to tear them down */
	dp_flows_clear();
	return 0;
}

const struct dp_settings *dp_current_settings(void)
{
	return &dp.settings;
}

static struct attachment *find_att(int ifindex)
{
	for (int i = 0; i < dp.n_att; i++)
		if (dp.att[i].ifindex == ifindex)
			return &dp.att[i];
	return NULL;
}

static int attach_fd(int ifindex, enum attach_mode mode, int xdp_fd, int tc_fd, bool *generic)
{
	int err;

	if (mode == ATTACH_XDP) {
		if (!*generic) {
			err = bpf_xdp_attach(ifindex, xdp_fd, XDP_FLAGS_DRV_MODE, NULL);
			if (!err)
				return 0;
			log_debug("ifindex %d: native XDP: %s, trying generic", ifindex, strerror(-err));
		}
		err = bpf_xdp_attach(ifindex, xdp_fd, XDP_FLAGS_SKB_MODE, NULL);
		if (!err)
			*generic = true;
		return err;
	}
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY, .prog_fd = tc_fd,
		    .flags = BPF_TC_F_REPLACE);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

int dp_detach(int ifindex, enum attach_mode mode, bool generic)
{
	if (mode == ATTACH_XDP)
		return bpf_xdp_detach(ifindex, generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE, NULL);
	if (mode == ATTACH_TC) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);

		return bpf_tc_detach(&hook, &opts);
	}
	return 0;
}

int dp_attach(int ifindex, enum attach_mode mode, const char **how)
{
	struct attachment *a = find_att(ifindex);
	bool generic = false;
	int err;

	if (mode == ATTACH_NONE) {
		if (a) {
			err = dp_detach(ifindex, a->mode, a->generic);
			if (err && err != -ENOENT && err != -ENODEV)
				log_warn("ifindex %d: detach: %s", ifindex, strerror(-err));
			*a = dp.att[--dp.n_att];
		}
		*how = "none";
		return 0;
	}
	if (a && a->mode != mode) {
		dp_detach(ifindex, a->mode, a->generic);
		*a = dp.att[--dp.n_att];
		a = NULL;
	}
	if (a)
		generic = a->generic;
	if (!a && dp.n_att == MAX_ATTACH)
		return -ENOSPC;
	err = attach_fd(ifindex, mode, dp.xdp_fd, dp.tc_fd, &generic);
	if (err)
		return err;
	if (!a)
		a = &dp.att[dp.n_att++];
	*a = (struct attachment){ .ifindex = ifindex, .mode = mode, .generic = generic };
	*how = mode == ATTACH_TC ? "tc" : generic ? "xdp-generic" : "xdp-native";
	return 0;
}

int dp_reload(const struct dp_settings *s)
{
	struct bpf_object *obj = load_instance(s);
	int xdp_fd, tc_fd;

	if (!obj)
		return -EINVAL;
	xdp_fd = prog_fd(obj, OFFLOAD_PROG_XDP);
	tc_fd = prog_fd(obj, OFFLOAD_PROG_TC);
	for (int i = 0; i < dp.n_att; i++) {
		int err = attach_fd(dp.att[i].ifindex, dp.att[i].mode, xdp_fd, tc_fd, &dp.att[i].generic);

		if (err)
			log_warn("ifindex %d: moving to the reloaded programs: %s", dp.att[i].ifindex, strerror(-err));
	}
	bpf_object__close(dp.obj);
	dp.obj = obj;
	dp.xdp_fd = xdp_fd;
	dp.tc_fd = tc_fd;
	dp.settings = *s;
	return 0;
}

void dp_close(bool keep_pins)
{
	for (int i = 0; i < dp.n_att; i++) {
		int err = dp_detach(dp.att[i].ifindex, dp.att[i].mode, dp.att[i].generic);

		if (err && err != -ENOENT && err != -ENODEV)
			log_warn("ifindex %d: detach: %s", dp.att[i].ifindex, strerror(-err));
	}
	dp.n_att = 0;
	/* anything still attached somewhere (another loader) fails open at once */
	if (dp.heartbeat_fd >= 0)
		dp_heartbeat(0);
	if (dp.rb)
		ring_buffer__free(dp.rb);
	if (dp.obj)
		bpf_object__close(dp.obj);
	for (int *fd = &dp.flows_fd; fd <= &dp.heartbeat_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	if (!keep_pins && dp.pin_dir) {
		for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", dp.pin_dir, map_names[i]);
			if (unlink(path) && errno != ENOENT)
				log_warn("unpin %s: %s", path, strerror(errno));
		}
		if (dp.mounted)
			umount2(dp.pin_dir, MNT_DETACH);
	}
	free(dp.object);
	free(dp.pin_dir);
}

int dp_ringbuf_fd(void)
{
	return ring_buffer__epoll_fd(dp.rb);
}

int dp_ringbuf_consume(void)
{
	return ring_buffer__consume(dp.rb);
}

int dp_flow_put(const struct offload_flow_key *key, const struct offload_flow_value *value)
{
	return bpf_map_update_elem(dp.flows_fd, key, value, BPF_ANY) ? -errno : 0;
}

int dp_flow_get(const struct offload_flow_key *key, struct offload_flow_value *value)
{
	return bpf_map_lookup_elem(dp.flows_fd, key, value) ? -errno : 0;
}

int dp_flow_del(const struct offload_flow_key *key)
{
	return bpf_map_delete_elem(dp.flows_fd, key) ? -errno : 0;
}

void dp_flows_clear(void)
{
	struct offload_flow_key key, next;
	int n = 0;

	while (!bpf_map_get_next_key(dp.flows_fd, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(dp.flows_fd, &key))
			break;
		n++;
	}
	if (n)
		log_info("removed %d flows left in the map", n);
}

int dp_txport_add(int ifindex)
{
	__u32 k = (__u32)ifindex;

	return bpf_map_update_elem(dp.tx_ports_fd, &k, &k, BPF_ANY) ? -errno : 0;
}

int dp_heartbeat(uint64_t ns)
{
	__u32 zero = 0;
	__u64 v = ns;

	return bpf_map_update_elem(dp.heartbeat_fd, &zero, &v, BPF_ANY) ? -errno : 0;
}

int dp_stats(uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *values;

	if (ncpu <= 0)
		return -EINVAL;
	values = calloc((size_t)ncpu, sizeof(*values));
	if (!values)
		return -ENOMEM;
	for (__u32 i = 0; i < OFFLOAD_STAT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(dp.stats_fd, &i, values))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += values[c];
	}
	free(values);
	return 0;
}
