import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { orderPlugins } from '../../src/plugin/order.js';

const p = (name: string, dependencies: Record<string, string> = {}, version = '1.0.0') => ({ name, version, dependencies });

describe('orderPlugins', () => {
  it('puts dependencies first and breaks ties by name', () => {
    const { ordered, refused } = orderPlugins([p('c', { a: '^1' }), p('b'), p('a'), p('d', { c: '^1', b: '^1' })]);
    expect(refused).toEqual([]);
    expect(ordered.map((x) => x.name)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses a plugin with a missing dependency and everything that needs it', () => {
    const { ordered, refused } = orderPlugins([p('a', { gone: '^1' }), p('b', { a: '^1' }), p('c')]);
    expect(ordered.map((x) => x.name)).toEqual(['c']);
    expect(refused.map((r) => [r.plugin.name, r.error.code])).toEqual([
      ['a', ErrorCodes.DEPENDENCY_MISSING],
      ['b', ErrorCodes.DEPENDENCY_FAILED],
    ]);
    expect(refused[0]?.error.message).toBe('plugin a needs gone ^1, which is not installed');
  });

  it('refuses a dependency of the wrong version', () => {
    const { refused } = orderPlugins([p('a', { b: '^2' }), p('b', {}, '1.4.0')]);
    expect(refused[0]?.error.code).toBe(ErrorCodes.DEPENDENCY_VERSION);
    expect(refused[0]?.error.message).toContain('b 1.4.0 is installed');
  });

  it('names a dependency cycle and keeps the rest', () => {
    const { ordered, refused } = orderPlugins([p('a', { b: '^1' }), p('b', { a: '^1' }), p('c')]);
    expect(ordered.map((x) => x.name)).toEqual(['c']);
    expect(refused.map((r) => r.error.code)).toEqual([ErrorCodes.DEPENDENCY_CYCLE, ErrorCodes.DEPENDENCY_CYCLE]);
    expect(refused[0]?.error.message).toMatch(/a -> b -> a/);
  });
});
