#!/usr/bin/env node
// Makes the @wrtkit/sdk tarball a plugin author installs (`npm i wrtkit-sdk-<v>.tgz`):
//
//   node scripts/pack-sdk.mjs [--out .cache/sdk-pack]   → prints the tarball's path
//
// Inside the repository the SDK is TypeScript that imports @wrtkit/core's sources; the
// tarball is self-contained instead: dist/ holds its entry points (the plugin API, the
// test host, the lab) as ESM with @wrtkit/core compiled in and one declaration file per
// entry, build/ and bin/ the build tooling and the `wrtkit` command, templates/ the
// scaffold, and dist/host/wrtkit.js the host itself so a plugin runs in a real host.
// tapable, tsyringe and reflect-metadata stay dependencies: a plugin's code and the
// test host must share one copy of each (tsyringe's registry, tapable's hook classes).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';
import esbuild from 'rollup-plugin-esbuild';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import json from '@rollup/plugin-json';
import commonjs from '@rollup/plugin-commonjs';
import { repoRoot } from './rollup-plugins.js';

const argv = process.argv.slice(2);
const outIndex = argv.indexOf('--out');
const out = path.resolve(outIndex >= 0 ? argv[outIndex + 1] : path.join(repoRoot, '.cache/sdk-pack'));
const sdkDir = path.join(repoRoot, 'sdk');
const pkg = JSON.parse(fs.readFileSync(path.join(sdkDir, 'package.json'), 'utf8'));
const stage = path.join(out, 'package');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });

const entries = {
  index: 'src/index.ts',
  testing: 'src/testing/index.ts',
  lab: 'src/lab/index.ts',
  'lab-vitest': 'src/lab/vitest.ts',
};
const input = Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, path.join(sdkDir, file)]));
// Shared with the host, or optional peers the author installs (vitest, playwright-core for
// the lab's browser): left as imports, never bundled.
const shared = new Set(['tapable', 'tsyringe', 'reflect-metadata', 'vitest', 'playwright-core']);
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const external = (id) => shared.has(id) || builtins.has(id) || id.startsWith('node:');

// 1. JavaScript: one build, so the entries share one copy of core (chunks).
{
  const build = await rollup({
    input,
    external,
    plugins: [
      nodeResolve({ extensions: ['.ts', '.mjs', '.js', '.json'], exportConditions: ['import', 'default'] }),
      json(),
      commonjs({ include: /node_modules/, requireReturnsDefault: 'auto' }),
      esbuild({ target: 'es2022' }),
    ],
    onwarn(warning) {
      if (warning.code === 'CIRCULAR_DEPENDENCY') return;
      if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(warning.message);
      console.warn(`warning: ${warning.message}`);
    },
  });
  await build.write({
    dir: path.join(stage, 'dist'),
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
  });
  await build.close();
}

// 2. Declarations: one build too, so every entry refers to the same declared classes
//    (PluginDefinition from the API is the one createTestHost takes), @wrtkit/core inlined.
{
  const build = await rollup({
    input,
    external,
    plugins: [
      dts({
        respectExternal: true,
        compilerOptions: {
          baseUrl: repoRoot,
          paths: { '@wrtkit/core': ['core/src/index.ts'], '@wrtkit/core/*': ['core/src/*'] },
          experimentalDecorators: true,
          resolveJsonModule: true,
        },
      }),
    ],
  });
  await build.write({
    dir: path.join(stage, 'dist'),
    format: 'es',
    entryFileNames: '[name].d.ts',
    chunkFileNames: 'chunks/[name]-[hash].d.ts',
  });
  await build.close();
}

// 3. Build tooling, the command, the scaffold templates: plain files, as they are.
for (const dir of ['bin', 'build', 'templates']) {
  if (fs.existsSync(path.join(sdkDir, dir))) fs.cpSync(path.join(sdkDir, dir), path.join(stage, dir), { recursive: true });
}

// 4. The host, so `npx wrtkit run` and the lab run a plugin in the real thing.
const hostBuild = path.join(out, 'host-build');
execFileSync(process.execPath, [path.join(repoRoot, 'scripts/build.mjs'), '--out', hostBuild, '--quiet', '--no-plugins'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
fs.mkdirSync(path.join(stage, 'dist/host'), { recursive: true });
fs.copyFileSync(path.join(hostBuild, 'wrtkit.js'), path.join(stage, 'dist/host/wrtkit.js'));

// 5. The published package.json: exports point at dist/, core is compiled in.
const { ['@wrtkit/core']: _core, ...dependencies } = pkg.dependencies;
const entry = (name) => ({ types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` });
const published = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  license: pkg.license,
  type: 'module',
  engines: { node: '>=20' },
  bin: pkg.bin,
  exports: {
    '.': entry('index'),
    './testing': entry('testing'),
    './lab': entry('lab'),
    './lab/vitest': entry('lab-vitest'),
    './build': './build/plugin.mjs',
    './build/*': './build/*',
    './package.json': './package.json',
  },
  files: ['dist', 'bin', 'build', 'templates', 'README.md'],
  dependencies,
  peerDependencies: pkg.peerDependencies,
  peerDependenciesMeta: pkg.peerDependenciesMeta,
};
fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
const readme = path.join(sdkDir, 'README.md');
if (fs.existsSync(readme)) fs.copyFileSync(readme, path.join(stage, 'README.md'));

const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: stage, encoding: 'utf8' })
  .trim()
  .split('\n')
  .pop();
console.log(path.join(out, tarball));
