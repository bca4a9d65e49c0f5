/**
 * The plugins this repository offers: every `plugins/*` and `examples/plugins/*` dir whose
 * package.json has a `wrtkit` field. The site file names them by `wrtkit.name`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCodes, WrtkitError } from '@wrtkit/core';
import type { JsonSchema, PluginInfo } from './types.js';

/** Where plugins live, relative to the repository root; examples are plugins too. */
const PLUGIN_DIRS = [
  { dir: 'plugins', example: false },
  { dir: 'examples/plugins', example: true },
];

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new WrtkitError(ErrorCodes.MANIFEST_INVALID, `${file}: ${(e as Error).message}`, { cause: e, details: { file } });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function subdirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

function pluginAt(repoRoot: string, source: string, example: boolean): PluginInfo | undefined {
  const dir = path.join(repoRoot, source);
  const manifestFile = path.join(dir, 'package.json');
  if (!fs.existsSync(manifestFile)) return undefined;
  const pkg = readJson(manifestFile);
  if (!isObject(pkg) || !isObject(pkg.wrtkit)) return undefined;
  const wrtkit = pkg.wrtkit;
  if (typeof wrtkit.name !== 'string' || wrtkit.name === '') {
    throw new WrtkitError(ErrorCodes.MANIFEST_INVALID, `${manifestFile}: wrtkit.name is missing`, {
      details: { file: manifestFile },
    });
  }
  const schemaFile = path.join(dir, 'schema.json');
  const schema = fs.existsSync(schemaFile) ? readJson(schemaFile) : undefined;
  if (schema !== undefined && !isObject(schema)) {
    throw new WrtkitError(ErrorCodes.MANIFEST_INVALID, `${schemaFile}: not a JSON Schema object`, {
      details: { file: schemaFile },
    });
  }
  const info: PluginInfo = {
    name: wrtkit.name,
    packageName: typeof pkg.name === 'string' ? pkg.name : wrtkit.name,
    version: typeof pkg.version === 'string' ? pkg.version : '0.0.0',
    dir,
    source,
    description:
      typeof wrtkit.description === 'string' ? wrtkit.description : typeof pkg.description === 'string' ? pkg.description : '',
    config: typeof wrtkit.config === 'string' ? wrtkit.config : wrtkit.name,
    dependencies: isObject(wrtkit.dependencies)
      ? Object.fromEntries(Object.entries(wrtkit.dependencies).map(([name, range]) => [name, String(range)]))
      : {},
    recipe: fs.existsSync(path.join(dir, 'openwrt')),
    example,
  };
  if (schema !== undefined) info.schema = schema as JsonSchema;
  if (isObject(wrtkit.openwrt)) info.openwrt = wrtkit.openwrt as NonNullable<PluginInfo['openwrt']>;
  return info;
}

/** The plugins under repoRoot, sorted by name. Throws when two share a name. */
export function availablePlugins(repoRoot: string): PluginInfo[] {
  const found = new Map<string, PluginInfo>();
  for (const { dir, example } of PLUGIN_DIRS) {
    for (const name of subdirs(path.join(repoRoot, dir))) {
      const info = pluginAt(repoRoot, `${dir}/${name}`, example);
      if (!info) continue;
      const other = found.get(info.name);
      if (other) {
        throw new WrtkitError(ErrorCodes.DUPLICATE_PLUGIN, `plugin ${info.name} is both ${other.source} and ${info.source}`, {
          plugin: info.name,
        });
      }
      found.set(info.name, info);
    }
  }
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
