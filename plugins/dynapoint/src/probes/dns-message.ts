/**
 * DNS messages (RFC 1035 4.1): a query for one name and type, and the parts of a reply a
 * probe needs. Parsing follows a cursor with a bounds check before every read; anything
 * malformed (short, pointer loops, records past the end) gives undefined, never a throw.
 */
import { asciiBytes, formatIPv6 } from './bytes.js';
import type { DnsType } from './target.js';

export const TYPE_A = 1;
export const TYPE_CNAME = 5;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

export const TYPE_CODES: Readonly<Record<DnsType, number>> = { A: TYPE_A, AAAA: TYPE_AAAA };

/** Names of the response codes a probe reports (RFC 1035 4.1.1, RFC 6895). */
export const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `rcode ${rcode}`;
}

/** A query with recursion desired; undefined when the name cannot be encoded (a label over 63, a name over 255, not ASCII). */
export function encodeQuery(id: number, name: string, type: number): Uint8Array | undefined {
  const labels = name.replace(/\.$/, '').split('.');
  const encoded: number[] = [];
  for (const label of labels) {
    const bytes = asciiBytes(label);
    if (!bytes || bytes.length === 0 || bytes.length > 63) return undefined;
    encoded.push(bytes.length, ...bytes);
  }
  encoded.push(0);
  if (encoded.length > 255) return undefined;
  return new Uint8Array([
    (id >> 8) & 0xff,
    id & 0xff,
    0x01, // RD
    0x00,
    0,
    1, // QDCOUNT
    0,
    0,
    0,
    0,
    0,
    0,
    ...encoded,
    type >> 8,
    type & 0xff,
    0,
    CLASS_IN,
  ]);
}

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** A and AAAA records: the address as text. */
  address?: string;
}

export interface DnsReply {
  id: number;
  /** QR: this is a response. */
  response: boolean;
  /** TC: the reply was cut to fit the datagram. */
  truncated: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
}

/** Pointers followed for one name before it counts as a loop. */
const MAX_JUMPS = 32;

/** A (possibly compressed) name at `offset`: the name and where the data after it starts. */
export function readName(msg: Uint8Array, offset: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let pos = offset;
  let next: number | undefined;
  let jumps = 0;
  let length = 0;
  for (;;) {
    if (pos >= msg.length) return undefined;
    const len = msg[pos] as number;
    if (len === 0) {
      next ??= pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= msg.length || ++jumps > MAX_JUMPS) return undefined;
      next ??= pos + 2;
      pos = ((len & 0x3f) << 8) | (msg[pos + 1] as number);
      continue;
    }
    if (kind !== 0) return undefined; // 0x40 and 0x80 label types are not in use
    if (pos + 1 + len > msg.length) return undefined;
    length += len + 1;
    if (length > 255) return undefined;
    let label = '';
    for (let i = pos + 1; i <= pos + len; i++) label += String.fromCharCode(msg[i] as number);
    labels.push(label);
    pos += len + 1;
  }
  return { name: labels.join('.'), next };
}

const u16 = (msg: Uint8Array, at: number) => ((msg[at] as number) << 8) | (msg[at + 1] as number);
const u32 = (msg: Uint8Array, at: number) => u16(msg, at) * 0x10000 + u16(msg, at + 2);

/** The header, questions and answers of a DNS message; undefined when it is malformed. */
export function parseReply(msg: Uint8Array): DnsReply | undefined {
  if (msg.length < 12) return undefined;
  const flags = u16(msg, 2);
  const qdcount = u16(msg, 4);
  const ancount = u16(msg, 6);
  const reply: DnsReply = {
    id: u16(msg, 0),
    response: (flags & 0x8000) !== 0,
    truncated: (flags & 0x0200) !== 0,
    rcode: flags & 0x000f,
    questions: [],
    answers: [],
  };
  let pos = 12;
  for (let i = 0; i < qdcount; i++) {
    const name = readName(msg, pos);
    if (!name || name.next + 4 > msg.length) return undefined;
    reply.questions.push({ name: name.name, type: u16(msg, name.next), class: u16(msg, name.next + 2) });
    pos = name.next + 4;
  }
  for (let i = 0; i < ancount; i++) {
    const name = readName(msg, pos);
    if (!name || name.next + 10 > msg.length) {
      // a truncated reply may end in the middle of a record: keep the whole ones
      if (reply.truncated) break;
      return undefined;
    }
    const at = name.next;
    const type = u16(msg, at);
    const rdlength = u16(msg, at + 8);
    const rdata = at + 10;
    if (rdata + rdlength > msg.length) {
      if (reply.truncated) break;
      return undefined;
    }
    const record: DnsRecord = { name: name.name, type, class: u16(msg, at + 2), ttl: u32(msg, at + 4) };
    if (type === TYPE_A && rdlength === 4) record.address = Array.from(msg.subarray(rdata, rdata + 4)).join('.');
    if (type === TYPE_AAAA && rdlength === 16) record.address = formatIPv6(msg.subarray(rdata, rdata + 16));
    reply.answers.push(record);
    pos = rdata + rdlength;
  }
  return reply;
}
