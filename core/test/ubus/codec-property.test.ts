// Properties of the ubus codec over generated input: what is encoded decodes and encodes
// back to the same bytes; whatever arrives from a socket (truncated, oversized, corrupt,
// random) fails only with a WrtkitError, quickly; the stream reader does not care where
// reads split. Also the mapping details the fixtures do not exercise.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, WrtkitError } from '../../src/errors.js';
import {
  Attr,
  BLOBMSG_MAX_DEPTH,
  BlobmsgType,
  MessageReader,
  MonitorAttr,
  MsgType,
  Typed,
  UBUS_MAX_MSGLEN,
  type BlobmsgNode,
  type BlobmsgValue,
  type RawAttr,
  type UbusAttr,
  type UbusMessage,
  attrsOf,
  decodeBlobmsgAttrs,
  decodeBlobmsgTable,
  decodeMessage,
  decodeMonitor,
  double,
  encodeAttrs,
  encodeBlobmsgNodes,
  encodeBlobmsgTable,
  encodeMessage,
  int16,
  int32,
  int64,
  int8,
} from '../../src/ubus/index.js';

const RUNS = Number(process.env.UBUS_PROPERTY_RUNS ?? 300);
const FUZZ_RUNS = Number(process.env.UBUS_FUZZ_RUNS ?? 3000);
/** A decode that takes longer than this on a few hundred bytes is a hang in the making. */
const SLOW_MS = 250;

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function expectCode(fn: () => unknown, code: string): WrtkitError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WrtkitError);
    expect((error as WrtkitError).code).toBe(code);
    return error as WrtkitError;
  }
  throw new Error('expected a WrtkitError');
}

/** Runs fn; a WrtkitError UBUS_PROTOCOL is an allowed outcome, anything else is a failure. */
function tolerated<T>(fn: () => T): T | undefined {
  const started = performance.now();
  try {
    return fn();
  } catch (error) {
    if (error instanceof WrtkitError && error.code === ErrorCodes.UBUS_PROTOCOL) return undefined;
    throw error;
  } finally {
    expect(performance.now() - started).toBeLessThan(SLOW_MS);
  }
}

// ---- arbitraries ------------------------------------------------------------------------

/** Any Unicode (no lone surrogates: those have no UTF-8), NULs included. */
const text = (maxLength = 8) => fc.string({ unit: 'binary', maxLength });
const u32 = fc.nat({ max: 0xffffffff });
const bytes = (maxLength = 12) => fc.uint8Array({ maxLength });

/** 8 bytes of any double: -0, ±Infinity, NaNs with any payload and sign. */
const doubleBits = fc.oneof(
  fc
    .constantFrom(
      '8000000000000000',
      '7ff8000000000000',
      'fff8000000000000',
      '7ff0000000000001',
      '7ff0000000000000',
      'fff0000000000000',
      '0000000000000001',
    )
    .map(fromHex),
  fc.uint8Array({ minLength: 8, maxLength: 8 }),
);

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
        .oneof(fc.bigInt(INT64_MIN, INT64_MAX), fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 0n, 2n ** 53n))
        .map((b) => (Number.isSafeInteger(Number(b)) ? Number(b) : b)),
    }),
    fc.record({ type: fc.constant('double' as const), name, value: fc.double() }),
    fc.record({ type: fc.constant('double' as const), name, value: fc.constant(0), raw: doubleBits }),
    fc.record({ type: fc.constant('string' as const), name, value: text(12) }),
    fc.record({ type: fc.constant('unspec' as const), name, value: fc.constant(null) }),
    fc.record({ type: fc.constant('unspec' as const), name, value: fc.constant(null), raw: bytes(6) }),
  );

/** Wire-level trees: every type, empty names/tables/arrays, repeated names, named array elements. */
const { node: nodeArb } = fc.letrec<{ node: BlobmsgNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarNode(text()),
    fc.record({
      type: fc.constant('table' as const),
      name: text(),
      value: fc.constant({} as BlobmsgValue),
      children: fc.array(tie('node'), { maxLength: 4 }),
    }),
    fc.record({
      type: fc.constant('array' as const),
      name: text(),
      value: fc.constant([] as BlobmsgValue[]),
      children: fc.array(
        tie('node').map((n) => ({ ...n, name: '' })),
        { maxLength: 4 },
      ),
    }),
  ),
}));
const nodesArb = fc.array(nodeArb, { maxLength: 5 });

