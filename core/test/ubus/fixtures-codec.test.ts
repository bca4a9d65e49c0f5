// The codec against captures of the real ubusd, ubus CLI and libubus (fixtures/ubus, see
// its README): every message decodes to what was recorded, encodes back to the same
// bytes, and what the CLI and the libubus fixture server sent can be built from plain
// values with the message builders.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Attr,
  BlobmsgType,
  MsgType,
  MessageReader,
  MonitorAttr,
  Status,
  type BlobmsgNode,
  type BlobmsgValue,
  type UbusAttr,
  type UbusMessage,
  addObjectMessage,
  attrsOf,
  dataMessage,
  decodeBlobmsgTable,
  decodeMessage,
  decodeMonitor,
  encodeAttrs,
  encodeBlobmsgNodes,
  encodeBlobmsgTable,
  encodeMessage,
  eventRegisterMessage,
  eventSendMessage,
  int16,
  invokeMessage,
  lookupMessage,
  monitorMessage,
  notifyMessage,
  removeObjectMessage,
  statusMessage,
  statusName,
  subscribeMessage,
} from '../../src/ubus/index.js';

// ---- the fixture files ------------------------------------------------------------------

interface RecNode {
  type_id: number;
  type: string;
  extended: boolean;
  raw_len: number;
  hex: string;
  name?: string;
  namelen?: number;
  value?: unknown;
  as_bool?: boolean;
  children?: RecNode[];
}
interface RecAttr {
  id: number;
  name: string;
  raw_len: number;
  pad_len: number;
  hex: string;
  value?: unknown;
  value_hex?: string;
  status_name?: string;
  type_name?: string;
  blobmsg?: RecNode[];
  monitored_attrs?: RecAttr[];
}
interface RecMessage {
  index: number;
  conn: number;
  role: string;
  direction: 'client->server' | 'server->client';
  hex?: string;
  length?: number;
  event?: string;
  decoded?: {
    header: { version: number; type: number; type_name: string; seq: number; peer: number };
    root_blob: { id: number; raw_len: number };
    attrs: RecAttr[];
  };
}
interface Scenario {
  file: string;
  processes: Array<{ role: string; conn: number; command: string }>;
  messages: RecMessage[];
}

const dir = path.join(import.meta.dirname, '../fixtures/ubus');
const scenarios: Scenario[] = fs
  .readdirSync(dir)
  .filter((f) => /^\d\d-.*\.json$/.test(f))
  .sort()
  .map((file) => ({ file, ...(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Omit<Scenario, 'file'>) }));
const constants = JSON.parse(fs.readFileSync(path.join(dir, 'constants.json'), 'utf8')) as Record<
  string,
  { values: Record<string, number> }
>;

type Decoded = RecMessage & { hex: string; decoded: NonNullable<RecMessage['decoded']> };
const isMessage = (m: RecMessage): m is Decoded => m.decoded !== undefined && m.hex !== undefined;

const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

// ---- comparing with the recorded decoding ----------------------------------------------

const STATUS_CONST = Object.fromEntries(Object.entries(Status).map(([name, n]) => [n, `UBUS_STATUS_${name}`]));
const TYPE_CONST = Object.fromEntries(Object.entries(MsgType).map(([name, n]) => [n, `UBUS_MSG_${name}`]));

/** The recorded node as the plain value blobmsg_format_json gives (INT8 as boolean). */
function plainOf(node: RecNode): unknown {
  if (node.type === 'int8/bool') return node.as_bool;
  if (node.type === 'table') return Object.fromEntries((node.children ?? []).map((c) => [c.name, plainOf(c)]));
  if (node.type === 'array') return (node.children ?? []).map(plainOf);
  return node.value;
}

function checkNodes(recorded: RecNode[], nodes: BlobmsgNode[]): void {
  expect(nodes).toHaveLength(recorded.length);
  recorded.forEach((rec, i) => {
    const node = nodes[i] as BlobmsgNode;
    expect(node.type).toBe(rec.type === 'int8/bool' ? 'int8' : rec.type);
    expect(BlobmsgType[node.type.toUpperCase() as keyof typeof BlobmsgType]).toBe(rec.type_id);
    expect(node.name).toBe(rec.name);
    expect(Buffer.byteLength(node.name)).toBe(rec.namelen);
    // The node alone encodes to its recorded bytes (raw_len of them; then padding).
    const bytes = encodeBlobmsgNodes([node]);
    expect(toHex(bytes.subarray(0, rec.raw_len))).toBe(rec.hex);
    expect(bytes.length).toBe((rec.raw_len + 3) & ~3);
    expect(node.value).toEqual(plainOf(rec));
    if (rec.children) checkNodes(rec.children, node.children ?? []);
    else expect(node.children).toBeUndefined();
  });
}

