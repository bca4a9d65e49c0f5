/**
 * Validating site data: the composed JSON Schema (ajv, every error rather than the first)
 * plus the relation checks, each error turned into the site file's own terms: a dotted
 * path, a message a community admin can act on, the rule broken, and where in the file.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { checkSite, type Issue } from './checks.js';
import { formatPath, sortErrors } from './errors.js';
import type { SiteSource } from './load.js';
import { composeSiteSchema } from './schema.js';
import type { JsonSchema, PluginInfo, SiteError } from './types.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The same ajv settings as the plugins' config validators (sdk/build/config-codegen.mjs), without filling defaults: the site file's values are what gets written. */
function newAjv(): Ajv {
  return new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
}

/** A JSON pointer into data → path segments, array indexes as numbers. */
function segmentsOf(pointer: string, data: unknown): Array<string | number> {
  if (pointer === '') return [];
  const out: Array<string | number> = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push(Number(key));
      node = node[Number(key)];
    } else {
      out.push(key);
      node = isObject(node) ? node[key] : undefined;
    }
  }
  return out;
}

/** A value as an error message quotes it. */
function preview(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  null: 'empty',
};

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** How many allowed keys an "is not allowed here" message still lists. */
const LIST_KEYS_UP_TO = 12;

function unknownKey(key: string, known: readonly string[]): string {
  const guess = closest(key, known);
  if (guess !== undefined) return `is not allowed here (did you mean ${guess}?)`;
  if (known.length > 0 && known.length <= LIST_KEYS_UP_TO) return `is not allowed here (allowed: ${known.join(', ')})`;
  return 'is not allowed here';
}

/** Patterns longer than this are not quoted in messages (some are kilobytes of regex). */
const QUOTE_PATTERN_UP_TO = 60;

function describe(error: ErrorObject, at: Array<string | number>, available: readonly string[]): Issue {
  const p = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as JsonSchema;
  switch (error.keyword) {
    case 'required':
      return { segments: [...at, String(p.missingProperty)], rule: 'required', message: 'is required' };
    case 'dependencies':
      return {
        segments: [...at, String(p.missingProperty)],
        rule: 'required',
        message: `is required with ${String(p.property)}`,
      };
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      if (at.length === 1 && at[0] === 'plugins') {
        const guess = closest(key, available);
        const hint = guess === undefined ? '' : `did you mean ${guess}? `;
        return { segments: [...at, key], rule: 'plugin', message: `unknown plugin (${hint}available: ${available.join(', ')})` };
      }
      return {
        segments: [...at, key],
        rule: 'additionalProperties',
        message: unknownKey(key, Object.keys(parent.properties ?? {})),
      };
    }
    case 'type': {
      const types = Array.isArray(p.type) ? (p.type as string[]) : String(p.type).split(',');
      return {
        segments: at,
        rule: 'type',
        message: `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}, not ${preview(error.data)}`,
      };
    }
    case 'enum':
      return {
        segments: at,
        rule: 'enum',
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`,
      };
    case 'pattern': {
      const pattern = String(p.pattern);
      if (pattern.length <= QUOTE_PATTERN_UP_TO)
        return { segments: at, rule: 'pattern', message: `${preview(error.data)} does not match ${pattern}` };
      // Too long to read: say what the value should be instead, where the schema says it.
      const what = parent.description ? ` (${parent.description})` : '';
      return { segments: at, rule: 'pattern', message: `${preview(error.data)} is not in the expected form${what}` };
    }
    case 'maxProperties':
      if (p.limit === 0) return { segments: at, rule: 'maxProperties', message: parent.description ?? 'must be empty' };
      return { segments: at, rule: error.keyword, message: error.message ?? `breaks ${error.keyword}` };
    default:
      return { segments: at, rule: error.keyword, message: error.message ?? `breaks ${error.keyword}` };
  }
}

/** The names of the plugins the data chooses (whatever their entries hold). */
export function chosenPlugins(data: unknown): string[] {
  return isObject(data) && isObject(data.plugins) ? Object.keys(data.plugins) : [];
}

/**
 * Every error in site data, sorted by path. `locate` (from the parsed file) adds line and
 * column where it can.
 */
export function validateSite(data: unknown, plugins: readonly PluginInfo[], locate?: SiteSource['locate']): SiteError[] {
  const schema = composeSiteSchema(plugins, chosenPlugins(data));
  const validate = newAjv().compile(schema);
  const issues: Issue[] = [];
  if (!validate(data)) {
    const available = plugins.map((p) => p.name);
    for (const error of validate.errors ?? []) issues.push(describe(error, segmentsOf(error.instancePath, data), available));
  }
  issues.push(...checkSite(data, plugins));

  const seen = new Set<string>();
  const errors: SiteError[] = [];
  for (const issue of issues) {
    const error: SiteError = { path: formatPath(issue.segments), message: issue.message, rule: issue.rule };
    const key = `${error.path}\0${error.rule}\0${error.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = locate?.(issue.segments);
    if (at) Object.assign(error, at);
    errors.push(error);
  }
  return sortErrors(errors);
}
