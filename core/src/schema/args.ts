/**
 * Validation of method arguments (control socket now, ubus later). A method's input is
 * described like a ubus policy: a flat-ish JSON object with typed fields. We check a
 * small, well-defined subset of JSON Schema here instead of shipping a schema compiler
 * to the router; plugin config, which uses all of JSON Schema, is validated by code ajv
 * generates at build time instead (see config/).
 *
 * Supported keywords: type, properties, required, additionalProperties, items, enum,
 * const, minimum, maximum, minLength, maxLength, pattern, minItems, maxItems, default.
 */
export interface ArgsSchema {
  type?: SchemaType | readonly SchemaType[];
  description?: string;
  properties?: Readonly<Record<string, ArgsSchema>>;
  required?: readonly string[];
  additionalProperties?: boolean | ArgsSchema;
  items?: ArgsSchema;
  enum?: readonly unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
}

export type SchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

export interface ArgsError {
  /** JSON pointer of the offending value, '' for the whole input. */
  path: string;
  /** The keyword that failed. */
  rule: string;
  message: string;
}

function typeOf(value: unknown): SchemaType | 'undefined' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as SchemaType | 'undefined';
}

function typeMatches(value: unknown, expected: SchemaType): boolean {
  const actual = typeOf(value);
  if (expected === 'number') return actual === 'number' || actual === 'integer';
  return actual === expected;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Checks value against schema, filling in `default`s of missing object properties.
 * Returns every error found (empty when valid).
 */
export function validateArgs(schema: ArgsSchema, value: unknown, path = ''): ArgsError[] {
  const errors: ArgsError[] = [];
  const fail = (rule: string, message: string, at = path) => errors.push({ path: at, rule, message });

  if (schema.type !== undefined) {
    const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as SchemaType[];
    if (!types.some((t) => typeMatches(value, t))) {
      fail('type', `must be ${types.join(' or ')}`);
      return errors;
    }
  }
  if (schema.const !== undefined && !deepEqual(value, schema.const)) fail('const', `must be ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) {
    fail('enum', `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) fail('minimum', `must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) fail('maximum', `must be <= ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength)
      fail('minLength', `must have at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && length > schema.maxLength)
      fail('maxLength', `must have at most ${schema.maxLength} characters`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      fail('pattern', `must match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      fail('minItems', `must have at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      fail('maxItems', `must have at most ${schema.maxItems} items`);
    if (schema.items) value.forEach((item, i) => errors.push(...validateArgs(schema.items as ArgsSchema, item, `${path}/${i}`)));
  }
  if (typeOf(value) === 'object') {
    const record = value as Record<string, unknown>;
    const properties = schema.properties ?? {};
    for (const [key, sub] of Object.entries(properties)) {
      if (record[key] === undefined && sub.default !== undefined) record[key] = structuredCopy(sub.default);
    }
    for (const key of schema.required ?? []) {
      if (record[key] === undefined) fail('required', `must have property ${key}`, `${path}/${key}`);
    }
    for (const [key, item] of Object.entries(record)) {
      const sub = properties[key];
      if (sub) errors.push(...validateArgs(sub, item, `${path}/${key}`));
      else if (schema.additionalProperties === false) fail('additionalProperties', `unknown property ${key}`, `${path}/${key}`);
      else if (typeof schema.additionalProperties === 'object')
        errors.push(...validateArgs(schema.additionalProperties, item, `${path}/${key}`));
    }
  }
  return errors;
}

function structuredCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** One line per error, `path: message (rule)`, for CLI output and error messages. */
export function formatArgsErrors(errors: readonly ArgsError[]): string {
  return errors.map((e) => `${e.path || '(input)'}: ${e.message} (${e.rule})`).join('; ');
}

/**
 * The TypeScript type of values a schema accepts (after defaults are filled in), for
 * the subset above. Written here rather than taken from a general JSON-Schema-to-type
 * library because those instantiate too deeply when inferred through a generic function.
 */
export type ArgsOf<S> = S extends { const: infer C }
  ? C
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { type: readonly (infer T)[] }
      ? ScalarOf<T, S>
      : S extends { type: infer T }
        ? ScalarOf<T, S>
        : unknown;

type ScalarOf<T, S> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? S extends { items: infer I }
            ? ArgsOf<I>[]
            : unknown[]
          : T extends 'object'
            ? ObjectOf<S>
            : unknown;

type RequiredKeys<S, P> = {
  [K in keyof P]: K extends (S extends { required: readonly (infer R)[] } ? R : never)
    ? K
    : P[K] extends { default: unknown }
      ? K
      : never;
}[keyof P];

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ObjectOf<S> = S extends { properties: infer P }
  ? Simplify<
      { -readonly [K in RequiredKeys<S, P>]: ArgsOf<P[K]> } & {
        -readonly [K in Exclude<keyof P, RequiredKeys<S, P>>]?: ArgsOf<P[K]>;
      } & (S extends {
          additionalProperties: false;
        }
          ? unknown
          : S extends { additionalProperties: infer A extends object }
            ? Record<string, ArgsOf<A>>
            : unknown)
    >
  : Record<string, unknown>;
