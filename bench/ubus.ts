/**
 * ubus figures: what our blobmsg codec and a call through our broker cost, each next to a
 * baseline measured in the same process. Bundled by bench/lib/ubus.mjs with the repo's
 * rollup setup and run on node and on qjs (with the native socket module); every mode
 * that measures prints one JSON object on stdout. It measures, it asserts nothing.
 *
 *   <engine> ubus.js codec [--target-ms 25] [--rounds 7]
 *       blobmsg encode + decode (encodeBlobmsgTable, decodeBlobmsgTable) against
 *       JSON.stringify + JSON.parse of the same payloads
 *   <engine> ubus.js calls <dir> [--target-ms 300] [--rounds 5]
 *       round trips in ONE process: broker, object server and client; the same ubus
 *       messages pre-encoded on both ends (the broker's share alone); and the raw baselines
 *       (client ↔ server, client ↔ relay ↔ server) with frames of the same sizes
 *   <engine> ubus.js broker|object|frame-object|raw-server <socket>   (prints "ready" on stderr)
 *   <engine> ubus.js relay <listen socket> <server socket>            (prints "ready" on stderr)
 *   <engine> ubus.js client ubus-id|ubus-path|frames|raw <socket> [--target-ms 300] [--rounds 5]
 *       the roles of the separate-process layout, which bench/lib/ubus.mjs starts
 */
import { SystemClock } from '../core/src/clock/clock.js';
import { method } from '../core/src/control/methods.js';
import type { Connection, Platform, Sockets } from '../core/src/platform/platform.js';
import { loadPlatform } from '../core/src/platform/detect.js';
import { decodeBlobmsgTable, encodeBlobmsgTable } from '../core/src/ubus/blobmsg.js';
import { startBroker } from '../core/src/ubus/broker.js';
import { UbusClient } from '../core/src/ubus/client.js';
import { MsgType, Status } from '../core/src/ubus/constants.js';
import {
  addObjectMessage,
  attrsOf,
  dataMessage,
  decodeMessage,
  encodeMessage,
  frameLength,
  invokeMessage,
  lookupMessage,
  statusMessage,
} from '../core/src/ubus/message.js';

// ---- payloads ------------------------------------------------------------------------

/** What `wrtkit call wrtkit.status` answers, roughly: a small status table. */
const STATUS = {
  version: '0.1.0',
  engine: 'qjs',
  state: 'running',
  uptimeMs: 123456,
  plugins: { running: 3, failed: 0, disabled: 0 },
  problems: [],
  ubus: { connected: true, path: '/var/run/ubus/ubus.sock', clientId: 2864434397 },
};

/** The fixture server's `echo` reply (core/test/fixtures/ubus/README.md): nesting, arrays, every type. */
const ECHO = {
  received: { string: 'abc', number: 42, flag: true, list: [1, 'two', false], obj: { k: 'v', inner: { n: -1 } } },
  string: 'hello',
  empty_string: '',
  bool: true,
  int16: 300,
  int32: -42,
  int64: 1099511627776,
  double: 3.5,
  array: [1, 'two', false],
  table: { nested: { deep: 'yes' } },
};

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

/** 100 client records, as a captive portal or a station list would answer. */
const CLIENTS = {
  clients: Array.from({ length: 100 }, (_, i) => ({
    mac: `02:00:00:00:${hex2(i >> 8)}:${hex2(i)}`,
    ip: `192.168.1.${i + 10}`,
    hostname: `client-${i}`,
    ssid: 'OpenWrt',
    authorized: i % 3 !== 0,
    signal: -40 - (i % 30),
    rx_bytes: 1000000 + i * 12345,
    tx_bytes: 500000 + i * 54321,
    since: 1700000000000 + i * 1000,
  })),
};

const PAYLOADS: Array<{ name: string; value: Record<string, unknown> }> = [
  { name: 'status (small table)', value: STATUS },
  { name: 'echo reply (nested, arrays)', value: ECHO },
  { name: '100 client records', value: CLIENTS },
];

// ---- timing --------------------------------------------------------------------------

interface Options {
  targetMs: number;
  rounds: number;
}

