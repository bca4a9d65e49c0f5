// The bundles of a wrtkit build, as a function (scripts/build.mjs is its command line;
// firmware-build calls it too): the host + CLI, each plugin, and the rpcd ACLs of what
// they serve on ubus.
//
//   <out>/wrtkit.js                the host + CLI, one ESM file for qjs and Node
//   <out>/plugins/<name>/index.js  each plugin's bundle (shared modules come from the host),
//                                  its commands' bundles, and manifest.json
//   <out>/acl.d/<group>.json       rpcd ACLs: wrtkit (host), wrtkit-<plugin> (each plugin)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPlugin, bundleTo } from '../sdk/build/plugin.mjs';
import { repoRoot } from './rollup-plugins.js';

/** Every plugin directory of this repository: examples/plugins/* and plugins/* with a package.json. */
export function repoPluginDirs() {
  return ['examples/plugins', 'plugins']
    .map((d) => path.join(repoRoot, d))
    .filter((d) => fs.existsSync(d))
    .flatMap((d) =>
      fs
        .readdirSync(d)
        .sort()
        .map((n) => path.join(d, n)),
    )
    .filter((d) => fs.existsSync(path.join(d, 'package.json')));
}

/**
 * Builds the host and the plugins in `pluginDirs` (those with a "wrtkit" field) into `out`,
 * then the rpcd ACLs. Returns one report row per bundle: what, file, size, gzip (bytes).
 */
export async function buildBundles({ out, pluginDirs = repoPluginDirs(), minify = true, onWarning } = {}) {
  const report = [];
  fs.mkdirSync(out, { recursive: true });
  const host = await bundleTo(path.join(repoRoot, 'core/src/main.ts'), path.join(out, 'wrtkit.js'), { minify, onWarning });
  report.push({ name: 'wrtkit (host + CLI)', ...host });
  for (const dir of pluginDirs) {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    if (!pkg.wrtkit) continue;
    const built = await buildPlugin(dir, path.join(out, 'plugins'), { minify, onWarning });
    report.push({ name: `plugin ${built.manifest.name}`, file: built.file, size: built.size, gzip: built.gzip });
    for (const [command, r] of Object.entries(built.commands ?? {})) {
      report.push({ name: `plugin ${built.manifest.name}: ${command}`, file: r.file, size: r.size, gzip: r.gzip });
    }
  }
  // rpcd ACLs for what the host and each plugin serve on ubus: the built host, in
  // `describe` mode (plugin setup only; no sockets, no programs), lists the method tables.
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
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
  return report;
}
