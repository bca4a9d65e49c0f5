/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One's-complement arithmetic for incremental checksum updates (RFC 1624) where no
 * kernel helper does it for us (XDP). Values are 16-bit words as loaded from packet
 * memory: the sum is byte-order independent (RFC 1071), so a delta stored in network
 * byte order and loaded like a checksum field combines with that field directly.
 */
#ifndef WRTKIT_OFFLOAD_CSUM_H
#define WRTKIT_OFFLOAD_CSUM_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* a + b in one's complement, folded. */
static __always_inline __u16 csum_add16(__u16 a, __u16 b)
{
	return csum_fold32((__u32)a + b);
}

/*
 * The checksum field after the covered data changed by delta (new words minus old
 * words): HC' = ~(~HC + delta), RFC 1624 eqn. 3.
 */
static __always_inline __u16 csum_update(__u16 check, __u16 delta)
{
	return (__u16)~csum_add16((__u16)~check, delta);
}

/* The delta of decrementing the TTL / hop limit byte that leads its 16-bit word. */
static __always_inline __u16 csum_ttl_dec_delta(void)
{
	return (__u16)~bpf_htons(0x0100);
}

#endif /* WRTKIT_OFFLOAD_CSUM_H */
