import type { UciPackage, UciSection } from '../uci/index.js';

/**
 * How a plugin's UCI file becomes the typed object its JSON Schema describes.
 *
 * The schema's top-level properties are UCI section types:
 *  - `{ type: 'object', ... }`  — one section of that type (the first one), e.g.
 *    `config base_config 'base_config'` → `config.base_config.enabled`;
 *  - `{ type: 'array', items: { ... } }` — every section of that type in file order, e.g.
 *    `config rule 'internet'` → `config.rule[0]`.
 * Each section object carries its UCI name as `.name` (named or generated `cfgXXXXXX`).
 * Options become strings, lists become arrays; values are then converted where the
 * schema asks for boolean/integer/number, using UCI's conventions ('1'/'yes'/'on'/
 * 'true'/'enabled' are true). Values that do not convert are left as they are, so the
 * validator reports them with their UCI path.
 */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  [keyword: string]: unknown;
};

/** Where each converted section came from, to turn validation errors into UCI paths. */
export interface SectionOrigin {
  name: string;
  type: string;
  anonymous: boolean;
  /** Index among sections of the same type (for `@type[n]` paths). */
  index: number;
}

export interface UciJson {
  data: Record<string, unknown>;
  /** JSON pointer of each section object ('/rule/0', '/base_config') → its origin. */
  origins: Map<string, SectionOrigin>;
}

const TRUE_WORDS = new Set(['1', 'yes', 'on', 'true', 'enabled']);
const FALSE_WORDS = new Set(['0', 'no', 'off', 'false', 'disabled']);

function typesOf(schema: JsonSchema | undefined): string[] {
  if (!schema || schema.type === undefined) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

/** Converts one UCI string toward what the schema wants; leaves it alone when it can't. */
export function convertScalar(value: string, schema: JsonSchema | undefined): unknown {
  const types = typesOf(schema);
  if (types.length === 0 || types.includes('string')) return value;
  for (const type of types) {
    if (type === 'boolean') {
      const lower = value.toLowerCase();
      if (TRUE_WORDS.has(lower)) return true;
      if (FALSE_WORDS.has(lower)) return false;
    } else if (type === 'integer' && /^[-+]?\d+$/.test(value.trim())) {
      return Number.parseInt(value, 10);
    } else if (type === 'number' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value.trim())) {
      return Number(value);
    }
  }
  return value;
}

function convertOption(value: string | string[], schema: JsonSchema | undefined): unknown {
  const types = typesOf(schema);
  if (types.includes('array')) {
    const items = Array.isArray(value) ? value : [value];
    return items.map((item) => convertScalar(item, schema?.items));
  }
  if (Array.isArray(value)) {
    // A UCI list where the schema wants one value: a single item converts (uci itself
    // treats `list x 'a'` and `option x 'a'` alike for readers); more stays an array
    // and fails validation with a clear message.
    return value.length === 1 && value[0] !== undefined ? convertScalar(value[0], schema) : value;
  }
  return convertScalar(value, schema);
}

function sectionToJson(section: UciSection, schema: JsonSchema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { '.name': section.name };
  const properties = schema?.properties ?? {};
  const extra = typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  for (const [option, value] of section.options()) {
    out[option] = convertOption(value, properties[option] ?? extra);
  }
  return out;
}

/** The plugin's config object from its UCI package, shaped by its schema. */
export function uciToJson(pkg: UciPackage | undefined, schema: JsonSchema): UciJson {
  const data: Record<string, unknown> = {};
  const origins = new Map<string, SectionOrigin>();
  const properties = schema.properties ?? {};
  const sections = pkg ? pkg.sections : [];
  const byType = new Map<string, UciSection[]>();
  for (const section of sections) {
    const list = byType.get(section.type) ?? [];
    list.push(section);
    byType.set(section.type, list);
  }
  const origin = (section: UciSection, index: number): SectionOrigin => ({
    name: section.name,
    type: section.type,
    anonymous: section.anonymous,
    index,
  });

  for (const [type, list] of byType) {
    const sectionSchema = properties[type];
    if (typesOf(sectionSchema).includes('array')) {
      data[type] = list.map((section, i) => {
        origins.set(`/${type}/${i}`, origin(section, i));
        return sectionToJson(section, sectionSchema?.items);
      });
    } else {
      const first = list[0] as UciSection;
      origins.set(`/${type}`, origin(first, 0));
      data[type] = sectionToJson(first, sectionSchema);
    }
  }
  // Singleton sections that are absent start empty so schema defaults can fill them.
  for (const [type, sectionSchema] of Object.entries(properties)) {
    if (data[type] === undefined && typesOf(sectionSchema).includes('object')) data[type] = {};
  }
  return { data, origins };
}

/**
 * Turns a JSON pointer inside the converted config into the UCI path a user would type:
 * `/rule/0/interval` → `dynapoint.internet.interval`, or `dynapoint.@rule[0].interval`
 * for an anonymous section.
 */
export function uciPathOf(packageName: string, pointer: string, origins: Map<string, SectionOrigin>): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (parts.length === 0) return packageName;
  // Find the longest prefix that is a section.
  for (let n = Math.min(parts.length, 2); n >= 1; n--) {
    const prefix = `/${parts.slice(0, n).join('/')}`;
    const found = origins.get(prefix);
    if (found) {
      const section = found.anonymous ? `@${found.type}[${found.index}]` : found.name;
      const rest = parts.slice(n);
      const option = rest[0];
      return option === undefined ? `${packageName}.${section}` : `${packageName}.${section}.${option}`;
    }
  }
  // A section that does not exist in the file.
  const [type, second, option] = parts;
  if (second !== undefined && /^\d+$/.test(second)) {
    return option === undefined ? `${packageName}.@${type}[${second}]` : `${packageName}.@${type}[${second}].${option}`;
  }
  return second === undefined ? `${packageName}.@${type}[0]` : `${packageName}.@${type}[0].${second}`;
}