function parseOptions(args: readonly string[], defaults: Options): Options {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  return {
    targetMs: Number(value('--target-ms') ?? defaults.targetMs),
    rounds: Number(value('--rounds') ?? defaults.rounds),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** ns per call of `iters` calls back to back. */
async function batch(platform: Platform, call: () => unknown, iters: number): Promise<number> {
  const started = platform.timers.monotonicMs();
  for (let i = 0; i < iters; i++) await call();
  return ((platform.timers.monotonicMs() - started) * 1e6) / iters;
}

/** Doubles the batch until one takes targetMs (which also warms the JIT up). */
async function calibrate(platform: Platform, call: () => unknown, targetMs: number): Promise<number> {
  let iters = 4;
  for (;;) {
    const ns = await batch(platform, call, iters);
    if ((ns * iters) / 1e6 >= targetMs || iters >= 1 << 24) return iters;
    iters *= 2;
  }
}

/** Several variants measured in rotating order per round: median ns of each. */
async function compare(platform: Platform, calls: Record<string, () => unknown>, options: Options) {
  const names = Object.keys(calls);
  const iters: Record<string, number> = {};
  for (const n of names) iters[n] = await calibrate(platform, calls[n] as () => unknown, options.targetMs);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + r) % names.length] as string;
      samples[n]?.push(await batch(platform, calls[n] as () => unknown, iters[n] as number));
    }
  }
  return { iters, samples, ns: Object.fromEntries(names.map((n) => [n, median(samples[n] as number[])])) };
}

// ---- codec ---------------------------------------------------------------------------

async function codec(platform: Platform, options: Options) {
  const results = [];
  let sink = 0;
  for (const { name, value } of PAYLOADS) {
    const blob = encodeBlobmsgTable(value);
    const json = JSON.stringify(value);
    const decoded = decodeBlobmsgTable(blob);
    if (JSON.stringify(decoded) !== json) throw new Error(`${name}: blobmsg round trip changed the payload`);
    const measured = await compare(
      platform,
      {
        blobEncode: () => (sink += encodeBlobmsgTable(value).length),
        blobDecode: () => (sink += Object.keys(decodeBlobmsgTable(blob)).length),
        jsonStringify: () => (sink += JSON.stringify(value).length),
        jsonParse: () => (sink += Object.keys(JSON.parse(json) as object).length),
        blobRoundTrip: () => (sink += Object.keys(decodeBlobmsgTable(encodeBlobmsgTable(value))).length),
        jsonRoundTrip: () => (sink += Object.keys(JSON.parse(JSON.stringify(value)) as object).length),
      },
      options,
    );
    // JSON text is counted as its UTF-8 bytes; these payloads are ASCII.
    results.push({ name, blobBytes: blob.length, jsonBytes: json.length, ns: measured.ns, samples: measured.samples });
  }
  return { sink, results };
}

// ---- sockets: ubus roles -------------------------------------------------------------

const OBJECT = 'bench';

function clockOf(platform: Platform) {
  return new SystemClock(platform.timers);
}

function socketsOf(platform: Platform): Sockets {
  if (!platform.sockets) throw new Error('no sockets on this engine (qjs needs WRTKIT_NATIVE)');
  return platform.sockets;
}

async function serveObject(platform: Platform, path: string): Promise<UbusClient> {
  const client = await UbusClient.connect({ sockets: socketsOf(platform), clock: clockOf(platform), path, reconnect: false });
  await client.addObject(OBJECT, {
    status: method({ access: 'read', schema: { type: 'object', properties: {} } }, () => STATUS),
  });
  return client;
}

async function ubusCaller(
  platform: Platform,
  path: string,
  byPath: boolean,
): Promise<{ call: () => Promise<unknown>; close(): void }> {
  const client = await UbusClient.connect({ sockets: socketsOf(platform), clock: clockOf(platform), path, reconnect: false });
  const id = await client.lookupId(OBJECT);
  const target = byPath ? OBJECT : id;
  // Make sure it answers what it should, once.
  const [reply] = await client.call(target, 'status', {});
  if (JSON.stringify(reply) !== JSON.stringify(STATUS)) throw new Error('unexpected reply from the bench object');
  return { call: () => client.call(target, 'status', {}), close: () => client.close() };
}

// ---- sockets: the raw baseline -------------------------------------------------------

/**
 * Frame sizes of one ubus call by id: the INVOKE the client sends, and the DATA + STATUS
 * it gets back. The raw baseline moves the same number of bytes each way, as one
 * length-prefixed frame, with no encoding or decoding: just the sockets and event loop.
 */
function ubusSizes(): { request: number; reply: number } {
  const id = 0x9abcdef0;
  return {
    request: encodeMessage(invokeMessage(1, id, 'status', {})).length,
    reply: encodeMessage(dataMessage(1, id, id, STATUS)).length + encodeMessage(statusMessage(1, id, Status.OK, id)).length,
  };
}

function frameOf(size: number): Uint8Array {
  const frame = new Uint8Array(size);
  const body = size - 4;
  frame[0] = body >>> 24;
  frame[1] = (body >>> 16) & 0xff;
  frame[2] = (body >>> 8) & 0xff;
  frame[3] = body & 0xff;
  return frame;
}

