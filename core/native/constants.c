/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The numbers JavaScript needs to speak to the socket layer, taken from the C headers of
 * the target. They are not the same everywhere: on MIPS SOCK_STREAM is 2 and SOCK_DGRAM
 * 1, SOL_SOCKET is 0xffff, SO_REUSEADDR 4, and errno values above 34 differ (EAGAIN 11
 * but EINPROGRESS 150, ECONNREFUSED 146). TypeScript reads them from here and never
 * writes one down itself.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "native.h"

#define NUM(name) JS_PROP_INT32_DEF(#name, name, JS_PROP_ENUMERABLE)

static const JSCFunctionListEntry constants[] = {
    JS_PROP_INT32_DEF("VERSION", WN_VERSION, JS_PROP_ENUMERABLE),

    /* address families and socket types */
    NUM(AF_UNSPEC),
    NUM(AF_UNIX),
    NUM(AF_INET),
    NUM(AF_INET6),
    NUM(AF_NETLINK),
    NUM(SOCK_STREAM),
    NUM(SOCK_DGRAM),
    NUM(SOCK_RAW),
    NUM(SOCK_SEQPACKET),

    /* protocols and option levels */
    NUM(IPPROTO_IP),
    NUM(IPPROTO_IPV6),
    NUM(IPPROTO_TCP),
    NUM(IPPROTO_UDP),
    NUM(SOL_SOCKET),
    NUM(SOL_NETLINK),

    /* options (int-valued) */
    NUM(SO_REUSEADDR),
    NUM(SO_KEEPALIVE),
    NUM(SO_BROADCAST),
    NUM(SO_RCVBUF),
    NUM(SO_SNDBUF),
    NUM(SO_ERROR),
    NUM(SO_PASSCRED),
    NUM(TCP_NODELAY),
    NUM(IPV6_V6ONLY),
    NUM(NETLINK_ADD_MEMBERSHIP),
    NUM(NETLINK_DROP_MEMBERSHIP),
    NUM(NETLINK_NO_ENOBUFS),

    /* send/recv flags and shutdown directions */
    NUM(MSG_PEEK),
    NUM(MSG_TRUNC),
    NUM(MSG_DONTWAIT),
    NUM(MSG_NOSIGNAL),
    NUM(SHUT_RD),
    NUM(SHUT_WR),
    NUM(SHUT_RDWR),

    /* netlink protocols, rtnetlink groups and message types */
    NUM(NETLINK_ROUTE),
    NUM(NETLINK_GENERIC),
    NUM(NETLINK_KOBJECT_UEVENT),
    NUM(RTMGRP_LINK),
    NUM(RTMGRP_NEIGH),
    NUM(RTMGRP_IPV4_IFADDR),
    NUM(RTMGRP_IPV4_ROUTE),
    NUM(RTMGRP_IPV6_IFADDR),
    NUM(RTMGRP_IPV6_ROUTE),
    NUM(RTM_NEWLINK),
    NUM(RTM_DELLINK),
    NUM(RTM_GETLINK),
    NUM(RTM_NEWADDR),
    NUM(RTM_DELADDR),
    NUM(RTM_GETADDR),
    NUM(RTM_NEWROUTE),
    NUM(RTM_DELROUTE),
    NUM(RTM_GETROUTE),
    NUM(NLMSG_NOOP),
    NUM(NLMSG_ERROR),
    NUM(NLMSG_DONE),
    NUM(NLM_F_REQUEST),
    NUM(NLM_F_MULTI),
    NUM(NLM_F_ACK),
    NUM(NLM_F_DUMP),

    /* errno values (per arch: see above) */
    NUM(EPERM),
    NUM(ENOENT),
    NUM(EINTR),
    NUM(EIO),
    NUM(EBADF),
    NUM(EAGAIN),
    NUM(EWOULDBLOCK),
    NUM(ENOMEM),
    NUM(EACCES),
    NUM(EBUSY),
    NUM(EEXIST),
    NUM(ENOTDIR),
    NUM(EISDIR),
    NUM(EINVAL),
    NUM(ENFILE),
    NUM(EMFILE),
    NUM(ENOSPC),
    NUM(EROFS),
    NUM(EPIPE),
    NUM(ENAMETOOLONG),
    NUM(ENOSYS),
    NUM(ENOTEMPTY),
    NUM(ELOOP),
    NUM(ENOTSOCK),
    NUM(EDESTADDRREQ),
    NUM(EMSGSIZE),
    NUM(EPROTOTYPE),
    NUM(ENOPROTOOPT),
    NUM(EPROTONOSUPPORT),
    NUM(EOPNOTSUPP),
    NUM(EAFNOSUPPORT),
    NUM(EADDRINUSE),
    NUM(EADDRNOTAVAIL),
    NUM(ENETDOWN),
    NUM(ENETUNREACH),
    NUM(ECONNABORTED),
    NUM(ECONNRESET),
    NUM(ENOBUFS),
    NUM(EISCONN),
    NUM(ENOTCONN),
    NUM(ETIMEDOUT),
    NUM(ECONNREFUSED),
    NUM(EHOSTUNREACH),
    NUM(EALREADY),
    NUM(EINPROGRESS),
    NUM(EDQUOT),
};

const struct wn_exports wn_constants_exports = { constants, sizeof(constants) / sizeof(constants[0]) };
