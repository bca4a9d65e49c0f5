/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The module's entry point. qjs loads a `.so` module with dlopen() and calls its
 * `js_init_module`; that is the only symbol this library exports (the Makefile builds
 * with -fvisibility=hidden). The JS_* functions it calls are resolved against the qjs
 * executable itself, which exports them (Debian's and upstream's qjs link with
 * -rdynamic), so the library links against no libquickjs of its own: two copies of the
 * engine in one process would not share a runtime.
 *
 *   import * as native from '/usr/lib/wrtkit/wrtkit-native.so';
 */
#include "native.h"

static const struct wn_exports *const tables[] = {
    &wn_socket_exports,
    &wn_io_exports,
    &wn_fs_exports,
    &wn_constants_exports,
};

#define TABLE_COUNT (sizeof(tables) / sizeof(tables[0]))

/* Runs when the module is instantiated: gives every declared export its value. */
static int init_exports(JSContext *ctx, JSModuleDef *m)
{
    for (size_t i = 0; i < TABLE_COUNT; i++)
        if (JS_SetModuleExportList(ctx, m, tables[i]->list, tables[i]->count))
            return -1;
    return 0;
}

__attribute__((visibility("default"))) JSModuleDef *js_init_module(JSContext *ctx, const char *module_name);

JSModuleDef *js_init_module(JSContext *ctx, const char *module_name)
{
    JSModuleDef *m = JS_NewCModule(ctx, module_name, init_exports);

    if (!m)
        return NULL;
    /* Exports must be declared now, before the importing module is linked. */
    for (size_t i = 0; i < TABLE_COUNT; i++)
        if (JS_AddModuleExportList(ctx, m, tables[i]->list, tables[i]->count))
            return NULL;
    return m;
}