const signatureArb = fc.dictionary(text(), fc.dictionary(text(), fc.integer({ min: 0, max: 8 }), { maxKeys: 4 }), { maxKeys: 4 });

const attrArb: fc.Arbitrary<UbusAttr> = fc.oneof(
  fc.record({ id: fc.constant(Attr.STATUS), value: fc.integer({ min: -0x80000000, max: 0x7fffffff }) }),
  fc.record({ id: fc.constantFrom(Attr.OBJPATH, Attr.METHOD, Attr.USER, Attr.GROUP), value: text(16) }),
  fc.record({ id: fc.constantFrom(Attr.OBJID, Attr.OBJTYPE, Attr.TARGET), value: u32 }),
  fc.record({ id: fc.constantFrom(Attr.ACTIVE, Attr.NO_REPLY), value: fc.boolean() }),
  fc.record({ id: fc.constant(Attr.DATA), value: nodesArb }),
  fc.record({ id: fc.constant(Attr.SIGNATURE), value: signatureArb }),
  fc.record({ id: fc.constant(Attr.SUBSCRIBERS), value: fc.array(u32, { maxLength: 4 }) }),
  // Anything as raw bytes: unknown ids, and known ids whose payload may not fit their kind.
  fc.record({ id: fc.integer({ min: 0, max: 127 }), value: bytes() }),
) as fc.Arbitrary<UbusAttr>;

const header = {
  version: fc.constant(0),
  seq: fc.nat({ max: 0xffff }),
  peer: u32,
};

const plainMessageArb: fc.Arbitrary<UbusMessage> = fc.record({
  ...header,
  type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== MsgType.MONITOR),
  attrs: fc.array(attrArb, { maxLength: 6 }),
});

const u32Bytes = (n: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
};

/** UBUS_MSG_MONITOR as ubusd_monitor.c builds it, around a generated message. */
const monitorMessageArb: fc.Arbitrary<UbusMessage> = fc
  .record({ ...header, client: u32, send: fc.boolean(), inner: plainMessageArb })
  .map(({ seq, peer, client, send, inner }) => ({
    version: 0,
    type: MsgType.MONITOR,
    seq,
    peer,
    attrs: [
      { id: MonitorAttr.CLIENT, value: u32Bytes(client) },
      { id: MonitorAttr.PEER, value: u32Bytes(inner.peer) },
      { id: MonitorAttr.SEQ, value: u32Bytes(inner.seq) },
      { id: MonitorAttr.TYPE, value: u32Bytes(inner.type) },
      { id: MonitorAttr.SEND, value: Uint8Array.of(send ? 1 : 0) },
      { id: MonitorAttr.DATA, value: encodeAttrs(inner.attrs, inner.type) },
    ],
  }));

const messageArb = fc.oneof({ weight: 5, arbitrary: plainMessageArb }, { weight: 1, arbitrary: monitorMessageArb });
const frameArb = messageArb.map((m) => encodeMessage(m));

// ---- round trips ------------------------------------------------------------------------

