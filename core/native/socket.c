/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Socket set-up: socket, bind, connect, listen, accept, options, names, shutdown, close.
 * Every socket is non-blocking and close-on-exec from birth (SOCK_NONBLOCK |
 * SOCK_CLOEXEC, accept4): qjs runs one thread, so a blocking call would stop the whole
 * host, and the host spawns programs that must not inherit its sockets.
 */
/* accept4() is a Linux call: glibc and musl declare it only for _GNU_SOURCE. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "native.h"

/* socket(domain, type, protocol = 0) -> fd | -errno */
static JSValue js_socket(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int domain, type, protocol, fd;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "domain", &domain) || wn_arg_int(ctx, argc, argv, 1, "type", &type) ||
        wn_arg_int_or(ctx, argc, argv, 2, "protocol", 0, &protocol))
        return JS_EXCEPTION;
    fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    return wn_result(ctx, fd, errno);
}

/* Reads (fd, address) and converts the address; 0, -errno or WN_THROWN. */
static int fd_and_address(JSContext *ctx, int argc, JSValueConst *argv, int *fd, struct sockaddr_storage *ss,
                          socklen_t *len)
{
    if (wn_arg_int(ctx, argc, argv, 0, "fd", fd))
        return WN_THROWN;
    if (argc < 2) {
        JS_ThrowTypeError(ctx, "argument 2 (address) is missing");
        return WN_THROWN;
    }
    return wn_sockaddr_from_js(ctx, argv[1], ss, len);
}

/* bind(fd, address) -> 0 | -errno */
static JSValue js_bind(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, r;

    (void)this_val;
    r = fd_and_address(ctx, argc, argv, &fd, &ss, &len);
    if (r == WN_THROWN)
        return JS_EXCEPTION;
    if (r < 0)
        return JS_NewInt32(ctx, r);
    r = bind(fd, (struct sockaddr *)&ss, len);
    return wn_result(ctx, r, errno);
}

/*
 * connect(fd, address) -> 0 | -errno. On a non-blocking TCP socket -EINPROGRESS is the
 * normal answer: wait for write readiness, then read getsockopt(SOL_SOCKET, SO_ERROR).
 * An interrupted connect goes on in the background just the same, so EINTR is reported
 * as EINPROGRESS (retrying would give EALREADY).
 */
static JSValue js_connect(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, r;

    (void)this_val;
    r = fd_and_address(ctx, argc, argv, &fd, &ss, &len);
    if (r == WN_THROWN)
        return JS_EXCEPTION;
    if (r < 0)
        return JS_NewInt32(ctx, r);
    r = connect(fd, (struct sockaddr *)&ss, len);
    if (r < 0 && errno == EINTR)
        return JS_NewInt32(ctx, -EINPROGRESS);
    return wn_result(ctx, r, errno);
}

/* listen(fd, backlog = 128) -> 0 | -errno */
static JSValue js_listen(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd, backlog;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd) || wn_arg_int_or(ctx, argc, argv, 1, "backlog", 128, &backlog))
        return JS_EXCEPTION;
    return wn_result(ctx, listen(fd, backlog), errno);
}

/* accept(fd) -> new fd (non-blocking, close-on-exec) | -errno; -EAGAIN when none waits. */
static JSValue js_accept(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd, r;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd))
        return JS_EXCEPTION;
    do
        r = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    while (r < 0 && errno == EINTR);
    return wn_result(ctx, r, errno);
}

/* shutdown(fd, how) -> 0 | -errno (how: SHUT_RD, SHUT_WR, SHUT_RDWR) */
static JSValue js_shutdown(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd, how;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd) || wn_arg_int(ctx, argc, argv, 1, "how", &how))
        return JS_EXCEPTION;
    return wn_result(ctx, shutdown(fd, how), errno);
}

/*
 * close(fd) -> 0 | -errno. Never retried on EINTR: Linux has released the descriptor
 * by then, and a second close could hit a descriptor someone else just opened.
 */
static JSValue js_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd))
        return JS_EXCEPTION;
    return wn_result(ctx, close(fd), errno);
}

/*
 * setsockopt(fd, level, name, value) -> 0 | -errno, for the int-valued options wrtkit
 * uses (SO_REUSEADDR, SO_RCVBUF, SO_SNDBUF, SO_PASSCRED, NETLINK_ADD_MEMBERSHIP, ...).
 */
static JSValue js_setsockopt(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd, level, name, value;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd) || wn_arg_int(ctx, argc, argv, 1, "level", &level) ||
        wn_arg_int(ctx, argc, argv, 2, "name", &name) || wn_arg_int(ctx, argc, argv, 3, "value", &value))
        return JS_EXCEPTION;
    return wn_result(ctx, setsockopt(fd, level, name, &value, sizeof(value)), errno);
}

/*
 * getsockopt(fd, level, name) -> value | -errno, for int-valued options whose values are
 * not negative. SO_ERROR gives the (positive) errno a non-blocking connect ended with.
 */
static JSValue js_getsockopt(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd, level, name, value = 0, r;
    socklen_t len = sizeof(value);

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd) || wn_arg_int(ctx, argc, argv, 1, "level", &level) ||
        wn_arg_int(ctx, argc, argv, 2, "name", &name))
        return JS_EXCEPTION;
    r = getsockopt(fd, level, name, &value, &len);
    return wn_result(ctx, r < 0 ? r : value, errno);
}

/* [address, 0] | [null, errno], like os.stat: the name of one end of the socket. */
static JSValue name_of(JSContext *ctx, int argc, JSValueConst *argv, int peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    JSValue result, address;
    int fd, r, err;

    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd))
        return JS_EXCEPTION;
    r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
    err = r < 0 ? errno : 0;
    address = r < 0 ? JS_NULL : wn_sockaddr_to_js(ctx, &ss, len);
    if (JS_IsException(address))
        return address;
    result = JS_NewArray(ctx);
    if (JS_IsException(result)) {
        JS_FreeValue(ctx, address);
        return result;
    }
    JS_SetPropertyUint32(ctx, result, 0, address);
    JS_SetPropertyUint32(ctx, result, 1, JS_NewInt32(ctx, err));
    return result;
}

static JSValue js_getsockname(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    return name_of(ctx, argc, argv, 0);
}

static JSValue js_getpeername(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    return name_of(ctx, argc, argv, 1);
}

static const JSCFunctionListEntry socket_funcs[] = {
    JS_CFUNC_DEF("socket", 3, js_socket),
    JS_CFUNC_DEF("bind", 2, js_bind),
    JS_CFUNC_DEF("connect", 2, js_connect),
    JS_CFUNC_DEF("listen", 2, js_listen),
    JS_CFUNC_DEF("accept", 1, js_accept),
    JS_CFUNC_DEF("shutdown", 2, js_shutdown),
    JS_CFUNC_DEF("close", 1, js_close),
    JS_CFUNC_DEF("setsockopt", 4, js_setsockopt),
    JS_CFUNC_DEF("getsockopt", 3, js_getsockopt),
    JS_CFUNC_DEF("getsockname", 1, js_getsockname),
    JS_CFUNC_DEF("getpeername", 1, js_getpeername),
};

const struct wn_exports wn_socket_exports = { socket_funcs, sizeof(socket_funcs) / sizeof(socket_funcs[0]) };
