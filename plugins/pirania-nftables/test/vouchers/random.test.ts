import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, ID_ALPHABET, newCode, newId, randomString } from '../../src/vouchers/random.js';
import { nodePlatform } from './helpers.js';

describe('randomString', () => {
  it('skips bytes above the last whole multiple of the alphabet (no modulo bias)', () => {
    // 26 letters: bytes 234..255 would favour A..V, so they are drawn again.
    const chunks = [[234, 255, 0, 25], [233]];
    let i = 0;
    const source = () => new Uint8Array(chunks[i++] ?? []);
    expect(randomString(source, 3, CODE_ALPHABET)).toBe('AZZ');
    // 62 characters: 248..255 are rejected, 247 is 247 % 62 = 61 → '9'.
    expect(randomString(() => new Uint8Array([248, 255, 247]), 1, ID_ALPHABET)).toBe('9');
  });

  it('draws ids of letters and digits and codes of upper-case letters, evenly', async () => {
    const p = await nodePlatform();
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const code = newCode((n) => p.randomBytes(n));
      expect(code).toMatch(/^[A-Z]{6}$/);
      for (const ch of code) counts.set(ch, (counts.get(ch) ?? 0) + 1);
      expect(newId((n) => p.randomBytes(n))).toMatch(/^[A-Za-z0-9]{6}$/);
    }
    // 12000 letters over 26: about 461 each; a biased or broken source lands far outside.
    for (const ch of CODE_ALPHABET) expect(counts.get(ch)).toBeGreaterThan(330);
  });
});
