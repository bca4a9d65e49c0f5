#!/usr/bin/env node
// The firmware builder's command line (`wrtkit build <site file>`, `wrtkit keys new`):
// firmware-build is TypeScript, so this bundles src/cli.ts with esbuild (a fresh bundle per
// run, like the benches: it runs this checkout) and hands it the arguments.
//
//   node firmware-build/bin/firmware.mjs build site.yaml [--check] [--out DIR] ...
//   node firmware-build/bin/firmware.mjs keys new [--out DIR] [--comment TEXT]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Inside firmware-build/node_modules: the bundle's packages must resolve as firmware-build's
// own do (its ajv 8, not the ajv 6 other tools keep at the top of node_modules).
const outfile = path.join(root, 'firmware-build/node_modules/.cache/wrtkit-firmware/cli.mjs');
await build({
  entryPoints: [path.join(root, 'firmware-build/src/cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'error',
  // npm packages stay packages (rollup, ajv, yaml… load from node_modules); the
  // workspaces (@wrtkit/*) are TypeScript, which Node cannot load: those are bundled in
  plugins: [
    {
      name: 'npm-packages-external',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@wrtkit/') ? undefined : { external: true }));
        // plain ESM of the repository (scripts/bundles.mjs, sdk/build/*.mjs) finds its
        // neighbours through import.meta.url: imported where it is, never bundled
        // (TypeScript's own `./x.js` imports name .ts files: those are bundled)
        b.onResolve({ filter: /\.m?js$/ }, (args) => {
          const file = path.resolve(args.resolveDir, args.path);
          return args.path.startsWith('.') && existsSync(file) ? { path: file, external: true } : undefined;
        });
      },
    },
  ],
});
const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(process.argv.slice(2), root);
