/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the two command-line harnesses of the datapath share (test/runner.c for the
 * tests, bench/offload/testrun.c for the bench): their line protocol speaks JSON on
 * stdout and carries keys, values and packets as hex.
 */
#ifndef OFFLOAD_HARNESS_H
#define OFFLOAD_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "../settings.h"

/* One error line, {"ok":false,"error":"..."}; characters JSON would need escaped become spaces. */
static void reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void reply_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '"' || *p == '\\' || *p < 0x20)
			*p = ' ';
	printf("{\"ok\":false,\"error\":\"%s\"}\n", msg);
}

/* Bytes written to buf, or -1 (odd length, not hex, longer than max). */
static inline int parse_hex(const char *hex, void *buf, size_t max)
{
	size_t len = strlen(hex);
	unsigned char *out = buf;

	if (len % 2 || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned int byte;

		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			return -1;
		out[i] = byte;
	}
	return len / 2;
}

/* A command line split at blanks into at most max words (in place); the count. */
static inline int split_words(char *line, char **argv, int max)
{
	int argc = 0;

	for (char *tok = strtok(line, " \t\r\n"); tok && argc < max; tok = strtok(NULL, " \t\r\n"))
		argv[argc++] = tok;
	return argc;
}

/* `set NAME VALUE`: a const volatile setting of obj, before it is loaded. */
static inline void command_set(struct bpf_object *obj, int loaded, int argc, char **argv)
{
	int err = argc == 3 && !loaded ? offload_set_setting(obj, argv[1], strtoull(argv[2], NULL, 0)) : -EINVAL;

	if (err)
		return reply_error("set %s: %s", argc > 1 ? argv[1] : "", strerror(-err));
	printf("{\"ok\":true}\n");
}

#endif