function checkAttr(rec: RecAttr, attr: UbusAttr, messageType: number): void {
  expect(attr.id).toBe(rec.id);
  const bytes = encodeAttrs([attr], messageType);
  expect(bytes.length).toBe(rec.pad_len);
  expect(toHex(bytes.subarray(0, rec.raw_len))).toBe(rec.hex);
  if (messageType === MsgType.MONITOR) {
    expect(attr.value).toBeInstanceOf(Uint8Array); // read through decodeMonitor
    return;
  }
  switch (rec.id) {
    case Attr.STATUS:
      expect(attr.value).toBe(rec.value);
      expect(STATUS_CONST[attr.value as number]).toBe(rec.status_name);
      break;
    case Attr.OBJPATH:
    case Attr.METHOD:
    case Attr.USER:
    case Attr.GROUP:
      expect(attr.value).toBe(rec.value);
      break;
    case Attr.OBJID:
    case Attr.OBJTYPE:
    case Attr.TARGET:
      expect(attr.value).toBe(rec.value);
      expect((attr.value as number).toString(16).padStart(8, '0')).toBe(rec.value_hex);
      break;
    case Attr.ACTIVE:
    case Attr.NO_REPLY:
      expect(attr.value).toBe(rec.value === 1);
      break;
    case Attr.DATA:
    case Attr.SIGNATURE: {
      const recorded = rec.blobmsg ?? [];
      if (recorded.every((n) => n.extended)) {
        expect(Array.isArray(attr.value)).toBe(true);
        checkNodes(recorded, attr.value as BlobmsgNode[]);
        // The table body alone decodes to the same plain object.
        const plain = Object.fromEntries(recorded.map((n) => [n.name, plainOf(n)]));
        expect(decodeBlobmsgTable(fromHex(rec.hex.slice(8)))).toEqual(plain);
      } else {
        // Not blobmsg (ubus monitor's own INVOKE): kept as the payload bytes.
        expect(attr.value).toBeInstanceOf(Uint8Array);
        expect(toHex(attr.value as Uint8Array)).toBe(rec.hex.slice(8));
      }
      break;
    }
    default:
      throw new Error(`attribute ${rec.name} not covered by this test`);
  }
}

function checkMonitor(recAttrs: RecAttr[], msg: UbusMessage): void {
  const record = decodeMonitor(msg);
  const field = (id: number): RecAttr => recAttrs.find((a) => a.id === id) as RecAttr;
  expect(record.client).toBe(field(MonitorAttr.CLIENT).value);
  expect(record.message.peer).toBe(field(MonitorAttr.PEER).value);
  expect(record.message.seq).toBe(field(MonitorAttr.SEQ).value);
  expect(record.message.type).toBe(field(MonitorAttr.TYPE).value);
  expect(TYPE_CONST[record.message.type]).toBe(field(MonitorAttr.TYPE).type_name);
  expect(record.send).toBe(field(MonitorAttr.SEND).value === 1);
  const monitored = field(MonitorAttr.DATA).monitored_attrs ?? [];
  expect(record.message.attrs).toHaveLength(monitored.length);
  monitored.forEach((rec, i) => checkAttr(rec, record.message.attrs[i] as UbusAttr, record.message.type));
}

describe('constants match the captured headers', () => {
  it('message types, attribute ids, statuses, blobmsg types', () => {
    for (const [name, n] of Object.entries(MsgType)) expect(constants.UBUS_MSG?.values[`UBUS_MSG_${name}`]).toBe(n);
    for (const [name, n] of Object.entries(Attr)) expect(constants.UBUS_ATTR?.values[`UBUS_ATTR_${name}`]).toBe(n);
    for (const [name, n] of Object.entries(Status)) expect(constants.UBUS_STATUS?.values[`UBUS_STATUS_${name}`]).toBe(n);
    for (const [name, n] of Object.entries(MonitorAttr)) expect(constants.UBUS_MONITOR?.values[`UBUS_MONITOR_${name}`]).toBe(n);
    for (const [name, n] of Object.entries(BlobmsgType))
      expect((constants.blobmsg as unknown as { types: Record<string, number> }).types[`BLOBMSG_TYPE_${name}`]).toBe(n);
    expect(statusName(Status.PARSE_ERROR)).toBe('Parsing message data failed'); // as the CLI printed it (03)
    expect(statusName(Status.METHOD_NOT_FOUND)).toBe('Method not found');
    expect(statusName(99)).toBe('Unknown error: 99');
  });
});