describe('encode(decode(x)) is x', () => {
  it('for blobmsg trees of every type', () => {
    fc.assert(
      fc.property(nodesArb, (nodes) => {
        const x = encodeBlobmsgNodes(nodes);
        const decoded = decodeBlobmsgAttrs(x);
        expect(toHex(encodeBlobmsgNodes(decoded))).toBe(toHex(x));
        // Decoding is stable: what was decoded once decodes the same again.
        expect(decodeBlobmsgAttrs(encodeBlobmsgNodes(decoded))).toEqual(decoded);
      }),
      { numRuns: RUNS },
    );
  });

  it('for messages with every attribute kind, and monitor messages', () => {
    fc.assert(
      fc.property(messageArb, (msg) => {
        const x = encodeMessage(msg);
        const decoded = decodeMessage(x);
        expect({ ...decoded, attrs: [] }).toEqual({ ...msg, attrs: [] });
        expect(decoded.attrs.map((a) => a.id)).toEqual(msg.attrs.map((a) => a.id));
        expect(toHex(encodeMessage(decoded))).toBe(toHex(x));
        if (decoded.type === MsgType.MONITOR) {
          const record = decodeMonitor(decoded);
          expect(toHex(encodeMessage(record.message)).slice(24)).toBe(toHex((decoded.attrs[5] as RawAttr).value));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('for typed scalars at their limits', () => {
    const cases: Array<[Typed, BlobmsgValue]> = [
      [int64(INT64_MIN), INT64_MIN],
      [int64(INT64_MAX), INT64_MAX],
      [int64(2n ** 53n), 2n ** 53n],
      [int64(2 ** 53 - 1), 2 ** 53 - 1],
      [int64(-(2 ** 53) + 1), -(2 ** 53) + 1],
      [int64(2n ** 64n - 1n), -1], // blobmsg_add_u64 of UINT64_MAX reads back as -1
      [int32(0xffffffff), -1], // as blobmsg_add_u32 of an object id above 2^31
      [int32(-0x80000000), -0x80000000],
      [int16(-1), 0xffff], // blobmsg_format_json prints INT16 unsigned
      [int16(0x8000), 0x8000],
      [int8(0), false],
      [int8(255), true],
      [double(-0), -0],
      [double(Number.MAX_VALUE), Number.MAX_VALUE],
      [double(Number.MIN_VALUE), Number.MIN_VALUE],
      [double(-Infinity), -Infinity],
      [double(3), 3],
    ];
    for (const [typed, expected] of cases) {
      const bytes = encodeBlobmsgTable({ v: typed });
      const [node] = decodeBlobmsgAttrs(bytes);
      expect(node?.type).toBe(typed.type);
      expect(Object.is(node?.value, expected) || node?.value === expected).toBe(true);
      expect(toHex(encodeBlobmsgNodes(decodeBlobmsgAttrs(bytes)))).toBe(toHex(bytes));
    }
  });

  it('for doubles as libubox sends their bits: -0, ±Infinity, NaNs with sign and payload', () => {
    for (const bits of [
      '8000000000000000',
      '7ff0000000000000',
      'fff0000000000000',
      '7ff8000000000000',
      'fff8000000000000',
      '7ff0000000000001',
      '7fffffffffffffff',
    ]) {
      // A DOUBLE named "d": header, name header, 8 payload bytes.
      const wire = fromHex(`88000010${'00016400'}${bits}`);
      const [node] = decodeBlobmsgAttrs(wire);
      expect(node?.type).toBe('double');
      expect(Object.is(node?.value, new DataView(fromHex(bits).buffer).getFloat64(0))).toBe(true);
      expect(toHex(encodeBlobmsgNodes(decodeBlobmsgAttrs(wire)))).toBe(toHex(wire));
    }
  });
});

// ---- the JS value mapping ---------------------------------------------------------------

/** What a plain value reads back as: the CLI's JSON → blobmsg, then blobmsg_format_json. */
function expectedPlain(value: unknown): unknown {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
      if (Object.is(value, -0)) return 0;
      return Number.isSafeInteger(value) ? value : BigInt(value);
    }
    return value;
  }
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(expectedPlain);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expectedPlain(v)]));
  return value;
}

const { plain: plainArb } = fc.letrec<{ plain: unknown }>((tie) => ({
  plain: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 63), 2 ** 63, 1e300, -0, 0.1),
    fc.double(),
    fc.bigInt(INT64_MIN, INT64_MAX),
    text(12),
    fc.array(tie('plain'), { maxLength: 4 }),
    fc.dictionary(text(), tie('plain'), { maxKeys: 4 }),
  ),
}));

