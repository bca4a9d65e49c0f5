import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeForm, parseForm, percentDecode } from '../../src/http/form.js';
import { escapeHtml } from '../../src/http/html.js';

describe('percentDecode', () => {
  it.each([
    ['plain', 'plain'],
    ['a%20b', 'a b'],
    ['a+b', 'a+b'],
    ['caf%C3%A9', 'café'],
    ['caf%c3%a9', 'café'],
    ['%F0%9F%98%80', '😀'],
    ['%', '%'],
    ['100%', '100%'],
    ['%zz%4', '%zz%4'],
    ['%E9t%C3', '\ufffdt\ufffd'],
    ['%25%32%30', '%20'],
    ['é%20', 'é '],
  ])('%s → %s', (input, expected) => {
    expect(percentDecode(input)).toBe(expected);
  });

  it('agrees with decodeURIComponent where that does not throw, and never throws', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const decoded = percentDecode(s);
        let reference: string | undefined;
        try {
          reference = decodeURIComponent(s);
        } catch {
          reference = undefined;
        }
        if (reference !== undefined && !/[\ud800-\udfff]/.test(s)) expect(decoded).toBe(reference);
      }),
    );
  });
});

describe('parseForm and encodeForm', () => {
  it('decodes forms: + is a space, the last value wins, names without = are empty', () => {
    expect(parseForm('a=1&b=two+words&a=3&flag&&c=%3D%26&d=x=y')).toEqual({
      a: '3',
      b: 'two words',
      flag: '',
      c: '=&',
      d: 'x=y',
    });
    expect(parseForm('')).toEqual({});
  });

  it('keeps a field named __proto__ as a field', () => {
    const form = parseForm('__proto__=x&constructor=y');
    expect(Object.keys(form)).toEqual(['__proto__', 'constructor']);
    expect(form.__proto__).toBe('x');
    expect(Object.getPrototypeOf(form)).toBe(Object.prototype);
  });

  it('encodes as browsers do and decodes back', () => {
    expect(encodeForm({ url: 'http://a.b/c?d=e f', 'x y': 'ü*-._~' })).toBe(
      new URLSearchParams({ url: 'http://a.b/c?d=e f', 'x y': 'ü*-._~' }).toString(),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (fields) => {
        const wellFormed = (s: string) => !/[\ud800-\udfff]/.test(s);
        fc.pre(Object.entries(fields).every(([k, v]) => wellFormed(k) && wellFormed(v)));
        expect(parseForm(encodeForm(fields))).toEqual({ ...fields });
        expect(encodeForm(fields)).toBe(new URLSearchParams(fields).toString());
      }),
    );
  });
});

describe('escapeHtml', () => {
  it('escapes markup and quotes, nothing else', () => {
    expect(escapeHtml(`<a href="x" title='y'>Tom & Jerry</a> é`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt; é',
    );
  });
});
