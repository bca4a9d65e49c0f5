/**
 * Our ubus broker (core/src/ubus/broker.ts):
 *
 * (a) from ubusd's side of the captures: for every recorded scenario, one socket per
 *     recorded connection plays what the real processes sent, in the recorded global order,
 *     and every message our broker sends must be the one the real ubusd sent on that
 *     connection, byte for byte, except the ids ubusd draws at random (client, object and
 *     object type ids). Those are mapped recorded ↔ ours as a bijection wherever they occur:
 *     message headers, OBJID/OBJTYPE/TARGET/SUBSCRIBERS, blobmsg int32 values inside DATA
 *     (event `register` {object}, `ubus.object.add` {id}, a method's reply), and monitor
 *     records with the messages they carry;
 * (b) our client and object server through the broker on Node (broker-suite.ts);
 * (c) the same cases on QuickJS with the native socket module.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../../scripts/rollup-plugins.js';
import { SystemClock } from '../../src/clock/clock.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { type Broker, startBroker } from '../../src/ubus/broker.js';
import { Attr, BlobmsgType, MonitorAttr, MsgType } from '../../src/ubus/constants.js';
import { decodeMessage, frameLength } from '../../src/ubus/message.js';
import { qjsPath, repoRoot } from '../helpers/engines.js';
import { buildNative } from '../platform/native-build.js';
import { brokerCases } from './broker-suite.js';
import { type RecordedMessage, type Scenario, loadScenario } from './replay.js';

const platform = await createNodePlatform([]);
const clock = new SystemClock(platform.timers);
const scratch = () => mkdtempSync(join(tmpdir(), 'wrtkit-broker-'));

const SCENARIOS = [
  '01-hello-list',
  '02-call-echo',
  '03-call-errors',
  '04-call-multi-reply',
  '05-event-send-listen',
  '06-object-add-remove',
  '07-subscribe-notify',
  '08-wait-for',
  '09-monitor',
];
/** Ids below this are ubusd's own objects; ubusd draws every other id at random above it. */
const SYSTEM_OBJECT_MAX = 1024;

// ---- where ids sit in a message --------------------------------------------------------

interface Slot {
  /** Byte offset of a big-endian u32. */
  at: number;
  /** A field that always holds an id; otherwise a blobmsg int32 that may hold one. */
  id: boolean;
}

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);
const setU32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v);

/** Calls fn(id, payloadStart, payloadEnd, extended) for each blob attribute in [start, end). */
function eachAttr(b: Uint8Array, start: number, end: number, fn: (id: number, s: number, e: number, ext: boolean) => void): void {
  let at = start;
  while (at + 4 <= end) {
    const idLen = u32(b, at);
    const raw = idLen & 0xffffff;
    if (raw < 4 || at + raw > end) return;
    fn((idLen >>> 24) & 0x7f, at + 4, at + raw, (idLen & 0x80000000) !== 0);
    at += (raw + 3) & ~3;
  }
}

function blobmsgSlots(b: Uint8Array, start: number, end: number, out: Slot[]): void {
  eachAttr(b, start, end, (type, s, e, ext) => {
    if (!ext || e - s < 2) return;
    const namelen = (b[s] as number) * 256 + (b[s + 1] as number);
    const value = s + ((2 + namelen + 1 + 3) & ~3);
    if (type === BlobmsgType.INT32 && e - value === 4) out.push({ at: value, id: false });
    else if (type === BlobmsgType.TABLE || type === BlobmsgType.ARRAY) blobmsgSlots(b, value, e, out);
  });
}

function attrSlots(b: Uint8Array, start: number, end: number, out: Slot[]): void {
  eachAttr(b, start, end, (id, s, e) => {
    if ((id === Attr.OBJID || id === Attr.OBJTYPE || id === Attr.TARGET) && e - s === 4) out.push({ at: s, id: true });
    else if (id === Attr.SUBSCRIBERS) eachAttr(b, s, e, (_sub, ss, se) => se - ss === 4 && out.push({ at: ss, id: true }));
    else if (id === Attr.DATA || id === Attr.SIGNATURE) blobmsgSlots(b, s, e, out);
  });
}

