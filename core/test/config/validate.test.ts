import { describe, expect, it } from 'vitest';
import { compileValidator } from '../../scripts/config-codegen.mjs';
import type { JsonSchema } from '../../src/config/uci-json.js';
import { convertScalar, uciToJson } from '../../src/config/uci-json.js';
import { validateConfig } from '../../src/config/validate.js';
import { ErrorCodes } from '../../src/errors.js';
import { parseUci } from '../../src/uci/index.js';

const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    main: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: true },
        interval: { type: 'integer', minimum: 1, default: 60 },
      },
    },
    rule: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['hosts'],
        properties: {
          hosts: { type: 'array', items: { type: 'string', pattern: '^https?://' }, minItems: 1 },
          timeout: { type: 'number', minimum: 0.1 },
          mode: { enum: ['http', 'dns'] },
        },
      },
    },
  },
};
const validator = compileValidator(schema);
const load = (text: string) => parseUci(text, { name: 'demo', strict: true }).package;

describe('UCI to config', () => {
  it('converts booleans, numbers and lists the UCI way and fills defaults', () => {
    const result = validateConfig<Record<string, unknown>>(
      'demo',
      load(
        "config main 'main'\n\toption enabled 'no'\n\nconfig rule 'internet'\n\tlist hosts 'http://a'\n\toption timeout '2.5'\n\nconfig rule\n\toption hosts 'https://b'\n",
      ),
      schema,
      validator,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toEqual({
      main: { '.name': 'main', enabled: false, interval: 60 },
      rule: [
        { '.name': 'internet', hosts: ['http://a'], timeout: 2.5 },
        { '.name': expect.stringMatching(/^cfg[0-9a-f]{6}$/), hosts: ['https://b'] },
      ],
    });
  });

  it('gives an absent singleton section its defaults', () => {
    const result = validateConfig('demo', undefined, schema, validator);
    expect(result.ok && result.config).toEqual({ main: { enabled: true, interval: 60 } });
  });

  it('names the UCI path and the rule for every problem', () => {
    const result = validateConfig(
      'demo',
      load(
        "config main 'main'\n\toption interval 'often'\n\toption colour 'red'\n\nconfig rule 'internet'\n\toption timeout '0'\n\nconfig rule\n\tlist hosts 'ftp://x'\n\toption mode 'icmp'\n",
      ),
      schema,
      validator,
      'demo',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => `${i.uciPath} ${i.rule}`)).toEqual([
      'demo.main.colour additionalProperties',
      'demo.main.interval type',
      'demo.internet.hosts required',
      'demo.internet.timeout minimum',
      'demo.@rule[1].hosts pattern',
      'demo.@rule[1].mode enum',
    ]);
    expect(result.error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(result.error.plugin).toBe('demo');
    expect(result.error.uciPath).toBe('demo.main.colour');
    expect(result.error.message).toContain('demo.@rule[1].mode: must be one of "http", "dns" (enum)');
  });

  it('keeps UCI strings that do not convert, for the validator to name', () => {
    expect(convertScalar('maybe', { type: 'boolean' })).toBe('maybe');
    expect(convertScalar('ENABLED', { type: 'boolean' })).toBe(true);
    expect(convertScalar('007', { type: 'integer' })).toBe(7);
    expect(convertScalar('1e3', { type: 'number' })).toBe(1000);
    expect(convertScalar('12', { type: ['string', 'integer'] })).toBe('12');
  });

  it('records where each section came from', () => {
    const { origins } = uciToJson(load("config rule\n\tlist hosts 'http://a'\n"), schema);
    expect(origins.get('/rule/0')).toMatchObject({ type: 'rule', anonymous: true, index: 0 });
  });
});
