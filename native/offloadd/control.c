// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (the TypeScript plugin's way in): a unix stream socket, newline-
 * delimited JSON, one request line answered by one response line, any number of clients.
 *
 *   {"id":N,"cmd":"...","args":{...}}
 *   {"id":N,"ok":true,"result":{...}}
 *   {"id":N,"ok":false,"error":{"code":"...","message":"..."}}
 *
 * The commands are a table (name, handler); README.md documents each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "offloadd.h"

#define MAX_CLIENTS 32
#define MAX_REQUEST (1 << 20)

struct client {
	int fd;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len;
};

static int listen_fd = -1;
static char *socket_path;
static struct client clients[MAX_CLIENTS];

static json_t *error_json(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *error_json(const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s,s:s}", "code", code, "message", msg);
}

/* ---- commands --------------------------------------------------------------------------- */

static json_t *do_configure(json_t *args, json_t **error)
{
	return cmd_configure(args, error);
}

static json_t *do_status(json_t *args, json_t **error)
{
	(void)args;
	(void)error;
	return cmd_status();
}

static json_t *do_flows(json_t *args, json_t **error)
{
	(void)args;
	(void)error;
	return json_pack("{s:o}", "flows", flows_json());
}

static json_t *do_flush(json_t *args, json_t **error)
{
	(void)args;
	(void)error;
	return json_pack("{s:I}", "removed", (json_int_t)flows_flush_all());
}

static json_t *do_flush_client(json_t *args, json_t **error)
{
	const char *mac = json_string_value(json_object_get(args, "mac"));
	const char *address = json_string_value(json_object_get(args, "address"));
	uint8_t bytes[16];
	uint8_t family;

	if (mac && !address) {
		if (!mac_parse(mac, bytes)) {
			*error = error_json("bad_args", "mac: not a MAC address: %s", mac);
			return NULL;
		}
		return json_pack("{s:I}", "removed", (json_int_t)flows_flush_mac(bytes));
	}
	if (address && !mac) {
		family = addr_parse(address, bytes);
		if (!family) {
			*error = error_json("bad_args", "address: not an IP address: %s", address);
			return NULL;
		}
		return json_pack("{s:I}", "removed", (json_int_t)flows_flush_addr(family, bytes));
	}
	*error = error_json("bad_args", "flush_client needs one of mac or address");
	return NULL;
}

static const struct command {
	const char *name;
	json_t *(*handler)(json_t *args, json_t **error);
} commands[] = {
	{ "configure", do_configure },
	{ "status", do_status },
	{ "flows", do_flows },
	{ "flush_client", do_flush_client },
	{ "flush", do_flush },
};

static json_t *dispatch(const char *line)
{
	json_error_t jerr;
	json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, &jerr), *id, *args, *result, *error = NULL, *reply;
	const char *cmd;

	if (!req || !json_is_object(req)) {
		json_decref(req);
		return json_pack("{s:n,s:b,s:o}", "id", "ok", 0, "error",
				 error_json("bad_request", "not a JSON object: %s", req ? "" : jerr.text));
	}
	id = json_object_get(req, "id");
	id = id ? json_incref(id) : json_null();
	cmd = json_string_value(json_object_get(req, "cmd"));
	args = json_object_get(req, "args");
	if (args && !json_is_object(args)) {
		error = error_json("bad_request", "args must be an object");
	} else if (!cmd) {
		error = error_json("bad_request", "cmd missing");
	} else {
		const struct command *c = NULL;

		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(commands[i].name, cmd))
				c = &commands[i];
		if (!c) {
			error = error_json("unknown_command", "unknown command: %s", cmd);
		} else {
			json_t *empty = args ? NULL : json_object();

			result = c->handler(args ? args : empty, &error);
			json_decref(empty);
			if (result) {
				reply = json_pack("{s:o,s:b,s:o}", "id", id, "ok", 1, "result", result);
				json_decref(req);
				return reply;
			}
			if (!error)
				error = error_json("internal", "%s failed", cmd);
		}
	}
	reply = json_pack("{s:o,s:b,s:o}", "id", id, "ok", 0, "error", error);
	json_decref(req);
	return reply;
}

/* ---- the socket ------------------------------------------------------------------------- */

int control_open(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		return -errno;
	unlink(path);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(listen_fd, 16))
		return -errno;
	socket_path = strdup(path);
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	return 0;
}

int control_listen_fd(void)
{
	return listen_fd;
}

static void client_close(struct client *c)
{
	loop_del_fd(c->fd);
	close(c->fd);
	free(c->in);
	free(c->out);
	*c = (struct client){ .fd = -1 };
}

void control_close(void)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(&clients[i]);
	if (listen_fd >= 0)
		close(listen_fd);
	if (socket_path) {
		unlink(socket_path);
		free(socket_path);
	}
}

void control_accept(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (clients[i].fd < 0)
				c = &clients[i];
		if (!c || loop_add_fd(fd, EPOLLIN)) {
			log_warn("control: too many clients");
			close(fd);
			continue;
		}
		*c = (struct client){ .fd = fd };
	}
}

/* Writes what is queued; false when the client is gone. */
static bool client_flush(struct client *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN)
				break;
			return false;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	loop_mod_fd(c->fd, EPOLLIN | (c->out_len ? EPOLLOUT : 0));
	return true;
}

static void client_queue(struct client *c, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	size_t len;
	char *grown;

	json_decref(reply);
	if (!text)
		return;
	len = strlen(text);
	grown = realloc(c->out, c->out_len + len + 1);
	if (grown) {
		c->out = grown;
		memcpy(c->out + c->out_len, text, len);
		c->out[c->out_len + len] = '\n';
		c->out_len += len + 1;
	}
	free(text);
}

bool control_client_io(int fd, uint32_t events)
{
	struct client *c = NULL;
	char buf[65536];

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd == fd)
			c = &clients[i];
	if (!c)
		return false;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			char *grown;

			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				client_close(c);
				return true;
			}
			if (n < 0)
				break;
			if (c->in_len + (size_t)n > MAX_REQUEST) {
				client_close(c);
				return true;
			}
			grown = realloc(c->in, c->in_len + (size_t)n + 1);
			if (!grown) {
				client_close(c);
				return true;
			}
			c->in = grown;
			memcpy(c->in + c->in_len, buf, (size_t)n);
			c->in_len += (size_t)n;
		}
		for (;;) {
			char *nl = c->in ? memchr(c->in, '\n', c->in_len) : NULL;
			size_t line_len;

			if (!nl)
				break;
			*nl = 0;
			line_len = (size_t)(nl - c->in);
			if (line_len && !(line_len == 1 && c->in[0] == '\r'))
				client_queue(c, dispatch(c->in));
			memmove(c->in, nl + 1, c->in_len - line_len - 1);
			c->in_len -= line_len + 1;
		}
	}
	if (!client_flush(c))
		client_close(c);
	return true;
}
