/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wrtkit-native: a QuickJS C module that gives qjs what its `os` module lacks and the
 * wrtkit host needs on a router: sockets (unix, TCP/UDP, netlink) and fsync.
 *
 * Conventions (the same as qjs's own `os` module, so the TypeScript side handles both
 * alike):
 *  - Every call works on plain file descriptors. Sockets are created non-blocking and
 *    close-on-exec; readiness comes from qjs's os.setReadHandler / os.setWriteHandler.
 *  - A failing system call returns a negative errno (-EAGAIN, -ECONNREFUSED, ...). The
 *    errno numbers differ per architecture (MIPS!), so the module exports them as
 *    constants and JavaScript never hard-codes them.
 *  - Misuse by the caller throws: a missing or mistyped argument (TypeError), a buffer
 *    range outside the ArrayBuffer (RangeError). Those are bugs, not conditions.
 *
 * The files split the work: args.c reads arguments, sockaddr.c converts addresses,
 * socket.c sets sockets up, io.c moves bytes, fs.c does fsync/chmod, constants.c exports
 * the numbers and module.c ties them into a module.
 */
#ifndef WRTKIT_NATIVE_H
#define WRTKIT_NATIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <quickjs.h>

/* Bumped when a function changes its arguments or results; JS checks it on load. */
#define WN_VERSION 1

/* Returned by helpers when they left a JavaScript exception pending. */
#define WN_THROWN 1

/* One table of exports per source file; module.c registers them all. */
struct wn_exports {
    const JSCFunctionListEntry *list;
    int count;
};

extern const struct wn_exports wn_socket_exports;
extern const struct wn_exports wn_io_exports;
extern const struct wn_exports wn_fs_exports;
extern const struct wn_exports wn_constants_exports;

/* args.c */

/* Converts argument `index` to an int; 0, or WN_THROWN. Missing arguments are a TypeError. */
int wn_arg_int(JSContext *ctx, int argc, JSValueConst *argv, int index, const char *what, int *out);
/* As wn_arg_int, but a missing or undefined argument gives `fallback`. */
int wn_arg_int_or(JSContext *ctx, int argc, JSValueConst *argv, int index, const char *what, int fallback,
                  int *out);
/*
 * Reads (ArrayBuffer, offset, length) from arguments `index`..`index + 2` and returns the
 * byte range; 0, or WN_THROWN. The pointer is taken after the numbers are converted: a
 * valueOf() that detaches the buffer cannot leave us with a stale pointer.
 */
int wn_arg_range(JSContext *ctx, int argc, JSValueConst *argv, int index, uint8_t **data, size_t *length);
/* A string argument (UTF-8, owned by the caller: free with JS_FreeCString); NULL when thrown. */
const char *wn_arg_string(JSContext *ctx, int argc, JSValueConst *argv, int index, const char *what,
                          size_t *length);

/* The result of a system call: `result`, or -errno when it is negative. */
JSValue wn_result(JSContext *ctx, long result, int saved_errno);

/* sockaddr.c */

/*
 * Fills `ss` from a JavaScript address object:
 *   { family: AF_UNIX, path }               path '' binds an autobind (abstract) name,
 *                                           a leading "\0" names an abstract socket
 *   { family: AF_INET|AF_INET6, address, port, scopeId? }   numeric address strings
 *   { family: AF_NETLINK, pid?, groups? }
 * Returns 0, a negative errno for a value the kernel would refuse as well (-EINVAL for
 * an address that does not parse, -ENAMETOOLONG, -EAFNOSUPPORT), or WN_THROWN.
 */
int wn_sockaddr_from_js(JSContext *ctx, JSValueConst value, struct sockaddr_storage *ss, socklen_t *len);
/* The JavaScript object for a kernel address (the inverse of wn_sockaddr_from_js). */
JSValue wn_sockaddr_to_js(JSContext *ctx, const struct sockaddr_storage *ss, socklen_t len);

#endif