/** Every place in a frame that holds, or may hold, an id. */
function slotsOf(frame: Uint8Array): Slot[] {
  const out: Slot[] = [{ at: 4, id: true }];
  if (frame[1] !== MsgType.MONITOR) {
    attrSlots(frame, 12, frame.length, out);
    return out;
  }
  eachAttr(frame, 12, frame.length, (id, s, e) => {
    if ((id === MonitorAttr.CLIENT || id === MonitorAttr.PEER) && e - s === 4) out.push({ at: s, id: true });
    // the monitored message's own attributes, with their own ids
    else if (id === MonitorAttr.DATA) attrSlots(frame, s, e, out);
  });
  return out;
}

/** Recorded ids ↔ the broker's, learned as they first appear in what the broker sends. */
class IdMap {
  readonly recorded = new Set<number>();
  private readonly toOurs = new Map<number, number>();
  private readonly toRecorded = new Map<number, number>();

  constructor(messages: RecordedMessage[]) {
    for (const m of messages) {
      const frame = Buffer.from(m.hex, 'hex');
      for (const slot of slotsOf(frame)) {
        const v = u32(frame, slot.at);
        if (slot.id && v >= SYSTEM_OBJECT_MAX) this.recorded.add(v);
      }
    }
  }

  /** A recorded client->server message with our ids in place of the recorded ones. */
  translate(hex: string): Buffer {
    const frame = Buffer.from(hex, 'hex');
    for (const slot of slotsOf(frame)) {
      const v = u32(frame, slot.at);
      if (!this.recorded.has(v)) continue;
      const ours = this.toOurs.get(v);
      if (ours === undefined) throw new Error(`recorded id ${v} is sent before the broker gave one for it`);
      setU32(frame, slot.at, ours);
    }
    return frame;
  }

  /** Differences between what ubusd sent and what we sent, ids mapped; '' when none. */
  compare(expectedHex: string, actual: Uint8Array): string {
    const expected = Buffer.from(expectedHex, 'hex');
    if (expected.length !== actual.length) return `length ${actual.length}, expected ${expected.length}`;
    const mapped = Buffer.from(actual);
    for (const slot of slotsOf(expected)) {
      const v = u32(expected, slot.at);
      if (!this.recorded.has(v)) continue;
      const ours = u32(actual, slot.at);
      const known = this.toOurs.get(v);
      const back = this.toRecorded.get(ours);
      if (known !== undefined && known !== ours) return `recorded id ${v} is ${known} here, but ${ours} at byte ${slot.at}`;
      if (back !== undefined && back !== v) return `our id ${ours} stands for recorded ${back}, but for ${v} at byte ${slot.at}`;
      this.toOurs.set(v, ours);
      this.toRecorded.set(ours, v);
      setU32(mapped, slot.at, v);
    }
    return mapped.equals(expected) ? '' : 'bytes differ';
  }

  get size(): number {
    return this.toOurs.size;
  }
}

// ---- one recorded process's socket -------------------------------------------------------

class RecordedConnection {
  private buffer = Buffer.alloc(0);
  readonly frames: Buffer[] = [];
  readonly closed: Promise<void>;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 12) {
        const length = frameLength(this.buffer.subarray(0, 12));
        if (this.buffer.length < length) break;
        this.frames.push(this.buffer.subarray(0, length));
        this.buffer = this.buffer.subarray(length);
      }
      this.wake?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(path: string): Promise<RecordedConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('connect', () => resolve(new RecordedConnection(socket)));
      socket.once('error', reject);
    });
  }

  async next(timeoutMs: number): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.frames.shift();
  }
}

interface Difference {
  index: number;
  conn: number;
  problem: string;
  expected?: unknown;
  actual?: unknown;
}

