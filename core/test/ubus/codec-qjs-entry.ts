/**
 * Bundled by codec-qjs.test.ts and run under QuickJS: the seeded corpus of
 * codec-corpus.ts through the fast decoders, the node decoder, attrsOf, the encoder and
 * the strict UTF-8 reader, printed as one JSON line per seed (canonical forms), for the
 * test to hold against the reference codec on Node.
 * Usage: qjs <bundle> <first seed> <count>
 */
import { utf8Strict } from '../../src/ubus/blob.js';
import {
  type BlobmsgNode,
  decodeBlobmsgArray,
  decodeBlobmsgAttrs,
  decodeBlobmsgTable,
  encodeBlobmsgTable,
} from '../../src/ubus/blobmsg.js';
import { Attr, MsgType } from '../../src/ubus/constants.js';
import { attrsOf, decodeMessage, encodeMessage } from '../../src/ubus/message.js';
import { blobmsgInput, canon, canonNodes, canonOutcome, outcome, plainTable, rng, utf8ishBytes } from './codec-corpus.js';

declare const scriptArgs: string[] | undefined;

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

const args = typeof scriptArgs !== 'undefined' ? scriptArgs.slice(1) : [];
const first = Number(args[0] ?? 1);
const count = Number(args[1] ?? 100);
const lines: string[] = [];
for (let seed = first; seed < first + count; seed++) {
  const r = rng(seed);
  const input = blobmsgInput(r, encodeBlobmsgTable);
  const table = plainTable(r);
  const encoded = outcome(() => encodeBlobmsgTable(table));
  const utf8 = utf8ishBytes(r, 10);
  const frame = encodeMessage({ version: 0, type: MsgType.DATA, seq: 1, peer: 2, attrs: [{ id: Attr.DATA, value: input }] });
  lines.push(
    JSON.stringify({
      seed,
      input: hex(input),
      table: canonOutcome(outcome(() => decodeBlobmsgTable(input))),
      array: canonOutcome(outcome(() => decodeBlobmsgArray(input))),
      nodes: canonOutcome(
        outcome(() => decodeBlobmsgAttrs(input)),
        (n) => canonNodes(n as BlobmsgNode[]),
      ),
      data: canon(attrsOf(decodeMessage(frame)).data),
      encoded: encoded.ok ? { ok: hex(encoded.value as Uint8Array) } : { error: encoded.error },
      utf8: hex(utf8),
      utf8Strict: utf8Strict(utf8, 0, utf8.length) ?? null,
    }),
  );
}
console.log(lines.join('\n'));