describe('plain values map as the ubus CLI maps JSON, and read back as `ubus call` shows them', () => {
  it('decodeBlobmsgTable(encodeBlobmsgTable(x)) is x, up to the mapping', () => {
    fc.assert(
      fc.property(fc.dictionary(text(), plainArb, { maxKeys: 5 }), (table) => {
        expect(decodeBlobmsgTable(encodeBlobmsgTable(table))).toEqual(expectedPlain(table));
      }),
      { numRuns: RUNS },
    );
  });

  it('picks the wire type per value', () => {
    const typeOf = (value: unknown): string | undefined => decodeBlobmsgAttrs(encodeBlobmsgTable({ v: value }))[0]?.type;
    expect(typeOf(true)).toBe('int8');
    expect(typeOf(false)).toBe('int8');
    expect(typeOf(0)).toBe('int32');
    expect(typeOf(-0)).toBe('int32');
    expect(typeOf(0x7fffffff)).toBe('int32');
    expect(typeOf(-0x80000000)).toBe('int32');
    expect(typeOf(0x80000000)).toBe('int64');
    expect(typeOf(-0x80000001)).toBe('int64');
    expect(typeOf(1.5)).toBe('double');
    expect(typeOf(NaN)).toBe('double');
    expect(typeOf(Infinity)).toBe('double');
    expect(typeOf(2 ** 63)).toBe('double'); // an integer beyond int64 is not clamped
    expect(typeOf(5n)).toBe('int64');
    expect(typeOf('')).toBe('string');
    expect(typeOf(null)).toBe('unspec');
    expect(typeOf([])).toBe('array');
    expect(typeOf({})).toBe('table');
    expect(typeOf(new Typed('bool', true))).toBe('int8');
    expect(typeOf(new Typed('unspec', Uint8Array.of(1, 2)))).toBe('unspec');
  });

  it('lays out names and padding as libubox does', () => {
    // From constants.json: the CLI's "flag": true and "list": [1, "two", false].
    expect(toHex(encodeBlobmsgTable({ flag: true }))).toBe('8700000d0004666c6167000001000000');
    expect(toHex(encodeBlobmsgTable({ list: [1, 'two', false] }))).toBe(
      '8100003000046c69737400008500000c00000000000000018300000c0000000074776f00870000090000000000000000',
    );
    expect(toHex(encodeBlobmsgTable({}))).toBe('');
    expect(toHex(encodeBlobmsgTable({ '': null }))).toBe('8000000800000000');
    // 2 + namelen + 1 = 4: no padding after the NUL; namelen 2 → 5 → 8.
    expect(toHex(encodeBlobmsgTable({ a: null }))).toBe('8000000800016100');
    expect(toHex(encodeBlobmsgTable({ ab: null }))).toBe('8000000c0002616200000000');
    // Names and strings are UTF-8; namelen counts bytes.
    expect(toHex(encodeBlobmsgTable({ é: '€' }))).toBe('83000010' + '0002c3a900000000' + 'e282ac00');
  });

  it('follows JSON for what JSON cannot hold, refuses what it cannot encode', () => {
    expect(decodeBlobmsgTable(encodeBlobmsgTable({ a: undefined, f: () => 1, s: Symbol('x'), b: 1 }))).toEqual({ b: 1 });
    expect(decodeBlobmsgTable(encodeBlobmsgTable({ list: [undefined, () => 1] }))).toEqual({ list: [null, null] });
    expect(decodeBlobmsgTable(encodeBlobmsgTable({ when: new Date(0) }))).toEqual({ when: '1970-01-01T00:00:00.000Z' });
    expectCode(() => encodeBlobmsgTable({ big: 2n ** 63n }), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => encodeBlobmsgTable({ bytes: Uint8Array.of(1) }), ErrorCodes.INVALID_ARGUMENT);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectCode(() => encodeBlobmsgTable(cyclic), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => encodeBlobmsgTable([] as unknown as Record<string, unknown>), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => encodeBlobmsgTable({ ['x'.repeat(0x10000)]: 1 }), ErrorCodes.INVALID_ARGUMENT);
  });

  it('checks Typed ranges when the value is made', () => {
    expectCode(() => int8(256), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => int8(-129), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => int16(0x10000), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => int32(2 ** 32), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => int32(1.5), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => int64(2n ** 64n), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => int64(2 ** 64), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => new Typed('bool', 1), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => new Typed('nope' as 'bool', true), ErrorCodes.INVALID_ARGUMENT);
  });

  it('reads INT64 as a number while safe, else as a bigint; INT8 other than 0/1 as true, kept exact', () => {
    expect(decodeBlobmsgTable(encodeBlobmsgTable({ a: int64(2 ** 53 - 1), b: int64(2n ** 53n + 1n) }))).toEqual({
      a: 2 ** 53 - 1,
      b: 2n ** 53n + 1n,
    });
    const two = fromHex('87000009' + '00016100' + '02000000'); // INT8 "a" = 2
    const [node] = decodeBlobmsgAttrs(two);
    expect(node).toMatchObject({ type: 'int8', value: true });
    expect(toHex(encodeBlobmsgNodes([node as BlobmsgNode]))).toBe(toHex(two));
  });

  it('encodes nodes given by value instead of children, when the value fits the type', () => {
    const byValue = encodeBlobmsgNodes([{ type: 'table', name: 't', value: { a: 1, l: [int16(2)] } }]);
    expect(toHex(byValue)).toBe(toHex(encodeBlobmsgTable({ t: { a: 1, l: [int16(2)] } })));
    expectCode(() => encodeBlobmsgNodes([{ type: 'array', name: 'a', value: { a: 1 } }]), ErrorCodes.INVALID_ARGUMENT);
    expectCode(() => encodeBlobmsgNodes([{ type: 'int32', name: 'n', value: 'x' }]), ErrorCodes.INVALID_ARGUMENT);
  });

  it('keeps the first of repeated names (blobmsg_parse) and treats __proto__ as a name', () => {
    const body = new Uint8Array([
      ...encodeBlobmsgTable({ a: 1 }),
      ...encodeBlobmsgTable({ a: 2 }),
      ...encodeBlobmsgTable({ ['__proto__']: { polluted: true } }),
    ]);
    const table = decodeBlobmsgTable(body);
    expect(table.a).toBe(1);
    expect(Object.getPrototypeOf(table)).toBe(Object.prototype);
    expect(Object.keys(table)).toEqual(['a', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The nodes keep both, so the bytes come back.
    expect(toHex(encodeBlobmsgNodes(decodeBlobmsgAttrs(body)))).toBe(toHex(body));
  });

  it('limits nesting both ways', () => {
    let deep: unknown = 1;
    for (let i = 0; i < BLOBMSG_MAX_DEPTH - 1; i++) deep = [deep];
    const ok = encodeBlobmsgTable({ deep });
    expect(decodeBlobmsgAttrs(ok)).toHaveLength(1);
    expectCode(() => encodeBlobmsgTable({ deep: [deep] }), ErrorCodes.INVALID_ARGUMENT);
    // Hand-made: an array header nested 200 times (each 8 bytes), as a hostile sender would.
    const levels = 200;
    const wire = new Uint8Array(levels * 8);
    const view = new DataView(wire.buffer);
    for (let i = 0; i < levels; i++) view.setUint32(i * 8, (0x81000000 | (wire.length - i * 8)) >>> 0);
    expectCode(() => decodeBlobmsgAttrs(wire), ErrorCodes.UBUS_PROTOCOL);
  });
});

// ---- messages ---------------------------------------------------------------------------

describe('messages', () => {
  const frame = (hex: string): Uint8Array => fromHex(hex);

  it('refuse what libubus refuses, and roots that are not a plain id-0 blob', () => {
    const hello = '00000000ae5bd39b00000004';
    expect(decodeMessage(frame(hello)).attrs).toEqual([]);
    expectCode(() => decodeMessage(frame(`01${hello.slice(2)}`)), ErrorCodes.UBUS_PROTOCOL); // version
    expectCode(() => decodeMessage(frame(`${hello.slice(0, 16)}01000004`)), ErrorCodes.UBUS_PROTOCOL); // root id 1
    expectCode(() => decodeMessage(frame(`${hello.slice(0, 16)}80000004`)), ErrorCodes.UBUS_PROTOCOL); // root extended
    expectCode(() => decodeMessage(frame(`${hello.slice(0, 16)}00000003`)), ErrorCodes.UBUS_PROTOCOL); // shorter than a header
    expectCode(() => decodeMessage(frame(`${hello}00`)), ErrorCodes.UBUS_PROTOCOL); // trailing byte
    expectCode(() => decodeMessage(frame(hello.slice(0, 22))), ErrorCodes.UBUS_PROTOCOL); // truncated
    // A root of 5 bytes: the attribute inside cannot be padded within it.
    expectCode(() => decodeMessage(frame('0000000000000000000000090300000501')), ErrorCodes.UBUS_PROTOCOL);
    // The blobmsg (extended) bit on a message attribute.
    expectCode(() => decodeMessage(frame('00020000000000000000000c8300000800000001')), ErrorCodes.UBUS_PROTOCOL);
  });

  it('accept up to UBUS_MAX_MSGLEN and no more, both ways', () => {
    // Root header 4 + DATA header 4 + payload: exactly the limit.
    const fits: UbusMessage = {
      version: 0,
      type: MsgType.DATA,
      seq: 1,
      peer: 1,
      attrs: [{ id: Attr.UNSPEC, value: new Uint8Array(UBUS_MAX_MSGLEN - 8) }],
    };
    const bytes = encodeMessage(fits);
    expect(bytes.length).toBe(8 + UBUS_MAX_MSGLEN);
    expect(decodeMessage(bytes).attrs[0]?.value).toHaveLength(UBUS_MAX_MSGLEN - 8);
    const tooBig = { ...fits, attrs: [{ id: Attr.UNSPEC, value: new Uint8Array(UBUS_MAX_MSGLEN - 7) }] };
    expectCode(() => encodeMessage(tooBig), ErrorCodes.INVALID_ARGUMENT);
    // The reader refuses such a header at once, before buffering a byte of the body.
    const reader = new MessageReader();
    expectCode(() => reader.push(fromHex('000200010000000100100004')), ErrorCodes.UBUS_PROTOCOL);
    expect(new MessageReader().push(bytes)).toHaveLength(1);
  });

  it('keep payloads that do not fit their kind as bytes; attrsOf ignores them and lets the last win', () => {
    const msg = decodeMessage(
      encodeMessage({
        version: 0,
        type: MsgType.STATUS,
        seq: 1,
        peer: 0,
        attrs: [
          { id: Attr.STATUS, value: 1 },
          { id: Attr.STATUS, value: 2 },
          { id: Attr.STATUS, value: Uint8Array.of(0, 0, 9) }, // 3 bytes: not an int32
          { id: Attr.OBJPATH, value: Uint8Array.of(0x61) }, // no NUL
          { id: Attr.METHOD, value: Uint8Array.of(0xff, 0) }, // not UTF-8
          { id: Attr.ACTIVE, value: Uint8Array.of(2) },
          { id: Attr.DATA, value: fromHex('0300000800000003') }, // not blobmsg
          { id: Attr.SUBSCRIBERS, value: [7, 0xffffffff] },
          { id: 42, value: Uint8Array.of(1, 2, 3) },
        ],
      }),
    );
    expect(msg.attrs.map((a) => a.value instanceof Uint8Array)).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      false,
      true,
    ]);
    expect(attrsOf(msg)).toEqual({ status: 2, subscribers: [7, 0xffffffff] });
    expectCode(
      () => encodeMessage({ ...msg, attrs: [{ id: 42, value: 'text' } as unknown as UbusAttr] }),
      ErrorCodes.INVALID_ARGUMENT,
    );
    expectCode(() => encodeMessage({ ...msg, seq: 0x10000 }), ErrorCodes.INVALID_ARGUMENT);
    expectCode(
      () => encodeMessage({ ...msg, attrs: [{ id: Attr.OBJID, value: 'x' } as unknown as UbusAttr] }),
      ErrorCodes.INVALID_ARGUMENT,
    );
  });

  it('take plain objects for DATA and SIGNATURE and give them back through attrsOf', () => {
    const msg = decodeMessage(
      encodeMessage({
        version: 0,
        type: MsgType.DATA,
        seq: 3,
        peer: 9,
        attrs: [
          { id: Attr.OBJPATH, value: 'network.interface.lan' },
          { id: Attr.SIGNATURE, value: { status: {}, up: { force: BlobmsgType.BOOL } } },
          { id: Attr.DATA, value: { up: true, uptime: 12, ipv4: [{ address: '192.168.1.1', mask: 24 }] } },
        ],
      }),
    );
    expect(attrsOf(msg)).toEqual({
      objpath: 'network.interface.lan',
      signature: { status: {}, up: { force: 7 } },
      data: { up: true, uptime: 12, ipv4: [{ address: '192.168.1.1', mask: 24 }] },
    });
  });
});