/** Replays every connection of a scenario against a fresh broker; the differences found. */
async function conform(name: string): Promise<{ differences: Difference[]; ids: number; scenario: Scenario }> {
  const scenario = loadScenario(name);
  const path = join(scratch(), 'ubus.sock');
  const broker: Broker = await startBroker({ sockets: platform.sockets!, path, clock });
  const recorded = scenario.messages.filter((m): m is RecordedMessage => 'hex' in m);
  const ids = new IdMap(recorded);
  const conns = new Map<number, RecordedConnection>();
  const differences: Difference[] = [];
  // Every entry (messages and EOFs) carries the relay's global order number.
  const orderOf = (m: object) => (m as { order: number }).order;
  const steps = [...scenario.messages].sort((a, b) => orderOf(a) - orderOf(b) || a.index - b.index);
  try {
    for (const step of steps) {
      let conn = conns.get(step.conn);
      if (!conn) {
        conn = await RecordedConnection.open(path);
        conns.set(step.conn, conn);
      }
      const direction = (step as unknown as { direction: string }).direction;
      if ('event' in step) {
        if (direction === 'client->server') conn.socket.end();
        else {
          const closed = await Promise.race([conn.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 2000))]);
          if (!closed)
            differences.push({ index: step.index, conn: step.conn, problem: 'the broker did not close the connection' });
        }
        continue;
      }
      if (direction === 'client->server') {
        conn.socket.write(ids.translate(step.hex));
        continue;
      }
      const actual = await conn.next(2000);
      if (!actual) {
        differences.push({ index: step.index, conn: step.conn, problem: 'nothing arrived', expected: decoded(step.hex) });
        continue;
      }
      const problem = ids.compare(step.hex, actual);
      if (problem) {
        differences.push({
          index: step.index,
          conn: step.conn,
          problem,
          expected: decoded(step.hex),
          actual: decoded(actual.toString('hex')),
        });
      }
    }
    await new Promise((r) => setTimeout(r, 100));
    for (const [n, conn] of conns) {
      for (const extra of conn.frames)
        differences.push({ index: -1, conn: n, problem: 'sent more than ubusd did', actual: decoded(extra.toString('hex')) });
    }
  } finally {
    for (const conn of conns.values()) conn.socket.destroy();
    await broker.close();
  }
  return { differences, ids: ids.size, scenario };
}

function decoded(hex: string): unknown {
  try {
    return JSON.parse(
      JSON.stringify(decodeMessage(Buffer.from(hex, 'hex')), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
    );
  } catch {
    return hex;
  }
}

describe('broker against the recorded ubusd (every message of every connection)', () => {
  for (const name of SCENARIOS) {
    it(`${name}: byte-identical to ubusd but for its random ids`, async () => {
      const { differences, ids, scenario } = await conform(name);
      expect(differences).toEqual([]);
      // Every id the scenario holds was matched to one of ours.
      const recordedIds = new IdMap(scenario.messages.filter((m): m is RecordedMessage => 'hex' in m)).recorded.size;
      expect(ids).toBe(recordedIds);
    });
  }

  it('the id mapping catches a wrong id, and a broker that sends what ubusd did not', async () => {
    const scenario = loadScenario('02-call-echo');
    const messages = scenario.messages.filter((m): m is RecordedMessage => 'hex' in m);
    const ids = new IdMap(messages);
    const hello = messages[0] as RecordedMessage;
    const added = messages[2] as RecordedMessage;
    expect(ids.compare(hello.hex, Buffer.from('0000000011111111' + '00000004', 'hex'))).toBe('');
    // the object id may not stand for the client id as well
    const wrong = Buffer.from(added.hex, 'hex');
    setU32(wrong, 16, 0x11111111);
    expect(ids.compare(added.hex, wrong)).toMatch(/stands for recorded/);
    const changed = Buffer.from('0000000011111111' + '00000004', 'hex');
    changed[1] = MsgType.STATUS;
    expect(ids.compare(hello.hex, changed)).toBe('bytes differ');
  });
});

describe('client ↔ broker on Node', () => {
  const env = { sockets: platform.sockets!, clock, socketPath: (label: string) => join(scratch(), `${label}.sock`) };
  for (const [name, run] of Object.entries(brokerCases)) {
    it(name, () => run(env), 20_000);
  }
});

describe('client ↔ broker on QuickJS with the native socket module', () => {
  let results: Map<string, { engine: string; error?: string }>;
  let stderr = '';
  beforeAll(async () => {
    const native = buildNative();
    const entry = join(repoRoot, '.cache/test-bundles/ubus-broker-suite.js');
    await bundle(join(repoRoot, 'core/test/ubus/broker-qjs-entry.ts'), entry, { minify: true });
    const dir = scratch();
    const stdout = await new Promise<string>((resolve) => {
      const child = spawn(qjsPath(), ['--no-unhandled-rejection', entry, dir], {
        env: { ...process.env, WRTKIT_NATIVE: native },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    results = new Map(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { name: string; engine: string; error?: string })
        .map((r) => [r.name, r]),
    );
  }, 120_000);

  for (const name of Object.keys(brokerCases)) {
    it(name, () => {
      expect(stderr).toBe('');
      const result = results.get(name);
      expect(result, `no result for ${name}`).toBeDefined();
      expect(result?.engine).toBe('qjs');
      expect(result?.error).toBeUndefined();
    });
  }
});
