// The one rollup setup every wrtkit bundle uses (host, plugins, test entries, benches).
// It ships in @wrtkit/sdk (build/), so plugin authors build with exactly this.
// Bundles are ESM that must run on QuickJS `qjs` and on Node.js, so:
//  - TypeScript goes through esbuild with the repo's tsconfig (legacy decorators for
//    tsyringe), target es2022, which qjs 2025-04-26 runs natively;
//  - packages resolve to their ESM builds, never their browser builds;
//  - `node:*` and qjs's `std`/`os` stay external and stay dynamic imports: each
//    Platform imports its engine's built-ins lazily, so one bundle serves both engines;
//  - Node's `util` is replaced by a shim (tapable needs only util.deprecate);
//  - CommonJS-only packages (tapable, semver, reflect-metadata) go through
//    @rollup/plugin-commonjs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import json from '@rollup/plugin-json';
import alias from '@rollup/plugin-alias';
import terser from '@rollup/plugin-terser';
import commonjs from '@rollup/plugin-commonjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Module ids replaced in every bundle: Node built-ins that libraries reach for. */
export const aliases = {
  util: path.join(here, 'shims/util.mjs'),
};

/** Modules provided by the engine at run time; never bundled. */
export function isExternal(id) {
  return (
    id.startsWith('node:') ||
    id === 'std' ||
    id === 'os' ||
    // native QuickJS modules (core/native) are loaded from the device's filesystem
    id.endsWith('.so')
  );
}

/**
 * Output for every bundle. qjs decides module vs script from the file name (.mjs) or,
 * for any other name, from the first token (JS_DetectModule: `import` or `export`). A
 * bundle with everything inlined starts with neither, so qjs would parse it as a
 * script and reject its top-level await: the banner makes every bundle a module.
 */
export const outputOptions = { format: 'es', inlineDynamicImports: true, banner: 'export {};' };

/**
 * With inlineDynamicImports, rollup evaluates a module that is only imported
 * dynamically after the entry's code (rollup/rollup#4166, #6010). An entry that runs
 * `await loadPlatform()` at top level then reaches `import('./qjs/index.js')` before
 * that module's namespace exists, and fails. Inlined modules are evaluated eagerly
 * anyway, so we give each importer a static side-effect import of its literal dynamic
 * imports: the targets then run before their importer, as a real import() would have
 * them ready. Appended at the end (imports hoist), so existing source maps stay valid.
 * External targets (`node:*`, `std`, `os`) are left alone: they must stay lazy.
 */
function orderInlinedDynamicImports() {
  return {
    name: 'wrtkit-inlined-dynamic-import-order',
    async transform(code, id) {
      if (!code.includes('import(')) return null;
      const specifiers = new Set();
      const walk = (node) => {
        if (!node || typeof node !== 'object') return;
        if (Array.isArray(node)) return node.forEach(walk);
        if (node.type === 'ImportExpression' && node.source?.type === 'Literal' && typeof node.source.value === 'string') {
          specifiers.add(node.source.value);
        }
        for (const key of Object.keys(node)) if (key !== 'type') walk(node[key]);
      };
      walk(this.parse(code));
      const added = [];
      for (const spec of specifiers) {
        if (isExternal(spec)) continue;
        const resolved = await this.resolve(spec, id);
        if (!resolved || resolved.external) continue;
        added.push(`import ${JSON.stringify(spec)};`);
      }
      return added.length ? { code: `${code}\n${added.join('\n')}\n`, map: null } : null;
    },
  };
}

/** The plugin list for every wrtkit bundle. */
export function wrtkitPlugins({ minify = false, sourceMap = false } = {}) {
  return [
    alias({
      entries: Object.entries(aliases).map(([find, replacement]) => ({ find: new RegExp(`^(node:)?${find}$`), replacement })),
    }),
    nodeResolve({
      // ESM entries first; the `browser` field is never used (our engines are not browsers).
      mainFields: ['module', 'main'],
      exportConditions: ['import', 'module', 'default'],
      browser: false,
      preferBuiltins: false,
      extensions: ['.ts', '.mjs', '.js', '.json'],
    }),
    json(),
    commonjs({ include: /node_modules/, requireReturnsDefault: 'auto' }),
    esbuild({
      target: 'es2022',
      // experimentalDecorators and useDefineForClassFields come from the tsconfig.json
      // nearest to each file (the root one extends tsconfig.base.json).
      sourceMap,
      minify: false,
      // TypeScript in node_modules too: a plugin may import the hooks module another
      // plugin package ships as source (`defineHooks`), as the examples do.
      include: /\.[cm]?[jt]sx?$/,
      exclude: [],
    }),
    orderInlinedDynamicImports(),
    ...(minify
      ? [
          terser({
            module: true,
            ecma: 2020,
            compress: { passes: 2 },
            // Class names show in logs and error reports; keep them.
            keep_classnames: true,
            format: { comments: false },
          }),
        ]
      : []),
  ];
}

/**
 * Bundles `input` into the single ESM file `outFile`. Unresolved imports are errors:
 * on the router nothing but the engine's built-ins is there to resolve them.
 */
export async function bundle(input, outFile, { minify = false, sourceMap = false } = {}) {
  const warnings = [];
  const build = await rollup({
    input,
    external: isExternal,
    plugins: wrtkitPlugins({ minify, sourceMap }),
    onwarn(warning) {
      if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(`bundle ${input}: ${warning.message}`);
      if (warning.code === 'CIRCULAR_DEPENDENCY') return;
      warnings.push(warning.message);
    },
  });
  try {
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    await build.write({ ...outputOptions, file: outFile, sourcemap: sourceMap });
  } finally {
    await build.close();
  }
  return { outFile, bytes: fs.statSync(outFile).size, warnings };
}
