/**
 * The site file's JSON Schema, composed the way Gluon's check_site.lua checks site.conf per
 * package: the base schema (firmware-build/schema/site.schema.json), core's schema of
 * /etc/config/wrtkit under `host`, and each chosen plugin's schema.json under
 * `plugins.<name>.config`. Plugins the site does not choose are left out, so a typo in a
 * plugin name is reported as an unknown plugin rather than accepted.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { JsonSchema, PluginInfo } from './types.js';

const BASE_SCHEMA_FILE = new URL('../../schema/site.schema.json', import.meta.url);

/** UCI section names (libuci's uci_validate_name). */
export const SECTION_NAME_PATTERN = '^[A-Za-z0-9_]+$';

let base: JsonSchema | undefined;
let core: JsonSchema | undefined;

/** firmware-build/schema/site.schema.json (a fresh copy each call). */
export function baseSiteSchema(): JsonSchema {
  base ??= JSON.parse(fs.readFileSync(BASE_SCHEMA_FILE, 'utf8')) as JsonSchema;
  return structuredClone(base);
}

/** core/schema/wrtkit.schema.json of the @wrtkit/core this build ships (a fresh copy). */
export function coreSchema(): JsonSchema {
  if (!core) {
    // The schema is not in core's exports map; its package.json is, and the schema sits
    // beside it.
    const corePackage = createRequire(import.meta.url).resolve('@wrtkit/core/package.json');
    core = JSON.parse(
      fs.readFileSync(path.join(path.dirname(corePackage), 'schema', 'wrtkit.schema.json'), 'utf8'),
    ) as JsonSchema;
  }
  return structuredClone(core);
}

function isArraySection(section: JsonSchema): boolean {
  return section.type === 'array' || (Array.isArray(section.type) && section.type.includes('array'));
}

/**
 * A UCI package's schema as the site file uses it: sections of a list may carry their UCI
 * name as `.name` (as the objects plugins get do, core/src/config/uci-json.ts), and only
 * the package's section types are allowed, since anything else would be written to the
 * device and never read.
 */
export function siteConfigSchema(schema: JsonSchema, description: string): JsonSchema {
  const copy = structuredClone(schema);
  delete copy.$schema;
  delete copy.$id;
  delete copy.title;
  copy.type = 'object';
  copy.additionalProperties = false;
  copy.description = description;
  for (const section of Object.values(copy.properties ?? {})) {
    if (!isArraySection(section) || typeof section.items !== 'object') continue;
    section.items.properties = {
      '.name': {
        type: 'string',
        pattern: SECTION_NAME_PATTERN,
        description:
          "The section's UCI name (config <type> '<name>'), so other config can refer to it; without one the section is anonymous.",
      },
      ...(section.items.properties ?? {}),
    };
  }
  return copy;
}

function pluginEntrySchema(plugin: PluginInfo): JsonSchema {
  const config: JsonSchema = plugin.schema
    ? siteConfigSchema(plugin.schema, `Defaults for /etc/config/${plugin.config}, as ${plugin.source}/schema.json describes it.`)
    : { type: 'object', maxProperties: 0, description: `${plugin.name} has no config (it has no schema.json).` };
  return {
    type: ['object', 'null'],
    description: `${plugin.name} ${plugin.version} (${plugin.source}): ${plugin.description}`,
    additionalProperties: false,
    properties: { config },
  };
}

/**
 * The schema a site file is validated with: base + core's + the chosen plugins'. Names in
 * `chosen` that are not in `plugins` are skipped (validation reports them as unknown).
 */
export function composeSiteSchema(plugins: readonly PluginInfo[], chosen: readonly string[]): JsonSchema {
  const schema = baseSiteSchema();
  const properties = schema.properties as Record<string, JsonSchema>;
  const hostDescription = properties.host?.description ?? '';
  properties.host = siteConfigSchema(coreSchema(), hostDescription);
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const entries: Record<string, JsonSchema> = {};
  for (const name of [...new Set(chosen)].sort()) {
    const plugin = byName.get(name);
    if (plugin) entries[name] = pluginEntrySchema(plugin);
  }
  properties.plugins = {
    type: 'object',
    description: properties.plugins?.description ?? '',
    properties: entries,
    additionalProperties: false,
  };
  return schema;
}
