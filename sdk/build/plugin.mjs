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

/** Command names, as core/src/plugin/command.ts has them: what a user types, a file in /usr/bin. */
const COMMAND_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * The manifest the host reads before loading code: the package's "wrtkit" field +
 * name/version. Its `commands` name TypeScript sources in package.json and the built
 * bundles (`<command>.js`, beside index.js) in the manifest.
 */
export function manifestFor(pkg) {
  if (!pkg.wrtkit) throw new Error(`${pkg.name}: package.json has no "wrtkit" field (the plugin manifest)`);
  const { name, commands, ...rest } = pkg.wrtkit;
  const built = {};
  for (const command of Object.keys(commands ?? {})) {
    if (!COMMAND_NAME.test(command) || command === 'index') {
      throw new Error(
        `${pkg.name}: command name "${command}" is not valid: 1 to 32 lower-case letters, digits, - and _, a letter first (and not "index", the plugin's entry)`,
      );
    }
    built[command] = `${command}.js`;
  }
  return {
    name: name ?? pkg.name.replace(/^@[^/]+\//, ''),
    version: pkg.version,
    ...(pkg.description && !rest.description ? { description: pkg.description } : {}),
    ...rest,
    entry: 'index.js',
    ...(commands ? { commands: built } : {}),
  };
}

/**
 * Builds the plugin in `dir` (package.json with a "wrtkit" field, src/index.ts) into
 * `<out>/<name>/index.js` + `manifest.json`, and each command of `wrtkit.commands` into
 * `<out>/<name>/<command>.js` (bundled the same way: shared modules come from the host).
 * Returns the manifest, the entry's sizes, and each command's under `commands`.
 */
export async function buildPlugin(dir, out, { minify = true, onWarning } = {}) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const manifest = manifestFor(pkg);
  const target = path.join(out, manifest.name);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  const bundle = (input, file) => bundleTo(input, path.join(target, file), { minify, plugins: [runtimeBridge()], onWarning });
  const result = await bundle(path.join(dir, 'src/index.ts'), 'index.js');
  const commands = {};
  for (const [command, source] of Object.entries(pkg.wrtkit.commands ?? {})) {
    const input = path.resolve(dir, source);
    if (!fs.existsSync(input)) throw new Error(`${pkg.name}: command ${command}: ${source} does not exist`);
    commands[command] = await bundle(input, manifest.commands[command]);
  }
  fs.writeFileSync(path.join(target, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, dir: target, ...result, commands };
}
