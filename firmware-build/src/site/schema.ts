/**
 * The site file's JSON Schema, composed the way Gluon's check_site.lua checks site.conf per
 * package: the base schema (firmware-build/schema/site.schema.json), core's schema of
 * /etc/config/wrtkit under `host`, and each chosen plugin's schema.json under
 * `plugins.<name>.config`. Plugins the site does not choose are left out, so a typo in a
 * plugin name is reported as an unknown plugin rather than accepted.
 */
// Imported, not read from disk: the firmware builder runs as one bundle
// (firmware-build/bin/firmware.mjs), where paths relative to this file mean nothing.
import coreSchemaJson from '../../../core/schema/wrtkit.schema.json' with { type: 'json' };
import baseSchemaJson from '../../schema/site.schema.json' with { type: 'json' };
import type { JsonSchema, PluginInfo } from './types.js';

/** UCI section names (libuci's uci_validate_name). */
export const SECTION_NAME_PATTERN = '^[A-Za-z0-9_]+$';

/** firmware-build/schema/site.schema.json (a fresh copy each call). */
export function baseSiteSchema(): JsonSchema {
  return structuredClone(baseSchemaJson as JsonSchema);
}

/** core/schema/wrtkit.schema.json, the schema of /etc/config/wrtkit (a fresh copy). */
export function coreSchema(): JsonSchema {
  return structuredClone(coreSchemaJson as JsonSchema);
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
