/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User space only (offloadd, test/runner.c, bench/offload/testrun.c): sets one of the
 * datapath's `const volatile` settings (offload.bpf.c) in an opened, not yet loaded
 * object. The settings live in .rodata, so the verifier sees them as constants and
 * prunes what a setting turns off; their offsets come from the object's BTF, so nothing
 * here repeats the layout.
 */
#ifndef OFFLOAD_SETTINGS_H
#define OFFLOAD_SETTINGS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* 0, -ENOENT (no such setting, or no BTF), -EINVAL (not an integer), -ENOMEM. */
static inline int offload_set_setting(struct bpf_object *obj, const char *name, uint64_t value)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map, *rodata = NULL;
	const struct btf_var_secinfo *var;
	const struct btf_type *sec;
	const void *initial;
	uint8_t *data;
	size_t size;
	int id, err = -ENOENT;

	bpf_object__for_each_map(map, obj)
		if (strstr(bpf_map__name(map), ".rodata"))
			rodata = map;
	if (!btf || !rodata)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	initial = bpf_map__initial_value(rodata, &size);
	if (!initial)
		return -ENOENT;
	data = malloc(size);
	if (!data)
		return -ENOMEM;
	memcpy(data, initial, size);
	var = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, var++) {
		const struct btf_type *t = btf__type_by_id(btf, var->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), name) || var->offset + var->size > size)
			continue;
		switch (var->size) {
		case 1: data[var->offset] = (uint8_t)value; break;
		case 2: { uint16_t v = (uint16_t)value; memcpy(data + var->offset, &v, 2); break; }
		case 4: { uint32_t v = (uint32_t)value; memcpy(data + var->offset, &v, 4); break; }
		case 8: memcpy(data + var->offset, &value, 8); break;
		default: free(data); return -EINVAL;
		}
		err = bpf_map__set_initial_value(rodata, data, size);
		break;
	}
	free(data);
	return err;
}

#endif
