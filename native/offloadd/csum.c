// SPDX-License-Identifier: GPL-2.0-only
/*
 * The checksum deltas of the datapath's contract (ebpf/offload/README.md, "Checksum
 * deltas"): delta = fold(sum of the new 16-bit words + sum of the complemented old ones),
 * words read big-endian as on the wire, -0 (0xffff) written as 0, stored big-endian.
 */
#include <arpa/inet.h>

#include "offloadd.h"

uint16_t csum_delta(const uint8_t *old_bytes, const uint8_t *new_bytes, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)(new_bytes[i] << 8 | new_bytes[i + 1]);
		sum += (uint32_t)(~(old_bytes[i] << 8 | old_bytes[i + 1]) & 0xffff);
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum == 0xffff)
		sum = 0;
	return htons((uint16_t)sum);
}
