// Building a plugin: its TypeScript into one ESM bundle that runs on QuickJS and Node
// (shared modules come from the host, see runtime-bridge.mjs), beside the manifest the
// host reads before it loads any code. Used by `wrtkit-sdk build` and the repository's
// scripts/build.mjs alike.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { rollup } from 'rollup';
import { isExternal, outputOptions, wrtkitPlugins } from './rollup-plugins.mjs';
import { runtimeBridge } from './runtime-bridge.mjs';

/** Bundles `input` into `file`; returns its size and gzipped size. */
export async function bundleTo(input, file, { minify = true, plugins = [], onWarning } = {}) {
  const build = await rollup({
    input,
    external: isExternal,
    plugins: [...plugins, ...wrtkitPlugins({ minify })],
    onwarn(warning) {
      // On the router nothing but the engine's built-ins is there to resolve an import.
      if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(`${input}: ${warning.message}`);
      if (warning.code === 'CIRCULAR_DEPENDENCY' || warning.code === 'THIS_IS_UNDEFINED') return;
      onWarning?.(warning.message);
    },
  });
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await build.write({ ...outputOptions, file });
  } finally {
    await build.close();
  }
  const bytes = fs.readFileSync(file);
  return { file, size: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
}

/** The manifest the host reads before loading code: the package's "wrtkit" field + name/version. */
export function manifestFor(pkg) {
  if (!pkg.wrtkit) throw new Error(`${pkg.name}: package.json has no "wrtkit" field (the plugin manifest)`);
  const { name, ...rest } = pkg.wrtkit;
  return {
    name: name ?? pkg.name.replace(/^@[^/]+\//, ''),
    version: pkg.version,
    ...(pkg.description && !rest.description ? { description: pkg.description } : {}),
    ...rest,
    entry: 'index.js',
  };
}

/**
 * Builds the plugin in `dir` (package.json with a "wrtkit" field, src/index.ts) into
 * `<out>/<name>/index.js` + `manifest.json`. Returns the manifest and sizes.
 */
export async function buildPlugin(dir, out, { minify = true, onWarning } = {}) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const manifest = manifestFor(pkg);
  const target = path.join(out, manifest.name);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  const result = await bundleTo(path.join(dir, 'src/index.ts'), path.join(target, 'index.js'), {
    minify,
    plugins: [runtimeBridge()],
    onWarning,
  });
  fs.writeFileSync(path.join(target, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, dir: target, ...result };
}
