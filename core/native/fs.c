/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The file-system calls qjs's `os` module lacks. fsync and a directory fsync make the
 * host's atomic writes (temp file, fsync, rename, fsync of the directory) durable across
 * a power cut, which routers see often; chmod restricts the control socket to root after
 * bind() created it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "native.h"

/* fsync(fd) -> 0 | -errno */
static JSValue js_fsync(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd, r;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 0, "fd", &fd))
        return JS_EXCEPTION;
    do
        r = fsync(fd);
    while (r < 0 && errno == EINTR);
    return wn_result(ctx, r, errno);
}

/*
 * fsyncDir(path) -> 0 | -errno: makes the directory's entries (a rename into it) durable.
 * Some file systems refuse fsync on a directory with EINVAL; the caller decides whether
 * that matters.
 */
static JSValue js_fsync_dir(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path;
    int fd, r, err;

    (void)this_val;
    path = wn_arg_string(ctx, argc, argv, 0, "path", NULL);
    if (!path)
        return JS_EXCEPTION;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    err = errno;
    JS_FreeCString(ctx, path);
    if (fd < 0)
        return JS_NewInt32(ctx, -err);
    do
        r = fsync(fd);
    while (r < 0 && errno == EINTR);
    err = errno;
    close(fd);
    return wn_result(ctx, r, err);
}

/* chmod(path, mode) -> 0 | -errno */
static JSValue js_chmod(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path;
    int mode, r, err;

    (void)this_val;
    if (wn_arg_int(ctx, argc, argv, 1, "mode", &mode))
        return JS_EXCEPTION;
    path = wn_arg_string(ctx, argc, argv, 0, "path", NULL);
    if (!path)
        return JS_EXCEPTION;
    r = chmod(path, (mode_t)mode);
    err = errno;
    JS_FreeCString(ctx, path);
    return wn_result(ctx, r, err);
}

static const JSCFunctionListEntry fs_funcs[] = {
    JS_CFUNC_DEF("fsync", 1, js_fsync),
    JS_CFUNC_DEF("fsyncDir", 1, js_fsync_dir),
    JS_CFUNC_DEF("chmod", 2, js_chmod),
};

const struct wn_exports wn_fs_exports = { fs_funcs, sizeof(fs_funcs) / sizeof(fs_funcs[0]) };
