// The one rollup setup every wrtkit bundle uses (host, plugins, test entries, benches).
// Bundles are ESM that must run on QuickJS `qjs` and on Node.js, so:
//  - TypeScript goes through esbuild with the repo's tsconfig (legacy decorators for
//    tsyringe), target es2022, which qjs 2025-04-26 runs natively;
//  - packages resolve to their ESM builds, never their browser builds;
//  - `node:*` and qjs's `std`/`os` stay external and stay dynamic imports: each
//    Platform imports its engine's built-ins lazily, so one bundle serves both engines;
//  - Node's `util` is replaced by a shim (tapable needs only util.deprecate);
//  - CommonJS-only packages (tapable, ajv, semver, reflect-metadata) are converted to
//    ESM by esbuild, one package at a time (@rollup/plugin-commonjs is not installed).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import json from '@rollup/plugin-json';
import alias from '@rollup/plugin-alias';
import terser from '@rollup/plugin-terser';
import { build as esbuildBuild } from 'esbuild';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Module ids replaced in every bundle: Node built-ins that libraries reach for. */
export const aliases = {
  util: path.join(repoRoot, 'core/src/shims/util.ts'),
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

const CJS_PREFIX = '\0wrtkit-cjs:';
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Converts CommonJS packages to ESM with esbuild. A bare import that resolves to a
 * CommonJS file inside node_modules becomes a virtual module: esbuild bundles that
 * file with its own requires and re-exports module.exports as the default export and
 * its keys as named exports (the names are read by loading the module in Node at build
 * time, as Node's own ESM/CJS interop would expose them).
 */
function commonjsPackages() {
  const cjsCache = new Map();
  function isCommonJs(file, code, parse) {
    if (cjsCache.has(file)) return cjsCache.get(file);
    let cjs = false;
    if (/\.cjs$/.test(file)) cjs = true;
    else if (/\.js$/.test(file) && !packageIsModule(file)) {
      try {
        const ast = parse(code);
        const esm = ast.body.some((n) => /^(Import|Export)/.test(n.type));
        cjs = !esm && /\b(require\s*\(|module\.exports|exports\.)/.test(code);
      } catch {
        cjs = true; // not parseable as a module (e.g. `with`, octal): treat as script
      }
    }
    cjsCache.set(file, cjs);
    return cjs;
  }
  return {
    name: 'wrtkit-commonjs-packages',
    async resolveId(source, importer, options) {
      if (source.startsWith('\0') || source.startsWith('.') || path.isAbsolute(source) || isExternal(source)) return null;
      if (importer?.startsWith(CJS_PREFIX)) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (!resolved || resolved.external || !resolved.id.includes(`${path.sep}node_modules${path.sep}`)) return null;
      const code = fs.readFileSync(resolved.id, 'utf8');
      if (!isCommonJs(resolved.id, code, (c) => this.parse(c))) return null;
      return { id: CJS_PREFIX + resolved.id, moduleSideEffects: true };
    },
    async load(id) {
      if (!id.startsWith(CJS_PREFIX)) return null;
      const file = id.slice(CJS_PREFIX.length);
      let names = [];
      try {
        const exported = createRequire(file)(file);
        if (exported && (typeof exported === 'object' || typeof exported === 'function')) {
          names = Object.keys(exported).filter((k) => k !== 'default' && k !== '__esModule' && IDENTIFIER.test(k));
        }
      } catch {
        // not loadable in Node (browser-only globals, ...): default export only
      }
      const lines = [`const m = require(${JSON.stringify(file)});`, 'export default m;'];
      names.forEach((name, i) => lines.push(`const e${i} = m[${JSON.stringify(name)}];`, `export { e${i} as ${name} };`));
      const result = await esbuildBuild({
        stdin: { contents: lines.join('\n'), resolveDir: path.dirname(file), sourcefile: `${file}?esm`, loader: 'js' },
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'neutral',
        mainFields: ['module', 'main'],
        target: 'es2022',
        logLevel: 'silent',
        plugins: [
          {
            name: 'wrtkit-aliases',
            setup(build) {
              build.onResolve({ filter: /^(node:)?[\w./-]+$/ }, (args) => {
                const bare = args.path.replace(/^node:/, '');
                return Object.hasOwn(aliases, bare) ? { path: aliases[bare] } : undefined;
              });
            },
          },
        ],
      });
      const out = result.outputFiles[0];
      if (!out) throw new Error(`esbuild produced nothing for ${file}`);
      return { code: out.text, map: null };
    },
  };
}

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

const moduleTypeCache = new Map();
/** True when the nearest package.json says "type": "module". */
function packageIsModule(file) {
  let dir = path.dirname(file);
  const seen = [];
  let result = false;
  for (;;) {
    if (moduleTypeCache.has(dir)) {
      result = moduleTypeCache.get(dir);
      break;
    }
    seen.push(dir);
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        result = JSON.parse(fs.readFileSync(pkg, 'utf8')).type === 'module';
      } catch {
        result = false;
      }
      break;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of seen) moduleTypeCache.set(d, result);
  return result;
}

/** The plugin list for every wrtkit bundle. */
export function wrtkitPlugins({ minify = false, sourceMap = false } = {}) {
  return [
    alias({
      entries: Object.entries(aliases).map(([find, replacement]) => ({ find: new RegExp(`^(node:)?${find}$`), replacement })),
    }),
    commonjsPackages(),
    nodeResolve({
      // ESM entries first; the `browser` field is never used (our engines are not browsers).
      mainFields: ['module', 'main'],
      exportConditions: ['import', 'module', 'default'],
      browser: false,
      preferBuiltins: false,
      extensions: ['.ts', '.mjs', '.js', '.json'],
    }),
    json(),
    esbuild({
      target: 'es2022',
      // experimentalDecorators and useDefineForClassFields come from the tsconfig.json
      // nearest to each file (the root one extends tsconfig.base.json).
      sourceMap,
      minify: false,
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
