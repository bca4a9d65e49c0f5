import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Utf8StreamDecoder, utf8ByteLength, utf8Decode, utf8Encode } from '../../src/util/utf8.js';

// Node's TextEncoder/TextDecoder implement the same WHATWG algorithms: they are the oracle.
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('utf8Encode', () => {
  it('encodes ASCII, 2-, 3- and 4-byte characters', () => {
    expect([...utf8Encode('A')]).toEqual([0x41]);
    expect([...utf8Encode('é')]).toEqual([0xc3, 0xa9]);
    expect([...utf8Encode('€')]).toEqual([0xe2, 0x82, 0xac]);
    expect([...utf8Encode('😀')]).toEqual([0xf0, 0x9f, 0x98, 0x80]);
    expect(utf8Encode('')).toHaveLength(0);
  });

  it('replaces lone surrogates with U+FFFD', () => {
    expect([...utf8Encode('\ud800')]).toEqual([0xef, 0xbf, 0xbd]);
    expect([...utf8Encode('a\udc00b')]).toEqual([0x61, 0xef, 0xbf, 0xbd, 0x62]);
    expect([...utf8Encode('\ud83d\ud83d\ude00')]).toEqual([0xef, 0xbf, 0xbd, 0xf0, 0x9f, 0x98, 0x80]);
  });

  it('returns an array that owns its whole buffer', () => {
    const out = utf8Encode('héllo');
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(out.byteLength);
    expect(utf8ByteLength('héllo')).toBe(6);
  });

  it('matches TextEncoder on any string, including broken surrogates', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect([...utf8Encode(s)]).toEqual([...encoder.encode(s)]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('utf8Decode', () => {
  it('round-trips text', () => {
    const text = 'wrtkit: grüße, 東京, 😀 and \u0000 and \ufeff';
    expect(utf8Decode(utf8Encode(text))).toBe(text);
  });

  it('replaces invalid sequences like the WHATWG decoder', () => {
    const cases: Uint8Array[] = [
      bytes(0x80), // lone continuation
      bytes(0xc0, 0xaf), // overlong
      bytes(0xe0, 0x80, 0xaf), // overlong 3-byte
      bytes(0xed, 0xa0, 0x80), // encoded surrogate
      bytes(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
      bytes(0xf5, 0x41),
      bytes(0xe2, 0x82), // truncated at the end
      bytes(0xe2, 0x41, 0xac),
      bytes(0xf0, 0x9f, 0x41),
      bytes(0xff, 0xfe, 0x41),
    ];
    for (const c of cases) expect(utf8Decode(c)).toBe(decoder.decode(c));
    expect(utf8Decode(bytes(0xe2, 0x82))).toBe('\ufffd');
    expect(utf8Decode(bytes(0xc0, 0xaf))).toBe('\ufffd\ufffd');
  });

  it('matches TextDecoder on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(utf8Decode(b)).toBe(decoder.decode(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('handles long inputs without overflowing String.fromCharCode', () => {
    const text = 'x'.repeat(100_000) + 'é'.repeat(50_000);
    expect(utf8Decode(utf8Encode(text))).toBe(text);
  });
});

// Chunks of 64 bytes and more take the native fast path (escape/decodeURIComponent);
// these cover it with valid text, corrupted text, and characters cut at chunk edges.
const textBytes = fc
  .tuple(
    fc.string({ unit: 'grapheme', minLength: 20, maxLength: 300 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
  )
  .map(([text, corruptions]) => {
    const b = encoder.encode(text);
    for (const [at, value] of corruptions) if (b.length > 0) b[at % b.length] = value;
    return b;
  });

describe('Utf8StreamDecoder', () => {
  it('fast path: large chunks of valid and corrupted text match TextDecoder', () => {
    fc.assert(
      fc.property(textBytes, (b) => {
        expect(utf8Decode(b)).toBe(decoder.decode(b));
      }),
      { numRuns: 1000 },
    );
  });

  it('fast path: characters cut at the edge of large chunks', () => {
    fc.assert(
      fc.property(textBytes, fc.array(fc.nat(), { maxLength: 4 }), (b, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
        const d = new Utf8StreamDecoder();
        let out = '';
        let prev = 0;
        for (const p of [...points, b.length]) {
          out += d.write(b.subarray(prev, p));
          prev = p;
        }
        expect(out + d.end()).toBe(decoder.decode(b));
      }),
      { numRuns: 1000 },
    );
  });

  it('joins characters split across chunks', () => {
    const d = new Utf8StreamDecoder();
    expect(d.write(bytes(0x61, 0xf0, 0x9f))).toBe('a');
    expect(d.write(bytes(0x98))).toBe('');
    expect(d.write(bytes(0x80, 0x62))).toBe('😀b');
    expect(d.end()).toBe('');
  });

  it('gives the same text however the bytes are chunked', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), fc.array(fc.nat(48), { maxLength: 6 }), (b, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
        const d = new Utf8StreamDecoder();
        let out = '';
        let prev = 0;
        for (const p of [...points, b.length]) {
          out += d.write(b.subarray(prev, p));
          prev = p;
        }
        out += d.end();
        expect(out).toBe(decoder.decode(b));
      }),
      { numRuns: 1000 },
    );
  });
});
