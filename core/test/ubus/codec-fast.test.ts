// The fast paths of the blobmsg codec against what they replace: the plain decoders
// (decodeBlobmsgTable/-Array, attrsOf on unread DATA) give what nodesToObject of the node
// decoder gives and fail where it fails; the node decoder gives what the previous one
// gave; the direct encoder writes the previous encoder's bytes and refuses what it
// refused. "Previous" is core/test/ubus/reference-codec.ts, the code before the change.
// codec-qjs.test.ts runs the seeded part of this on QuickJS.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, WrtkitError } from '../../src/errors.js';
import { BlobWriter, utf8OfLatin1, utf8Strict, writeUtf8 } from '../../src/ubus/blob.js';
import {
  type BlobmsgNode,
  type BlobmsgValue,
  decodeBlobmsgArray,
  decodeBlobmsgAttrs,
  decodeBlobmsgTable,
  encodeBlobmsgNodes,
  encodeBlobmsgTable,
  int16,
  nodesToArray,
  nodesToObject,
  writeTableBody,
} from '../../src/ubus/blobmsg.js';
import { Attr, MsgType } from '../../src/ubus/constants.js';
import { type UbusAttr, type UbusMessage, attrsOf, decodeMessage, encodeMessage } from '../../src/ubus/message.js';
import { utf8Decode, utf8Encode } from '../../src/util/utf8.js';
import {
  blobmsgInput,
  canon,
  canonNodes,
  canonOutcome,
  outcome,
  plainTable,
  plainValue,
  rng,
  utf8ishBytes,
} from './codec-corpus.js';
import {
  refDecodeBlobmsgAttrs,
  refEncodeBlobmsgNodes,
  refEncodeBlobmsgTable,
  refNodesToArray,
  refNodesToObject,
} from './reference-codec.js';

const RUNS = Number(process.env.UBUS_PROPERTY_RUNS ?? 300);
const FUZZ_RUNS = Number(process.env.UBUS_FUZZ_RUNS ?? 3000);

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const hexOutcome = (fn: () => Uint8Array) => {
  const r = outcome(fn);
  return r.ok ? { ok: toHex(r.value as Uint8Array) } : { error: r.error };
};

/** Every decoder on `bytes`, against the reference: same values (canon) or the same WrtkitError code. */
function expectDecodersAgree(bytes: Uint8Array): void {
  const refNodes = outcome(() => refDecodeBlobmsgAttrs(bytes));
  const nodes = outcome(() => decodeBlobmsgAttrs(bytes));
  expect(canonOutcome(nodes, (n) => canonNodes(n as BlobmsgNode[]))).toEqual(
    canonOutcome(refNodes, (n) => canonNodes(n as BlobmsgNode[])),
  );
  const refTable = refNodes.ok ? { ok: true as const, value: refNodesToObject(refNodes.value as BlobmsgNode[]) } : refNodes;
  const refArray = refNodes.ok ? { ok: true as const, value: refNodesToArray(refNodes.value as BlobmsgNode[]) } : refNodes;
  expect(canonOutcome(outcome(() => decodeBlobmsgTable(bytes)))).toEqual(canonOutcome(refTable));
  expect(canonOutcome(outcome(() => nodesToObject(decodeBlobmsgAttrs(bytes))))).toEqual(canonOutcome(refTable));
  expect(canonOutcome(outcome(() => decodeBlobmsgArray(bytes)))).toEqual(canonOutcome(refArray));
  expect(canonOutcome(outcome(() => nodesToArray(decodeBlobmsgAttrs(bytes))))).toEqual(canonOutcome(refArray));
  // Only protocol errors come out of a decoder.
  if (!refNodes.ok) expect(refNodes.error).toBe(ErrorCodes.UBUS_PROTOCOL);
}

// ---- arbitraries (as codec-property.test.ts, with the names that take other paths) ---------

