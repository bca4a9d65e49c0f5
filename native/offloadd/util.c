// SPDX-License-Identifier: GPL-2.0-only
/* Logging (one line per event on stderr), addresses and MACs, the monotonic clock, draining netlink event sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "offloadd.h"

enum log_level log_level = LOG_INFO;

void logmsg(enum log_level level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	char line[1024];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write per line, so lines of concurrent writers never interleave */
	fprintf(stderr, "%s offloadd: %s\n", names[level], line);
}

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int addr_len(uint8_t family)
{
	return family == OFFLOAD_FAMILY_IPV6 ? 16 : 4;
}

const char *addr_str(uint8_t family, const uint8_t *addr, char *buf)
{
	if (!inet_ntop(family == OFFLOAD_FAMILY_IPV6 ? AF_INET6 : AF_INET, addr, buf, INET6_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

uint8_t addr_parse(const char *text, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		return OFFLOAD_FAMILY_IPV4;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return OFFLOAD_FAMILY_IPV6;
	return 0;
}

const char *mac_str(const uint8_t *mac, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

bool mac_parse(const char *text, uint8_t *mac)
{
	unsigned int b[6];
	char tail;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return true;
}

bool mac_zero(const uint8_t *mac)
{
	static const uint8_t zero[6];

	return !memcmp(mac, zero, 6);
}

bool prefix_match(uint8_t family, const uint8_t *prefix, int len, const uint8_t *addr)
{
	int bytes = len / 8, bits = len % 8;

	if (len > addr_len(family) * 8)
		return false;
	if (memcmp(prefix, addr, bytes))
		return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		return (prefix[bytes] & mask) == (addr[bytes] & mask);
	}
	return true;
}

int netlink_drain(struct mnl_socket *sock, mnl_cb_t cb)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (;;) {
		ssize_t len = mnl_socket_recvfrom(sock, buf, sizeof(buf));

		if (len < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		mnl_cb_run(buf, (size_t)len, 0, 0, cb, NULL);
	}
}
