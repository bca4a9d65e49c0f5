/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Argument checks shared by every function of the module. Arguments are strict on
 * purpose: a file descriptor passed as a string or a forgotten length is a bug in the
 * TypeScript layer, and a TypeError says so at once, where JS_ToInt32's quiet
 * conversion (undefined -> 0, which is stdin) would act on the wrong descriptor.
 */
#include <stdint.h>
#include <string.h>

#include "native.h"

int wn_arg_int(JSContext *ctx, int argc, JSValueConst *argv, int index, const char *what, int *out)
{
    int32_t value;

    if (index >= argc || !JS_IsNumber(argv[index])) {
        JS_ThrowTypeError(ctx, "argument %d (%s) must be a number", index + 1, what);
        return WN_THROWN;
    }
    if (JS_ToInt32(ctx, &value, argv[index]))
        return WN_THROWN;
    *out = value;
    return 0;
}

int wn_arg_int_or(JSContext *ctx, int argc, JSValueConst *argv, int index, const char *what, int fallback,
                  int *out)
{
    if (index >= argc || JS_IsUndefined(argv[index])) {
        *out = fallback;
        return 0;
    }
    return wn_arg_int(ctx, argc, argv, index, what, out);
}

int wn_arg_range(JSContext *ctx, int argc, JSValueConst *argv, int index, uint8_t **data, size_t *length)
{
    uint64_t offset, count;
    size_t size;
    uint8_t *buffer;

    if (index + 2 >= argc) {
        JS_ThrowTypeError(ctx, "expected (buffer, offset, length) from argument %d", index + 1);
        return WN_THROWN;
    }
    if (JS_ToIndex(ctx, &offset, argv[index + 1]) || JS_ToIndex(ctx, &count, argv[index + 2]))
        return WN_THROWN;
    /* Throws a TypeError itself when the value is not an ArrayBuffer (or is detached);
     * an empty buffer may have no storage at all and comes back as NULL too. */
    buffer = JS_GetArrayBuffer(ctx, &size, argv[index]);
    if (!buffer && JS_HasException(ctx))
        return WN_THROWN;
    if (!buffer)
        size = 0;
    if (offset > size || count > size - offset) {
        JS_ThrowRangeError(ctx, "range %llu+%llu is outside the %zu-byte buffer", (unsigned long long)offset,
                           (unsigned long long)count, size);
        return WN_THROWN;
    }
    *data = buffer ? buffer + offset : NULL;
    *length = (size_t)count;
    return 0;
}

const char *wn_arg_string(JSContext *ctx, int argc, JSValueConst *argv, int index, const char *what,
                          size_t *length)
{
    if (index >= argc || !JS_IsString(argv[index])) {
        JS_ThrowTypeError(ctx, "argument %d (%s) must be a string", index + 1, what);
        return NULL;
    }
    return JS_ToCStringLen(ctx, length, argv[index]);
}

JSValue wn_result(JSContext *ctx, long result, int saved_errno)
{
    if (result < 0)
        return JS_NewInt32(ctx, -saved_errno);
    return JS_NewInt64(ctx, (int64_t)result);
}