// ---- hostile input ----------------------------------------------------------------------

/** Decodes and, when that works, everything built on it: only WrtkitError may come out. */
function decodeAll(bytes: Uint8Array): void {
  const msg = tolerated(() => decodeMessage(bytes));
  if (!msg) return;
  attrsOf(msg);
  if (msg.type === MsgType.MONITOR) {
    const record = tolerated(() => decodeMonitor(msg));
    if (record) attrsOf(record.message);
  }
  // Whatever decoded encodes again, and that decodes to the same message (padding and
  // invalid UTF-8 in names are what may differ from the input).
  const again = encodeMessage(msg);
  expect(decodeMessage(again)).toEqual(msg);
}

describe('hostile input fails with WrtkitError only, and quickly', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), decodeAll), { numRuns: FUZZ_RUNS });
  });

  it('random bodies behind a plausible header', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 256 }), (type, body) => {
        const bytes = new Uint8Array(12 + body.length);
        const view = new DataView(bytes.buffer);
        bytes[1] = type;
        view.setUint32(8, 4 + body.length);
        bytes.set(body, 12);
        decodeAll(bytes);
        tolerated(() => decodeBlobmsgAttrs(body));
        tolerated(() => decodeBlobmsgTable(body));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('single-byte corruptions of valid frames', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (frame, at, byte) => {
        const bad = frame.slice();
        bad[at % bad.length] = byte;
        decodeAll(bad);
        tolerated(() => new MessageReader().push(bad));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('single-byte corruptions of valid blobmsg', () => {
    fc.assert(
      fc.property(
        nodesArb.filter((n) => n.length > 0),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (nodes, at, byte) => {
          const bad = encodeBlobmsgNodes(nodes);
          bad[at % bad.length] = byte;
          const decoded = tolerated(() => decodeBlobmsgAttrs(bad));
          if (decoded) expect(decodeBlobmsgAttrs(encodeBlobmsgNodes(decoded))).toEqual(decoded);
          tolerated(() => decodeBlobmsgTable(bad));
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('truncated, padded, and mis-aligned frames', () => {
    fc.assert(
      fc.property(frameArb, fc.integer({ min: 1, max: 3 }), (frame, delta) => {
        for (let n = 0; n < frame.length; n++) expectCode(() => decodeMessage(frame.subarray(0, n)), ErrorCodes.UBUS_PROTOCOL);
        const longer = new Uint8Array(frame.length + delta);
        longer.set(frame);
        expectCode(() => decodeMessage(longer), ErrorCodes.UBUS_PROTOCOL);
        // The root length off by 1..3 (not a multiple of 4), the bytes to match.
        const view = new DataView(frame.buffer, frame.byteOffset);
        const rootLen = view.getUint32(8);
        if (rootLen - delta >= 4) {
          const shorter = frame.slice(0, frame.length - delta);
          new DataView(shorter.buffer).setUint32(8, rootLen - delta);
          if (rootLen > 4) expectCode(() => decodeMessage(shorter), ErrorCodes.UBUS_PROTOCOL);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('random streams into the reader; after an error it stays failed', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const reader = new MessageReader();
        let failure: unknown;
        for (const chunk of chunks) {
          try {
            reader.push(chunk);
          } catch (error) {
            expect(error).toBeInstanceOf(WrtkitError);
            if (failure !== undefined) expect(error).toBe(failure);
            failure = error;
          }
        }
        if (failure !== undefined) expect(() => reader.push(new Uint8Array(0))).toThrow(failure as Error);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

// ---- the stream reader ------------------------------------------------------------------

describe('MessageReader', () => {
  it('yields the same messages whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, cuts) => {
        const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
        let at = 0;
        for (const f of frames) {
          stream.set(f, at);
          at += f.length;
        }
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const reader = new MessageReader();
        const out: UbusMessage[] = [];
        let from = 0;
        for (const p of [...points, stream.length]) {
          out.push(...reader.push(stream.subarray(from, p)));
          from = p;
        }
        expect(out).toEqual(frames.map((f) => decodeMessage(f)));
        expect(reader.buffered).toBe(0);
        // Decoded messages do not share the reader's buffer.
        reader.push(new Uint8Array(64).fill(0xee).subarray(0, 11));
        expect(out).toEqual(frames.map((f) => decodeMessage(f)));
      }),
      { numRuns: RUNS },
    );
  });

  it('works one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 3 }), (frames) => {
        const reader = new MessageReader();
        const out: UbusMessage[] = [];
        for (const f of frames) for (const b of f) out.push(...reader.push(Uint8Array.of(b)));
        expect(out.map((m) => toHex(encodeMessage(m)))).toEqual(frames.map(toHex));
      }),
      { numRuns: 50 },
    );
  });
});