const text = (maxLength = 8) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.constantFrom('__proto__', 'toString', 'constructor', 'valueOf', '0', '7', 'mac', 'a:b', '%', 'é', 'x'.repeat(65)),
  );
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const scalarNode = (name: fc.Arbitrary<string>): fc.Arbitrary<BlobmsgNode> =>
  fc.oneof(
    fc.record({ type: fc.constant('int8' as const), name, value: fc.boolean() }),
    fc.record({
      type: fc.constant('int8' as const),
      name,
      value: fc.constant(true),
      raw: fc.integer({ min: 2, max: 255 }).map((b) => Uint8Array.of(b)),
    }),
    fc.record({ type: fc.constant('int16' as const), name, value: fc.nat({ max: 0xffff }) }),
    fc.record({ type: fc.constant('int32' as const), name, value: fc.integer({ min: -0x80000000, max: 0x7fffffff }) }),
    fc.record({
      type: fc.constant('int64' as const),
      name,
      value: fc
        .oneof(
          fc.bigInt(INT64_MIN, INT64_MAX),
          fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 0n, 2n ** 53n, 2n ** 53n - 1n, -(2n ** 53n), -(2n ** 53n) + 1n),
        )
        .map((b) => (Number.isSafeInteger(Number(b)) ? Number(b) : b)),
    }),
    fc.record({ type: fc.constant('double' as const), name, value: fc.double() }),
    fc.record({
      type: fc.constant('double' as const),
      name,
      value: fc.constant(0),
      raw: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    }),
    fc.record({ type: fc.constant('string' as const), name, value: fc.string({ unit: 'binary', maxLength: 12 }) }),
    // Any bytes as a string payload (NUL-terminated): invalid UTF-8 included.
    fc.record({
      type: fc.constant('string' as const),
      name,
      value: fc.constant(''),
      raw: fc.uint8Array({ maxLength: 8 }).map((b) => Uint8Array.from([...b, 0])),
    }),
    fc.record({ type: fc.constant('unspec' as const), name, value: fc.constant(null) }),
    fc.record({ type: fc.constant('unspec' as const), name, value: fc.constant(null), raw: fc.uint8Array({ maxLength: 6 }) }),
  );

const { node: nodeArb } = fc.letrec<{ node: BlobmsgNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarNode(text()),
    fc.record({
      type: fc.constant('table' as const),
      name: text(),
      value: fc.constant({} as BlobmsgValue),
      children: fc.array(tie('node'), { maxLength: 5 }),
    }),
    fc.record({
      type: fc.constant('array' as const),
      name: text(),
      value: fc.constant([] as BlobmsgValue[]),
      // Named elements too: the plain array drops the names, the nodes keep them.
      children: fc.array(
        fc.oneof(
          tie('node').map((n) => ({ ...n, name: '' })),
          tie('node'),
        ),
        { maxLength: 4 },
      ),
    }),
  ),
}));
const nodesArb = fc.array(nodeArb, { maxLength: 6 });

// ---- decoding ---------------------------------------------------------------------------------

