// Everything the benchmarks run, built fresh into .cache/bench on every run (a few
// seconds) rather than taken from build/: other work in the same checkout may be
// rebuilding build/ at the same time, and a bench must measure what it just built.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { rollup } from 'rollup';
import { bundle, isExternal, outputOptions, repoRoot, wrtkitPlugins } from '../../scripts/rollup-plugins.js';
import { runtimeBridge } from '../../scripts/runtime-bridge.js';

export const benchDir = path.join(repoRoot, '.cache/bench');
const fixtureDir = path.join(repoRoot, 'bench/fixtures/synthetic-plugin');
/** The name baked into the synthetic plugin's source (bench/fixtures/synthetic-plugin/src/index.ts). */
const PLACEHOLDER_NAME = 'bench-synthetic-name';

/** Minified size and gzip -9 size, as scripts/build.mjs reports them. */
export function sizeOf(file) {
  const bytes = fs.readFileSync(file);
  return { bytes: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
}

/**
 * The host bundle (and the example plugins) exactly as `make build` makes them: minified,
 * through scripts/build.mjs itself, only into our own directory.
 */
function buildHost(out) {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/build.mjs'), '--out', out, '--quiet'], { stdio: 'inherit' });
  return { host: path.join(out, 'wrtkit.js'), examplePlugins: path.join(out, 'plugins') };
}

/**
 * The synthetic plugin, bundled once the way scripts/build.mjs bundles a plugin
 * (runtimeBridge first: @wrtkit/core, tsyringe and tapable come from the host). Its
 * generated config code is refreshed from schema.json first, with the repo's gen-config.
 */
async function buildSyntheticPlugin(outFile) {
  execFileSync(
    process.execPath,
    [
      path.join(repoRoot, 'core/scripts/gen-config.mjs'),
      path.join(fixtureDir, 'schema.json'),
      path.join(fixtureDir, 'src/generated'),
    ],
    { stdio: 'inherit' },
  );
  const build = await rollup({
    input: path.join(fixtureDir, 'src/index.ts'),
    external: isExternal,
    plugins: [runtimeBridge(), ...wrtkitPlugins({ minify: true })],
    onwarn(warning) {
      if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(`synthetic plugin: ${warning.message}`);
    },
  });
  try {
    await build.write({ ...outputOptions, file: outFile });
  } finally {
    await build.close();
  }
  const code = fs.readFileSync(outFile, 'utf8');
  if (!code.includes(PLACEHOLDER_NAME)) throw new Error(`${outFile}: placeholder name ${PLACEHOLDER_NAME} not found`);
  return outFile;
}

export const pluginName = (i) => `bench-p${String(i + 1).padStart(3, '0')}`;

/**
 * A plugin dir with `count` installed copies of the synthetic plugin, each under its own
 * name: <dir>/<name>/index.js (the bundle with the name replaced) + manifest.json.
 */
function installCopies(bundleFile, dir, count) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true }); // N = 0 is an empty plugin dir, not a missing one
  const code = fs.readFileSync(bundleFile, 'utf8');
  for (let i = 0; i < count; i++) {
    const name = pluginName(i);
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    fs.writeFileSync(path.join(dir, name, 'index.js'), code.split(PLACEHOLDER_NAME).join(name));
    const manifest = { name, version: '0.1.0', apiVersion: '^1', description: 'wrtkit benchmark plugin', entry: 'index.js' };
    fs.writeFileSync(path.join(dir, name, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return dir;
}

/**
 * The baselines. `idle-<engine>.mjs` is the bare engine as the boot benchmark sees it: an ES
 * module that does nothing but print the same kind of marker the host prints when it is
 * ready, then idles until SIGTERM, so its start time and its RSS are measured exactly
 * like the host's. `empty.mjs` is a truly empty module (timed until the engine exits).
 * qjs needs its `std`/`os` built-ins to write and to wait; they are part of the binary.
 */
function writeBaselines(dir) {
  const files = {
    'empty.mjs': 'export {};\n',
    'idle-node.mjs': "process.stderr.write('ready\\n');\nsetInterval(() => {}, 1 << 30);\n",
    'idle-qjs.mjs':
      "import * as std from 'std';\nimport * as os from 'os';\nstd.err.puts('ready\\n');\nstd.err.flush();\nos.setTimeout(() => {}, 2 ** 30);\n",
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return {
    empty: path.join(dir, 'empty.mjs'),
    idle: { node: path.join(dir, 'idle-node.mjs'), qjs: path.join(dir, 'idle-qjs.mjs') },
  };
}

/** Builds all of it; `pluginCounts` are the N of the boot benchmark. */
export async function buildFixtures(pluginCounts) {
  fs.mkdirSync(benchDir, { recursive: true });
  const started = performance.now();
  const { host, examplePlugins } = buildHost(path.join(benchDir, 'build'));
  const synthetic = await buildSyntheticPlugin(path.join(benchDir, 'synthetic/index.js'));
  const pluginDirs = {};
  for (const n of pluginCounts) pluginDirs[n] = installCopies(synthetic, path.join(benchDir, `plugins-${n}`), n);
  // The hook bench runs core's hook code straight from source, bundled like any entry.
  const hookBench = path.join(benchDir, 'hook-overhead.js');
  await bundle(path.join(repoRoot, 'bench/hook-overhead.ts'), hookBench, { minify: true });
  const baselines = writeBaselines(benchDir);
  return {
    buildMs: performance.now() - started,
    host,
    heartbeat: path.join(examplePlugins, 'heartbeat/index.js'),
    synthetic,
    pluginDirs,
    hookBench,
    baselines,
  };
}
