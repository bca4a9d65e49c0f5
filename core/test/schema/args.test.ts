import { describe, expect, it } from 'vitest';
import { formatArgsErrors, validateArgs } from '../../src/schema/args.js';

describe('validateArgs', () => {
  const schema = {
    type: 'object',
    required: ['mac'],
    additionalProperties: false,
    properties: {
      mac: { type: 'string', pattern: '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' },
      minutes: { type: 'integer', minimum: 1, maximum: 1440, default: 60 },
      tags: { type: 'array', items: { type: 'string', maxLength: 3 }, maxItems: 2 },
      mode: { enum: ['on', 'off'] },
    },
  } as const;

  it('fills defaults and accepts valid input', () => {
    const input: Record<string, unknown> = { mac: 'aa:bb:cc:dd:ee:ff' };
    expect(validateArgs(schema, input)).toEqual([]);
    expect(input.minutes).toBe(60);
  });

  it('reports every error with its path and rule', () => {
    const errors = validateArgs(schema, { minutes: 0.5, tags: ['long!', 'a', 'b'], mode: 'auto', x: 1 });
    expect(errors.map((e) => `${e.path} ${e.rule}`)).toEqual([
      '/mac required',
      '/minutes type',
      '/tags maxItems',
      '/tags/0 maxLength',
      '/mode enum',
      '/x additionalProperties',
    ]);
    expect(formatArgsErrors(errors)).toContain('/mac: must have property mac (required)');
  });

  it('rejects a non-object input', () => {
    expect(validateArgs(schema, 'nope')).toEqual([{ path: '', rule: 'type', message: 'must be object' }]);
  });
});