describe.each(scenarios.map((s) => [s.file, s] as const))('%s', (_file, scenario) => {
  const messages = scenario.messages.filter(isMessage);

  it.each(messages.map((m) => [m.index, m.direction, m.decoded.header.type_name, m] as const))(
    '#%i %s %s decodes as recorded and encodes to the same bytes',
    (_i, _dir, _type, m) => {
      const bytes = fromHex(m.hex);
      const msg = decodeMessage(bytes);
      const { header } = m.decoded;
      expect({ version: msg.version, type: msg.type, seq: msg.seq, peer: msg.peer }).toEqual({
        version: header.version,
        type: header.type,
        seq: header.seq,
        peer: header.peer,
      });
      expect(msg.attrs).toHaveLength(m.decoded.attrs.length);
      m.decoded.attrs.forEach((rec, i) => checkAttr(rec, msg.attrs[i] as UbusAttr, msg.type));
      if (msg.type === MsgType.MONITOR) checkMonitor(m.decoded.attrs, msg);
      expect(toHex(encodeMessage(msg))).toBe(m.hex);
    },
  );

  it('every connection direction, fed one byte at a time, yields the same messages', () => {
    const streams = new Map<string, Decoded[]>();
    for (const m of messages) {
      const key = `${m.conn} ${m.direction}`;
      streams.set(key, [...(streams.get(key) ?? []), m]);
    }
    for (const list of streams.values()) {
      const all = Buffer.concat(list.map((m) => fromHex(m.hex)));
      const reader = new MessageReader();
      const out: UbusMessage[] = [];
      for (const byte of all) out.push(...reader.push(Uint8Array.of(byte)));
      expect(out.map((msg) => toHex(encodeMessage(msg)))).toEqual(list.map((m) => m.hex));
      expect(reader.buffered).toBe(0);
    }
  });
});

// ---- rebuilding what the clients sent --------------------------------------------------

