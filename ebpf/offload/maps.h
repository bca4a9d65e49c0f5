/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The datapath's maps (BTF definitions, pinned by name under the loader's pin root)
 * and its per-instance settings (const volatile, in .rodata: the loader sets them
 * before load; the verifier then sees them as constants and prunes what they turn off).
 */
#ifndef WRTKIT_OFFLOAD_MAPS_H
#define WRTKIT_OFFLOAD_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "offload.h"

/* Sizes; a loader may change max_entries before load (all instances must agree). */
#ifndef OFFLOAD_MAX_FLOWS
#define OFFLOAD_MAX_FLOWS 32768
#endif
#ifndef OFFLOAD_MAX_TX_PORTS
#define OFFLOAD_MAX_TX_PORTS 64
#endif
#ifndef OFFLOAD_EVENT_LIMIT_ENTRIES
#define OFFLOAD_EVENT_LIMIT_ENTRIES 4096
#endif
#ifndef OFFLOAD_EVENTS_BYTES
#define OFFLOAD_EVENTS_BYTES (256 * 1024)
#endif

/* Settings. */
const volatile __u64 heartbeat_timeout_ns = 3000000000ULL; /* 3 s */
const volatile __u64 event_interval_ns = 1000000000ULL;    /* per flow key */
const volatile __u8 enable_ipv6 = 1;
const volatile __u8 enable_events = 1;

/*
 * Not preallocated: an update then installs a new element instead of overwriting one
 * the datapath may be reading, so it never sees half of a value.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct offload_flow_key);
	__type(value, struct offload_flow_value);
	__uint(max_entries, OFFLOAD_MAX_FLOWS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

/*
 * The kernel adds BPF_F_RDONLY_PROG to every devmap, and older libbpf (1.1 here) finds
 * the pinned map "incompatible": a second instance reuses it by hand (see the README).
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, OFFLOAD_MAX_TX_PORTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, OFFLOAD_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct offload_flow_key);
	__type(value, __u64);
	__uint(max_entries, OFFLOAD_EVENT_LIMIT_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} event_limit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, OFFLOAD_STAT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} heartbeat SEC(".maps");

static __always_inline void stat_inc(__u32 which)
{
	__u64 *count = bpf_map_lookup_elem(&stats, &which);

	if (count)
		*count += 1;
}

#endif /* WRTKIT_OFFLOAD_MAPS_H */