/** Calls onFrame for each complete length-prefixed frame (never empty here) arriving on conn. */
function onFrames(conn: Connection, onFrame: () => void): void {
  let need = -1;
  let have = 0;
  const head = new Uint8Array(4);
  let headLen = 0;
  conn.onData((chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (need < 0) {
        while (headLen < 4 && at < chunk.length) head[headLen++] = chunk[at++] as number;
        if (headLen < 4) return;
        need =
          (((head[0] as number) << 24) | ((head[1] as number) << 16) | ((head[2] as number) << 8) | (head[3] as number)) >>> 0;
        have = 0;
        headLen = 0;
      }
      const n = Math.min(need - have, chunk.length - at);
      have += n;
      at += n;
      if (have === need) {
        need = -1;
        onFrame();
      }
    }
  });
}

async function rawServer(platform: Platform, path: string) {
  const reply = frameOf(ubusSizes().reply);
  return socketsOf(platform).listen(path, (conn) => onFrames(conn, () => conn.write(reply)));
}

/** Forwards bytes both ways between each client and its own connection to the server. */
async function relay(platform: Platform, listenPath: string, serverPath: string) {
  const sockets = socketsOf(platform);
  return sockets.listen(listenPath, (down) => {
    const pending: Uint8Array[] = [];
    let up: Connection | undefined;
    down.onData((chunk) => (up ? up.write(chunk) : pending.push(chunk.slice())));
    void sockets.connect(serverPath).then((conn) => {
      up = conn;
      conn.onData((chunk) => down.write(chunk));
      conn.onClose(() => down.close());
      down.onClose(() => conn.close());
      for (const chunk of pending.splice(0)) conn.write(chunk);
    });
  });
}

async function rawCaller(platform: Platform, path: string): Promise<{ call: () => Promise<unknown>; close(): void }> {
  const conn = await socketsOf(platform).connect(path);
  const request = frameOf(ubusSizes().request);
  let wake: (() => void) | undefined;
  onFrames(conn, () => wake?.());
  return {
    call: () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        conn.write(request);
      }),
    close: () => conn.close(),
  };
}

// ---- sockets: pre-encoded ubus frames (the broker alone) -------------------------------

const FRAME_OBJECT = 'bench.frames';

/** Calls onFrame with each complete ubus message (header + root) arriving on conn. */
function onUbusFrames(conn: Connection, onFrame: (frame: Uint8Array) => void): void {
  let buffer = new Uint8Array(0);
  conn.onData((chunk) => {
    let data = chunk;
    if (buffer.length > 0) {
      data = new Uint8Array(buffer.length + chunk.length);
      data.set(buffer);
      data.set(chunk, buffer.length);
    }
    let at = 0;
    while (data.length - at >= 12) {
      const length = frameLength(data.subarray(at, at + 12));
      if (data.length - at < length) break;
      onFrame(data.subarray(at, at + length));
      at += length;
    }
    buffer = data.slice(at);
  });
}

/**
 * An object server that answers every INVOKE with the same DATA + STATUS bytes, only its
 * header's seq and peer set, decoding and encoding nothing: what is left of a call is the
 * broker (and the sockets).
 */
async function frameObject(platform: Platform, path: string): Promise<Connection> {
  const conn = await socketsOf(platform).connect(path);
  let objid = 0;
  let reply: Uint8Array | undefined;
  await new Promise<void>((resolve) => {
    onUbusFrames(conn, (frame) => {
      const type = frame[1];
      if (type === MsgType.HELLO) {
        conn.write(encodeMessage(addObjectMessage(1, { path: FRAME_OBJECT, signature: { status: {} } })));
      } else if (type === MsgType.DATA && objid === 0) {
        objid = attrsOf(decodeMessage(frame)).objid ?? 0;
        const data = encodeMessage(dataMessage(0, 0, objid, STATUS));
        const status = encodeMessage(statusMessage(0, 0, Status.OK, objid));
        reply = new Uint8Array(data.length + status.length);
        reply.set(data);
        reply.set(status, data.length);
      } else if (type === MsgType.STATUS && reply && objid !== 0 && frame[3] === 1) {
        resolve();
      } else if (type === MsgType.INVOKE && reply) {
        const statusAt = reply.length - encodeMessage(statusMessage(0, 0, Status.OK, objid)).length;
        for (const at of [0, statusAt]) reply.set(frame.subarray(2, 8), at + 2); // seq and peer of the call
        conn.write(reply);
      }
    });
  });
  return conn;
}