/** Splits a command line as the capture shows it (single quotes only). */
function argv(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

/** The ubus CLI's command and its arguments, options skipped. */
function cliCommand(command: string): { verb: string; args: string[] } {
  const words = argv(command).slice(1);
  while (words[0]?.startsWith('-')) words.splice(0, words[0] === '-v' ? 1 : 2);
  return { verb: words[0] ?? '', args: words.slice(1) };
}

/** What fixture-server (README) registers: echo's policy, five methods without one. */
const FIXTURE_SIGNATURE = {
  echo: {
    string: BlobmsgType.STRING,
    number: BlobmsgType.INT32,
    flag: BlobmsgType.BOOL,
    list: BlobmsgType.ARRAY,
    obj: BlobmsgType.TABLE,
  },
  fail: {},
  multi: {},
  notify: {},
  add_temp: {},
  remove_temp: {},
};

/** fixture-server's echo reply (README), around the arguments it received. */
function echoReply(received: Record<string, BlobmsgValue>): Record<string, unknown> {
  return {
    received,
    string: 'hello',
    empty_string: '',
    bool: true,
    int16: int16(300), // the one type plain JSON values never produce
    int32: -42,
    int64: 1099511627776,
    double: 3.5,
    array: [1, 'two', false],
    table: { nested: { deep: 'yes' } },
  };
}

/**
 * Replays one connection as its process would act: request seq numbers count from 1,
 * ids come from ubusd's answers, strings and tables from the command line (CLI) or the
 * fixture server's README. Returns each message the process sent, rebuilt.
 */
function replay(scenario: Scenario, conn: number): Array<{ recorded: Decoded; built: UbusMessage }> {
  const process = scenario.processes.find((p) => p.conn === conn);
  if (!process) throw new Error(`no process for connection ${conn}`);
  const isServer = process.role === 'fixture-server';
  const { verb, args } = cliCommand(process.command);
  const out: Array<{ recorded: Decoded; built: UbusMessage }> = [];
  let seq = 0;
  let lookupId = 0;
  const ownIds: number[] = [];
  let lastInvoke: UbusMessage | undefined;
  let registered = 0;
  let monitorCalls = 0;
  let multiParts = 0;
  let notifications = 0;
  let hasSubscribers = false;
  let addedObjects = 0;

  for (const m of scenario.messages.filter(isMessage).filter((x) => x.conn === conn)) {
    const msg = decodeMessage(fromHex(m.hex));
    const a = attrsOf(msg);
    if (m.direction === 'server->client') {
      if (msg.type === MsgType.DATA && a.objid !== undefined) {
        if (a.objpath !== undefined) lookupId = a.objid;
        else if (a.data === undefined) ownIds.push(a.objid); // ADD_OBJECT's answer: OBJID (+ OBJTYPE)
      }
      if (msg.type === MsgType.INVOKE) lastInvoke = msg;
      if (msg.type === MsgType.NOTIFY && a.active !== undefined) hasSubscribers = a.active;
      continue;
    }
    const invoke = lastInvoke as UbusMessage;
    const invoked = lastInvoke ? attrsOf(lastInvoke) : {};
    let built: UbusMessage;
    switch (msg.type) {
      case MsgType.ADD_OBJECT:
        built = isServer
          ? addObjectMessage(
              ++seq,
              addedObjects++ === 0
                ? { path: 'fixture', signature: FIXTURE_SIGNATURE }
                : { path: 'fixture.temp', signature: { ping: {} } },
            )
          : addObjectMessage(++seq);
        break;
      case MsgType.REMOVE_OBJECT:
        built = removeObjectMessage(++seq, ownIds[1] as number);
        break;
      case MsgType.LOOKUP:
        built = lookupMessage(++seq, verb === 'wait_for' ? undefined : args[0]);
        break;
      case MsgType.SUBSCRIBE:
        built = subscribeMessage(++seq, ownIds[0] as number, lookupId);
        break;
      case MsgType.NOTIFY:
        built = notifyMessage(
          ++seq,
          ownIds[0] as number,
          'fixture.changed',
          { counter: ++notifications, source: 'fixture' },
          { noReply: true },
        );
        break;
      case MsgType.INVOKE:
        if (verb === 'call')
          built = invokeMessage(++seq, lookupId, args[1] as string, JSON.parse(args[2] ?? '{}') as Record<string, unknown>);
        else if (verb === 'send')
          built = eventSendMessage(++seq, args[0] as string, JSON.parse(args[1] ?? '{}') as Record<string, unknown>);
        else if (verb === 'listen') built = eventRegisterMessage(++seq, ownIds[0] as number, args[registered++]);
        else if (verb === 'wait_for') built = eventRegisterMessage(++seq, ownIds[0] as number, 'ubus.object.add');
        else if (verb === 'monitor') built = monitorMessage(++seq, monitorCalls++ === 0 ? 'add' : 'remove');
        else throw new Error(`no INVOKE expected from ${process.command}`);
        break;
      case MsgType.DATA: {
        const replies: Record<string, () => Record<string, unknown>> = {
          echo: () => echoReply(invoked.data ?? {}),
          multi: () => ({ part: ++multiParts === 1 ? 'one' : 'two' }),
          notify: () => ({ notify_ret: 0, has_subscribers: hasSubscribers }),
          add_temp: () => ({ ret: 0, id: ownIds[1] }),
          remove_temp: () => ({ ret: 0 }),
          ping: () => ({ pong: 'fixture.temp' }),
        };
        const reply = replies[invoked.method ?? ''];
        if (!reply) throw new Error(`no reply known for ${invoked.method}`);
        built = dataMessage(invoke.seq, invoke.peer, invoked.objid as number, reply());
        break;
      }
      case MsgType.STATUS: {
        // The fixture server answers its methods; listeners answer event deliveries with 0.
        const status = !isServer
          ? Status.OK
          : invoked.method === 'fail'
            ? Status.INVALID_ARGUMENT
            : invoked.method === 'nosuchmethod'
              ? Status.METHOD_NOT_FOUND
              : Status.OK;
        built = statusMessage(invoke.seq, invoke.peer, status, isServer ? (invoked.objid as number) : (ownIds[0] as number));
        break;
      }
      default:
        throw new Error(`unexpected ${m.decoded.header.type_name} from ${process.role}`);
    }
    out.push({ recorded: m, built });
  }
  return out;
}

describe('what the clients sent, rebuilt from plain values with the builders', () => {
  const cases = scenarios.flatMap((s) => s.processes.map((p) => [s.file, p.role, s, p.conn] as const));

  it.each(cases)('%s %s', (_file, _role, scenario, conn) => {
    for (const { recorded, built } of replay(scenario, conn)) {
      expect(`#${recorded.index} ${toHex(encodeMessage(built))}`).toBe(`#${recorded.index} ${recorded.hex}`);
    }
  });

  it('covers every message a client sent', () => {
    let rebuilt = 0;
    let sent = 0;
    for (const s of scenarios) {
      for (const p of s.processes) rebuilt += replay(s, p.conn).length;
      sent += s.messages.filter((m) => isMessage(m) && m.direction === 'client->server').length;
    }
    expect(rebuilt).toBe(sent);
    expect(sent).toBeGreaterThan(50);
  });

  it("the echo call's DATA is the JSON the CLI got, mapped as blobmsg_add_json_element does", () => {
    const echo = scenarios.find((s) => s.file.startsWith('02-'))!;
    const call = echo.messages.filter(isMessage).find((m) => m.role === 'ubus-call' && m.decoded.header.type === MsgType.INVOKE)!;
    const data = call.decoded.attrs.find((a) => a.id === Attr.DATA)!;
    const json = cliCommand(echo.processes.find((p) => p.role === 'ubus-call')!.command).args[2]!;
    expect(toHex(encodeBlobmsgTable(JSON.parse(json) as Record<string, unknown>))).toBe(data.hex.slice(8));
  });
});
