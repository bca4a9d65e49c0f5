/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Moving bytes: send/recv and sendto/recvfrom on ArrayBuffer ranges, the same
 * (buffer, offset, length) shape as qjs's os.read/os.write.
 *
 * Every call adds MSG_DONTWAIT, so a descriptor that came from elsewhere cannot block
 * the one JavaScript thread; sends add MSG_NOSIGNAL, because a peer that went away must
 * give -EPIPE, not a SIGPIPE that ends qjs. EINTR is retried: these calls never block,
 * so a signal can only have arrived before any byte moved.
 */
#include <errno.h>
#include <sys/socket.h>

#include "native.h"

/* send(fd, buffer, offset, length, flags = 0) -> bytes sent | -errno (-EAGAIN when full) */
static JSValue js_send(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t *data;
    size_t length;
    ssize_t n;
    int fd, flags;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd) || wn_arg_range(ctx, argc, argv, 1, &data, &length) ||
        wn_arg_int_or(ctx, argc, argv, 4, "flags", 0, &flags))
        return JS_EXCEPTION;
    do
        n = send(fd, data, length, flags | MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return wn_result(ctx, n, errno);
}

/*
 * recv(fd, buffer, offset, length, flags = 0) -> bytes | -errno. 0 is end of stream on a
 * stream socket (and an empty datagram on a datagram socket). With MSG_TRUNC a datagram
 * socket returns the datagram's full size, even when it is larger than `length`: with
 * MSG_PEEK and length 0 that sizes the buffer before the real read.
 */
static JSValue js_recv(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t *data;
    size_t length;
    ssize_t n;
    int fd, flags;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd) || wn_arg_range(ctx, argc, argv, 1, &data, &length) ||
        wn_arg_int_or(ctx, argc, argv, 4, "flags", 0, &flags))
        return JS_EXCEPTION;
    do
        n = recv(fd, data, length, flags | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return wn_result(ctx, n, errno);
}

/* sendto(fd, buffer, offset, length, address, flags = 0) -> bytes sent | -errno */
static JSValue js_sendto(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    uint8_t *data;
    size_t length;
    ssize_t n;
    int fd, flags, r;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd) || wn_arg_range(ctx, argc, argv, 1, &data, &length) ||
        wn_arg_int_or(ctx, argc, argv, 5, "flags", 0, &flags))
        return JS_EXCEPTION;
    if (argc < 5)
        return JS_ThrowTypeError(ctx, "argument 5 (address) is missing");
    r = wn_sockaddr_from_js(ctx, argv[4], &ss, &len);
    if (r == WN_THROWN)
        return JS_EXCEPTION;
    if (r < 0)
        return JS_NewInt32(ctx, r);
    do
        n = sendto(fd, data, length, flags | MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&ss, len);
    while (n < 0 && errno == EINTR);
    return wn_result(ctx, n, errno);
}

/*
 * recvfrom(fd, buffer, offset, length, flags = 0) -> [bytes, address] | [-errno, null].
 * The address is the sender's: { family, path } for unix (path '' when the sender is
 * unnamed), { family, address, port } for UDP, { family, pid, groups } for netlink
 * (pid 0 is the kernel).
 */
static JSValue js_recvfrom(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    uint8_t *data;
    size_t length;
    ssize_t n;
    int fd, flags, err;
    JSValue result, address;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd) || wn_arg_range(ctx, argc, argv, 1, &data, &length) ||
        wn_arg_int_or(ctx, argc, argv, 4, "flags", 0, &flags))
        return JS_EXCEPTION;
    do {
        len = sizeof(ss);
        n = recvfrom(fd, data, length, flags | MSG_DONTWAIT, (struct sockaddr *)&ss, &len);
    } while (n < 0 && errno == EINTR);
    err = n < 0 ? errno : 0;
    address = n < 0 ? JS_NULL : wn_sockaddr_to_js(ctx, &ss, len);
    if (JS_IsException(address))
        return address;
    result = JS_NewArray(ctx);
    if (JS_IsException(result)) {
        JS_FreeValue(ctx, address);
        return result;
    }
    JS_SetPropertyUint32(ctx, result, 0, n < 0 ? JS_NewInt32(ctx, -err) : JS_NewInt64(ctx, n));
    JS_SetPropertyUint32(ctx, result, 1, address);
    return result;
}

static const JSCFunctionListEntry io_funcs[] = {
    JS_CFUNC_DEF("send", 5, js_send),
    JS_CFUNC_DEF("recv", 5, js_recv),
    JS_CFUNC_DEF("sendto", 6, js_sendto),
    JS_CFUNC_DEF("recvfrom", 5, js_recvfrom),
};

const struct wn_exports wn_io_exports = { io_funcs, sizeof(io_funcs) / sizeof(io_funcs[0]) };
