#!/usr/bin/env node
// Builds the host bundle and the plugin bundles, and prints a size report.
//
//   node scripts/build.mjs [--out build] [--no-minify] [--quiet] [--no-plugins | plugin-dir ...]
//
// Output (scripts/bundles.mjs): <out>/wrtkit.js, <out>/plugins/<name>/, <out>/acl.d/.
// Plugin dirs default to examples/plugins/* and plugins/* (workspaces with a "wrtkit" field).
import path from 'node:path';
import { buildBundles, repoPluginDirs } from './bundles.mjs';
import { repoRoot } from './rollup-plugins.js';

const argv = process.argv.slice(2);
const outIndex = argv.indexOf('--out');
const out = path.resolve(outIndex >= 0 ? argv[outIndex + 1] : path.join(repoRoot, 'build'));
const minify = !argv.includes('--no-minify');
const quiet = argv.includes('--quiet');
let pluginDirs = argv.filter((a, i) => !a.startsWith('--') && i !== outIndex + 1).map((d) => path.resolve(d));
if (pluginDirs.length === 0 && !argv.includes('--no-plugins')) pluginDirs = repoPluginDirs();

const report = await buildBundles({
  out,
  pluginDirs,
  minify,
  onWarning: quiet ? undefined : (message) => console.warn(`warning: ${message}`),
});

if (!quiet) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`bundles in ${path.relative(process.cwd(), out) || '.'} (${minify ? 'minified' : 'not minified'}):`);
  for (const r of report) console.log(`  ${r.name.padEnd(34)} ${kb(r.size).padStart(10)}  gzip ${kb(r.gzip).padStart(9)}`);
}