/** A caller sending the same pre-encoded INVOKE and collecting frames until the STATUS. */
async function frameCaller(platform: Platform, path: string): Promise<{ call: () => Promise<unknown>; close(): void }> {
  const conn = await socketsOf(platform).connect(path);
  let onFrame: (frame: Uint8Array) => void = () => undefined;
  onUbusFrames(conn, (frame) => onFrame(frame));
  await new Promise<void>((resolve) => (onFrame = (frame) => frame[1] === MsgType.HELLO && resolve()));
  /** Sends a request; resolves with every frame up to and including its STATUS. */
  const exchange = (request: Uint8Array) =>
    new Promise<Uint8Array[]>((resolve) => {
      const frames: Uint8Array[] = [];
      onFrame = (frame) => {
        frames.push(frame);
        if (frame[1] === MsgType.STATUS) resolve(frames);
      };
      conn.write(request);
    });
  const [found] = await exchange(encodeMessage(lookupMessage(1, FRAME_OBJECT)));
  const objid = attrsOf(decodeMessage(found as Uint8Array)).objid ?? 0;
  const invoke = encodeMessage(invokeMessage(2, objid, 'status', {}));
  return { call: () => exchange(invoke), close: () => conn.close() };
}

// ---- layouts -------------------------------------------------------------------------

/** Everything in this one process. */
async function calls(platform: Platform, dir: string, options: Options) {
  const broker = await startBroker({ sockets: socketsOf(platform), path: `${dir}/ubus.sock` });
  const server = await serveObject(platform, `${dir}/ubus.sock`);
  const byId = await ubusCaller(platform, `${dir}/ubus.sock`, false);
  const byPath = await ubusCaller(platform, `${dir}/ubus.sock`, true);
  const frameServer = await frameObject(platform, `${dir}/ubus.sock`);
  const frames = await frameCaller(platform, `${dir}/ubus.sock`);
  const raw = await rawServer(platform, `${dir}/raw.sock`);
  const relayed = await relay(platform, `${dir}/relay.sock`, `${dir}/raw.sock`);
  const direct = await rawCaller(platform, `${dir}/raw.sock`);
  const viaRelay = await rawCaller(platform, `${dir}/relay.sock`);
  const measured = await compare(
    platform,
    { ubusById: byId.call, ubusByPath: byPath.call, frames: frames.call, rawDirect: direct.call, rawRelayed: viaRelay.call },
    options,
  );
  for (const c of [byId, byPath, frames, direct, viaRelay]) c.close();
  server.close();
  frameServer.close();
  await broker.close();
  await raw.close();
  await relayed.close();
  return { sizes: ubusSizes(), ...measured };
}

async function client(platform: Platform, kind: string, path: string, options: Options) {
  const caller =
    kind === 'raw'
      ? await rawCaller(platform, path)
      : kind === 'frames'
        ? await frameCaller(platform, path)
        : await ubusCaller(platform, path, kind === 'ubus-path');
  const measured = await compare(platform, { [kind]: caller.call }, options);
  caller.close();
  return { sizes: ubusSizes(), ...measured };
}

/** Runs until SIGTERM, after saying "ready". */
async function serve(platform: Platform, start: () => Promise<unknown>): Promise<void> {
  await start();
  platform.stdio.writeStderr('ready\n');
  await new Promise<void>((resolve) => platform.signals.on('SIGTERM', resolve));
}

// No top-level await (see core/src/main.ts: on qjs 2025-04-26 it stalls promise jobs).
async function main(): Promise<void> {
  const platform = await loadPlatform();
  const [mode = '', a = '', b = '', ...rest] = platform.args;
  const started = platform.timers.monotonicMs();
  const print = (result: unknown) =>
    platform.stdio.writeStdout(
      `${JSON.stringify({ engine: platform.engine, mode, ms: platform.timers.monotonicMs() - started, ...(result as object) })}\n`,
    );
  try {
    switch (mode) {
      case 'codec':
        print(await codec(platform, parseOptions(platform.args, { targetMs: 25, rounds: 7 })));
        break;
      case 'calls':
        print(await calls(platform, a, parseOptions(platform.args, { targetMs: 300, rounds: 5 })));
        break;
      case 'broker':
        await serve(platform, () => startBroker({ sockets: socketsOf(platform), path: a }));
        break;
      case 'object':
        await serve(platform, () => serveObject(platform, a));
        break;
      case 'frame-object':
        await serve(platform, () => frameObject(platform, a));
        break;
      case 'raw-server':
        await serve(platform, () => rawServer(platform, a));
        break;
      case 'relay':
        await serve(platform, () => relay(platform, a, b));
        break;
      case 'client':
        print(await client(platform, a, b, parseOptions(rest, { targetMs: 300, rounds: 5 })));
        break;
      default:
        throw new Error(`unknown mode ${mode}`);
    }
    platform.exit(0);
  } catch (error) {
    platform.stdio.writeStderr(`ubus bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    platform.exit(1);
  }
}

void main();
