#!/usr/bin/env node
// Builds the host bundle and the plugin bundles, and prints a size report.
//
//   node scripts/build.mjs [--out build] [--no-minify] [--no-plugins | plugin-dir ...]
//
// Output:
//   <out>/wrtkit.js                the host + CLI, one ESM file for qjs and Node
//   <out>/plugins/<name>/index.js  each plugin's bundle (shared modules come from the host)
//   <out>/plugins/<name>/manifest.json
//   <out>/acl.d/<group>.json       rpcd ACLs: wrtkit (host), wrtkit-<plugin> (each plugin)
// Plugin dirs default to examples/plugins/* and plugins/* (workspaces with a "wrtkit" field).
import fs from 'node:fs';
import path from 'node:path';
import { buildPlugin, bundleTo } from '../sdk/build/plugin.mjs';
import { repoRoot } from './rollup-plugins.js';

const argv = process.argv.slice(2);
const outIndex = argv.indexOf('--out');
const out = path.resolve(outIndex >= 0 ? argv[outIndex + 1] : path.join(repoRoot, 'build'));
const minify = !argv.includes('--no-minify');
const quiet = argv.includes('--quiet');
let pluginDirs = argv.filter((a, i) => !a.startsWith('--') && i !== outIndex + 1);
if (pluginDirs.length === 0 && !argv.includes('--no-plugins')) {
  pluginDirs = ['examples/plugins', 'plugins']
    .map((d) => path.join(repoRoot, d))
    .filter((d) => fs.existsSync(d))
    .flatMap((d) => fs.readdirSync(d).map((n) => path.join(d, n)))
    .filter((d) => fs.existsSync(path.join(d, 'package.json')));
}

const report = [];
fs.mkdirSync(out, { recursive: true });
const warn = quiet ? undefined : (message) => console.warn(`warning: ${message}`);
report.push([
  'wrtkit (host + CLI)',
  await bundleTo(path.join(repoRoot, 'core/src/main.ts'), path.join(out, 'wrtkit.js'), { minify, onWarning: warn }),
]);
for (const dir of pluginDirs) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (!pkg.wrtkit) continue;
  const built = await buildPlugin(dir, path.join(out, 'plugins'), { minify, onWarning: warn });
  report.push([`plugin ${built.manifest.name}`, built]);
}

// rpcd ACLs for what the host and each plugin serve on ubus: the built host, in
// `describe` mode (plugin setup only; no sockets, no programs), lists the method tables.
{
  const { execFileSync } = await import('node:child_process');
  const os = await import('node:os');
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-acl-'));
  try {
    execFileSync(
      process.execPath,
      [
        path.join(out, 'wrtkit.js'),
        '--config-dir',
        empty,
        'acl',
        '--plugin-dir',
        path.join(out, 'plugins'),
        '--out',
        path.join(out, 'acl.d'),
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
}

if (!quiet) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`bundles in ${path.relative(process.cwd(), out) || '.'} (${minify ? 'minified' : 'not minified'}):`);
  for (const [name, r] of report) console.log(`  ${name.padEnd(28)} ${kb(r.size).padStart(10)}  gzip ${kb(r.gzip).padStart(9)}`);
}