describe('the plain decoders equal nodesToObject of the node decoder', () => {
  it('for valid blobmsg trees of every type, names and repeated names', () => {
    fc.assert(
      fc.property(nodesArb, (nodes) => {
        const bytes = refEncodeBlobmsgNodes(nodes);
        expect(toHex(encodeBlobmsgNodes(nodes))).toBe(toHex(bytes));
        expectDecodersAgree(bytes);
        expect(decodeBlobmsgTable(bytes)).toEqual(nodesToObject(decodeBlobmsgAttrs(bytes)));
      }),
      { numRuns: RUNS },
    );
  });

  it('for single-byte corruptions, truncations and extensions of valid trees: same values or both refuse', () => {
    fc.assert(
      fc.property(
        nodesArb.filter((n) => n.length > 0),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat({ max: 8 }),
        (nodes, at, byte, cut) => {
          const bytes = refEncodeBlobmsgNodes(nodes);
          const bad = bytes.slice();
          bad[at % bad.length] = byte;
          expectDecodersAgree(bad);
          expectDecodersAgree(bytes.subarray(0, Math.max(0, bytes.length - cut)));
          const longer = new Uint8Array(bytes.length + cut);
          longer.set(bytes);
          longer.fill(byte, bytes.length);
          expectDecodersAgree(longer);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('for hand-built blobmsg with any name bytes and payloads, and damaged encodings (seeded)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        expectDecodersAgree(blobmsgInput(rng(seed), refEncodeBlobmsgTable));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('for random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 128 }), expectDecodersAgree), { numRuns: FUZZ_RUNS });
  });

  it('at the nesting limit and beyond, and over buffers that are views into larger ones', () => {
    for (const levels of [1, 127, 128, 129, 200]) {
      const wire = new Uint8Array(levels * 8);
      const view = new DataView(wire.buffer);
      for (let i = 0; i < levels; i++) view.setUint32(i * 8, (0x82000000 | (wire.length - i * 8)) >>> 0);
      expectDecodersAgree(wire);
    }
    const body = refEncodeBlobmsgTable({ a: 'x', b: [1, { c: 2n ** 60n }], d: 1.5 });
    const padded = new Uint8Array(body.length + 12).fill(0xee);
    padded.set(body, 5);
    const inner = padded.subarray(5, 5 + body.length);
    expectDecodersAgree(inner);
    expect(decodeBlobmsgTable(inner)).toEqual({ a: 'x', b: [1, { c: 2n ** 60n }], d: 1.5 });
  });

  it('keeps __proto__ an own key and inherited names ordinary keys, the first of a repeated name winning', () => {
    const body = new Uint8Array([
      ...encodeBlobmsgTable({ toString: 1, ['__proto__']: { polluted: true } }),
      ...encodeBlobmsgTable({ toString: 2, ['__proto__']: 3, constructor: 'c' }),
    ]);
    const table = decodeBlobmsgTable(body);
    expect(Object.getPrototypeOf(table)).toBe(Object.prototype);
    expect(Object.keys(table)).toEqual(['toString', '__proto__', 'constructor']);
    expect(table.toString).toBe(1);
    expect(Object.getOwnPropertyDescriptor(table, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectDecodersAgree(body);
  });
});

// ---- encoding ---------------------------------------------------------------------------------

describe('the direct encoder writes what the previous encoder wrote', () => {
  it('for plain values of every kind (seeded): same bytes, or the same refusal', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const table = plainTable(rng(seed));
        expect(hexOutcome(() => encodeBlobmsgTable(table))).toEqual(hexOutcome(() => refEncodeBlobmsgTable(table)));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('for values at the top of a table and in arrays (seeded)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const r = rng(seed);
        const table = { v: plainValue(r), list: [plainValue(r), plainValue(r)] };
        expect(hexOutcome(() => encodeBlobmsgTable(table))).toEqual(hexOutcome(() => refEncodeBlobmsgTable(table)));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('for typed nodes, edited or given by value', () => {
    fc.assert(
      fc.property(nodesArb, (nodes) => {
        expect(hexOutcome(() => encodeBlobmsgNodes(nodes))).toEqual(hexOutcome(() => refEncodeBlobmsgNodes(nodes)));
        const decoded = decodeBlobmsgAttrs(encodeBlobmsgNodes(nodes));
        const byValue = decoded.map((n) => ({ ...n, children: undefined }));
        expect(hexOutcome(() => encodeBlobmsgNodes(byValue))).toEqual(hexOutcome(() => refEncodeBlobmsgNodes(byValue)));
      }),
      { numRuns: RUNS },
    );
  });

  it('for large values that grow the buffer many times, long and uncached names, and names too long', () => {
    const big = {
      s: 'é'.repeat(5000),
      list: Array.from({ length: 300 }, (_, i) => ({ [`key-${i}`]: i, ['n'.repeat(i % 90)]: 'v'.repeat(i) })),
    };
    expect(toHex(encodeBlobmsgTable(big))).toBe(toHex(refEncodeBlobmsgTable(big)));
    for (const table of [{ ['x'.repeat(0x10000)]: 1 }, { ['é'.repeat(0x8000)]: 1 }, { ['x'.repeat(0xffff)]: [] }]) {
      expect(hexOutcome(() => encodeBlobmsgTable(table))).toEqual(hexOutcome(() => refEncodeBlobmsgTable(table)));
    }
    const huge = { s: 'x'.repeat(0x1000000) };
    expect(hexOutcome(() => encodeBlobmsgTable(huge))).toEqual({ error: ErrorCodes.INVALID_ARGUMENT });
  });

  it('survives encoding from inside an encoding (toJSON, getters) and a failure caught in between', () => {
    const inner = { n: 1, s: 'inner', deep: { list: [1, 2, 3] } };
    const table = {
      a: 'before',
      b: {
        toJSON() {
          return { bytes: encodeBlobmsgTable(inner).length, again: 'x'.repeat(300) };
        },
      },
      get c() {
        try {
          encodeBlobmsgTable({ bad: 2n ** 64n, pad: 'y'.repeat(500) });
        } catch {
          // refused; the outer encoding goes on
        }
        return [encodeBlobmsgTable({ z: 'z'.repeat(1000) }).length];
      },
      d: 'after',
    };
    expect(toHex(encodeBlobmsgTable(table))).toBe(toHex(refEncodeBlobmsgTable(table)));
  });

  it('leaves a writer as it was when a table is refused', () => {
    const w = new BlobWriter(16);
    w.u32(0x01020304);
    expect(() => writeTableBody(w, { a: 'x'.repeat(100), list: [1, 2, { big: 2n ** 64n }] })).toThrow(WrtkitError);
    expect(w.length).toBe(4);
    expect(w.buf.subarray(4).every((b) => b === 0)).toBe(true);
    writeTableBody(w, { ok: int16(7) });
    expect(toHex(w.finish())).toBe('01020304' + toHex(refEncodeBlobmsgTable({ ok: int16(7) })));
  });
});

// ---- messages ---------------------------------------------------------------------------------

describe('messages keep DATA as bytes until it is read as nodes', () => {
  const message = (attrs: UbusAttr[]): UbusMessage => ({ version: 0, type: MsgType.DATA, seq: 1, peer: 2, attrs });

  it('attrsOf and encodeMessage give the same before and after the nodes are read (seeded)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const r = rng(seed);
        const body = blobmsgInput(r, refEncodeBlobmsgTable);
        const bodies = [
          body,
          blobmsgInput(r, refEncodeBlobmsgTable),
          ...(r() < 0.3 ? [blobmsgInput(r, refEncodeBlobmsgTable)] : []),
        ];
        const frame = encodeMessage(
          message([
            { id: Attr.OBJID, value: 5 },
            { id: Attr.DATA, value: body },
            { id: Attr.SIGNATURE, value: bodies[1] as Uint8Array },
            ...bodies.slice(2).map((value) => ({ id: Attr.DATA, value }) as UbusAttr),
          ]),
        );
        /** Whether reading a body as nodes and writing them gives it back (zero padding, valid names). */
        const stable = (b: Uint8Array) => {
          const nodes = outcome(() => refDecodeBlobmsgAttrs(b));
          return !nodes.ok || toHex(refEncodeBlobmsgNodes(nodes.value as BlobmsgNode[])) === toHex(b);
        };
        const lazy = decodeMessage(frame);
        const plainFirst = attrsOf(lazy);
        expect(toHex(encodeMessage(lazy))).toBe(toHex(frame));
        const read = decodeMessage(frame);
        for (const attr of read.attrs) void attr.value;
        expect(canon(attrsOf(read))).toEqual(canon(plainFirst));
        expect(canon(attrsOf(lazy))).toEqual(canon(plainFirst));
        expect(lazy).toEqual(read);
        // Read as nodes, the bytes come from the nodes again, as before: the same message
        // (padding and invalid UTF-8 in names are what may differ from the input).
        expect(decodeMessage(encodeMessage(read))).toEqual(read);
        const data = read.attrs[1]?.value;
        const valid = outcome(() => refDecodeBlobmsgAttrs(body));
        if (valid.ok) {
          expect(canonNodes(data as BlobmsgNode[])).toEqual(canonNodes(valid.value as BlobmsgNode[]));
        } else expect(toHex(data as Uint8Array)).toBe(toHex(body));
        if (bodies.every(stable)) expect(toHex(encodeMessage(read))).toBe(toHex(frame));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('encode edits made to the nodes, and values set in place', () => {
    const frame = encodeMessage(message([{ id: Attr.DATA, value: { a: 1, list: ['x'] } }]));
    const edited = decodeMessage(frame);
    const nodes = edited.attrs[0]?.value as BlobmsgNode[];
    nodes.push({ type: 'int16', name: 'b', value: 2 });
    expect(attrsOf(edited).data).toEqual({ a: 1, list: ['x'], b: 2 });
    expect(toHex(encodeMessage(edited))).toBe(
      toHex(encodeMessage(message([{ id: Attr.DATA, value: { a: 1, list: ['x'], b: int16(2) } }]))),
    );
    const replaced = decodeMessage(frame);
    (replaced.attrs[0] as { value: unknown }).value = { c: 'd' };
    expect(attrsOf(replaced).data).toEqual({ c: 'd' });
    expect(toHex(encodeMessage(replaced))).toBe(toHex(encodeMessage(message([{ id: Attr.DATA, value: { c: 'd' } }]))));
    expect(replaced.attrs[0]).toEqual({ id: Attr.DATA, value: { c: 'd' } });
  });

  it('hand out a new table per attrsOf call', () => {
    const msg = decodeMessage(encodeMessage(message([{ id: Attr.DATA, value: { a: { b: 1 } } }])));
    const first = attrsOf(msg).data as Record<string, { b: number }>;
    (first.a as { b: number }).b = 2;
    expect(attrsOf(msg).data).toEqual({ a: { b: 1 } });
  });
});

// ---- UTF-8 ------------------------------------------------------------------------------------

/** What the previous decoder did: decode, and call the bytes valid when they encode back the same. */
function refStrict(bytes: Uint8Array): string | undefined {
  const value = utf8Decode(bytes);
  const again = utf8Encode(value);
  return again.length === bytes.length && again.every((b, i) => b === bytes[i]) ? value : undefined;
}

describe('UTF-8 on the hot paths', () => {
  it('reads strictly: valid UTF-8 as utf8Decode does, anything else as undefined', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const bytes = utf8ishBytes(rng(seed), 10);
        expect(utf8Strict(bytes, 0, bytes.length)).toBe(refStrict(bytes));
      }),
      { numRuns: FUZZ_RUNS },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        expect(utf8Strict(bytes, 0, bytes.length)).toBe(refStrict(bytes));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('reads every 1- and 2-byte sequence, and 3- and 4-byte ones around every boundary, as the reference does', () => {
    const check = (...bytes: number[]) => {
      const b = Uint8Array.from(bytes);
      expect(utf8Strict(b, 0, b.length)).toBe(refStrict(b));
    };
    for (let a = 0; a < 256; a++) {
      check(a);
      for (let b = 0; b < 256; b++) check(a, b);
    }
    const edges = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff];
    for (let lead = 0xe0; lead <= 0xff; lead++) {
      for (const b of edges) for (const c of edges) check(lead, b, c);
      for (const b of edges) for (const c of edges) for (const d of edges) check(lead, b, c, d);
    }
    expect(utf8OfLatin1('abc')).toBe('abc');
    expect(utf8OfLatin1('\u00c3\u00a9')).toBe('é');
  });

  it('writes as utf8Encode does, lone surrogates as U+FFFD', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 16 }), (units) => {
        const s = String.fromCharCode(...units);
        const buf = new Uint8Array(s.length * 3 + 2).fill(0xaa);
        const end = writeUtf8(buf, 1, s);
        expect(toHex(buf.subarray(1, end))).toBe(toHex(utf8Encode(s)));
        expect(buf[0]).toBe(0xaa);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
