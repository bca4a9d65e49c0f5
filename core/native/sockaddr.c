/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Socket addresses between JavaScript objects and struct sockaddr. JavaScript sees plain
 * objects with numeric families (the AF_* constants this module exports), address
 * strings and numbers in host order, so nothing above this file deals with byte order
 * or struct layouts, which differ between the arches OpenWrt runs on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#include "native.h"

/* Reads a numeric property; `*present` tells whether it was there at all. 0 or WN_THROWN. */
static int get_number(JSContext *ctx, JSValueConst obj, const char *name, int64_t *out, int *present)
{
    JSValue value = JS_GetPropertyStr(ctx, obj, name);
    int ret = 0;

    if (JS_IsException(value))
        return WN_THROWN;
    *present = !JS_IsUndefined(value);
    if (*present) {
        if (!JS_IsNumber(value)) {
            JS_ThrowTypeError(ctx, "address.%s must be a number", name);
            ret = WN_THROWN;
        } else if (JS_ToInt64(ctx, out, value)) {
            ret = WN_THROWN;
        }
    }
    JS_FreeValue(ctx, value);
    return ret;
}

/* Reads a string property (UTF-8; free with JS_FreeCString); NULL when thrown. */
static const char *get_string(JSContext *ctx, JSValueConst obj, const char *name, size_t *length)
{
    JSValue value = JS_GetPropertyStr(ctx, obj, name);
    const char *text = NULL;

    if (JS_IsException(value))
        return NULL;
    if (!JS_IsString(value))
        JS_ThrowTypeError(ctx, "address.%s must be a string", name);
    else
        text = JS_ToCStringLen(ctx, length, value);
    JS_FreeValue(ctx, value);
    return text;
}

static int unix_from_js(JSContext *ctx, JSValueConst value, struct sockaddr_un *sun, socklen_t *len)
{
    size_t length;
    const char *path = get_string(ctx, value, "path", &length);

    if (!path)
        return WN_THROWN;
    /* The kernel takes sun_path without a terminating NUL when it is full; we keep room
     * for one so that the path is also a valid C string for unlink() on the JS side. */
    if (length >= sizeof(sun->sun_path)) {
        JS_FreeCString(ctx, path);
        return -ENAMETOOLONG;
    }
    memcpy(sun->sun_path, path, length);
    JS_FreeCString(ctx, path);
    /* A pathname counts up to its NUL; an abstract name (leading NUL) by its length; an
     * empty path asks bind() for an autobind name. */
    if (length > 0 && sun->sun_path[0] != '\0')
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length + 1);
    else
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length);
    return 0;
}

static int inet_from_js(JSContext *ctx, JSValueConst value, int family, struct sockaddr_storage *ss,
                        socklen_t *len)
{
    size_t length;
    int64_t port = 0, scope = 0;
    int present, parsed;
    const char *address;

    if (get_number(ctx, value, "port", &port, &present))
        return WN_THROWN;
    if (!present || port < 0 || port > 65535)
        return -EINVAL;
    if (family == AF_INET6 && get_number(ctx, value, "scopeId", &scope, &present))
        return WN_THROWN;
    address = get_string(ctx, value, "address", &length);
    if (!address)
        return WN_THROWN;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        parsed = inet_pton(AF_INET, address, &sin->sin_addr);
        *len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_scope_id = (uint32_t)scope;
        parsed = inet_pton(AF_INET6, address, &sin6->sin6_addr);
        *len = sizeof(*sin6);
    }
    /* A string with an embedded NUL parses as its prefix; refuse it like garbage. */
    if (strlen(address) != length)
        parsed = 0;
    JS_FreeCString(ctx, address);
    return parsed == 1 ? 0 : -EINVAL;
}

static int netlink_from_js(JSContext *ctx, JSValueConst value, struct sockaddr_nl *snl, socklen_t *len)
{
    int64_t pid = 0, groups = 0;
    int present;

    if (get_number(ctx, value, "pid", &pid, &present) || get_number(ctx, value, "groups", &groups, &present))
        return WN_THROWN;
    if (pid < 0 || pid > UINT32_MAX || groups < 0 || groups > UINT32_MAX)
        return -EINVAL;
    snl->nl_family = AF_NETLINK;
    snl->nl_pid = (uint32_t)pid;
    snl->nl_groups = (uint32_t)groups;
    *len = sizeof(*snl);
    return 0;
}

int wn_sockaddr_from_js(JSContext *ctx, JSValueConst value, struct sockaddr_storage *ss, socklen_t *len)
{
    int64_t family;
    int present;

    if (!JS_IsObject(value)) {
        JS_ThrowTypeError(ctx, "an address must be an object with a family");
        return WN_THROWN;
    }
    if (get_number(ctx, value, "family", &family, &present))
        return WN_THROWN;
    if (!present) {
        JS_ThrowTypeError(ctx, "address.family is missing");
        return WN_THROWN;
    }
    memset(ss, 0, sizeof(*ss));
    ss->ss_family = (sa_family_t)family;
    switch (family) {
    case AF_UNIX:
        return unix_from_js(ctx, value, (struct sockaddr_un *)ss, len);
    case AF_INET:
    case AF_INET6:
        return inet_from_js(ctx, value, (int)family, ss, len);
    case AF_NETLINK:
        return netlink_from_js(ctx, value, (struct sockaddr_nl *)ss, len);
    default:
        return -EAFNOSUPPORT;
    }
}

/* Sets obj[name] = value; the value is consumed. */
static void put(JSContext *ctx, JSValueConst obj, const char *name, JSValue value)
{
    JS_DefinePropertyValueStr(ctx, obj, name, value, JS_PROP_C_W_E);
}

JSValue wn_sockaddr_to_js(JSContext *ctx, const struct sockaddr_storage *ss, socklen_t len)
{
    char text[INET6_ADDRSTRLEN];
    JSValue obj = JS_NewObject(ctx);

    if (JS_IsException(obj))
        return obj;
    /* An unnamed unix peer comes back with only (or not even) the family. */
    put(ctx, obj, "family", JS_NewInt32(ctx, len >= sizeof(sa_family_t) ? ss->ss_family : AF_UNSPEC));
    switch (len >= sizeof(sa_family_t) ? ss->ss_family : AF_UNSPEC) {
    case AF_UNIX: {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
        size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
        if (n > sizeof(sun->sun_path))
            n = sizeof(sun->sun_path);
        /* Pathnames end at their NUL; abstract names keep every byte, the leading NUL too. */
        if (n > 0 && sun->sun_path[0] != '\0')
            n = strnlen(sun->sun_path, n);
        put(ctx, obj, "path", JS_NewStringLen(ctx, sun->sun_path, n));
        break;
    }
    case AF_INET: {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
        put(ctx, obj, "address", JS_NewString(ctx, text));
        put(ctx, obj, "port", JS_NewInt32(ctx, ntohs(sin->sin_port)));
        break;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
        put(ctx, obj, "address", JS_NewString(ctx, text));
        put(ctx, obj, "port", JS_NewInt32(ctx, ntohs(sin6->sin6_port)));
        put(ctx, obj, "scopeId", JS_NewUint32(ctx, sin6->sin6_scope_id));
        break;
    }
    case AF_NETLINK: {
        const struct sockaddr_nl *snl = (const struct sockaddr_nl *)ss;
        put(ctx, obj, "pid", JS_NewUint32(ctx, snl->nl_pid));
        put(ctx, obj, "groups", JS_NewUint32(ctx, snl->nl_groups));
        break;
    }
    default:
        break;
    }
    return obj;
}
