/**
 * The codec's fast paths on real QuickJS (no TextDecoder, its own escape() and
 * decodeURIComponent, its own string and number handling): the seeded corpus of
 * codec-corpus.ts decoded and encoded by the bundled codec under qjs, against the
 * reference codec (the code before the fast paths) on Node.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../../scripts/rollup-plugins.js';
import type { BlobmsgNode } from '../../src/ubus/blobmsg.js';
import { utf8Decode, utf8Encode } from '../../src/util/utf8.js';
import { qjsPath, repoRoot } from '../helpers/engines.js';
import { blobmsgInput, canon, canonNodes, canonOutcome, outcome, plainTable, rng, utf8ishBytes } from './codec-corpus.js';
import { refDecodeBlobmsgAttrs, refEncodeBlobmsgTable, refNodesToArray, refNodesToObject } from './reference-codec.js';

const SEEDS = Number(process.env.UBUS_QJS_SEEDS ?? 2000);
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

let entry: string;
beforeAll(async () => {
  entry = join(repoRoot, '.cache/test-bundles/ubus-codec-corpus.js');
  await bundle(join(repoRoot, 'core/test/ubus/codec-qjs-entry.ts'), entry, { minify: true });
}, 120_000);

interface Line {
  seed: number;
  input: string;
  table: unknown;
  array: unknown;
  nodes: unknown;
  data: unknown;
  encoded: unknown;
  utf8: string;
  utf8Strict: string | null;
}

function refStrict(bytes: Uint8Array): string | null {
  const value = utf8Decode(bytes);
  return toHex(utf8Encode(value)) === toHex(bytes) ? value : null;
}

describe('the blobmsg codec on QuickJS gives what the reference gives on Node', () => {
  it(`for ${SEEDS} seeded inputs: decoders, attrsOf, encoder, strict UTF-8`, () => {
    const run = spawnSync(qjsPath(), [entry, '1', String(SEEDS)], {
      encoding: 'utf8',
      maxBuffer: 256 * 2 ** 20,
      timeout: 120_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(lines).toHaveLength(SEEDS);
    for (const line of lines) {
      const r = rng(line.seed);
      const input = blobmsgInput(r, refEncodeBlobmsgTable);
      const table = plainTable(r);
      const utf8 = utf8ishBytes(r, 10);
      const refNodes = outcome(() => refDecodeBlobmsgAttrs(input));
      const nodes = refNodes.ok ? (refNodes.value as BlobmsgNode[]) : undefined;
      const encoded = outcome(() => refEncodeBlobmsgTable(table));
      // Round-tripped through JSON, as the qjs side was.
      const expected = JSON.parse(
        JSON.stringify({
          seed: line.seed,
          input: toHex(input),
          table: nodes ? { ok: canon(refNodesToObject(nodes)) } : canonOutcome(refNodes),
          array: nodes ? { ok: canon(refNodesToArray(nodes)) } : canonOutcome(refNodes),
          nodes: canonOutcome(refNodes, (n) => canonNodes(n as BlobmsgNode[])),
          data: nodes ? canon(refNodesToObject(nodes)) : canon(undefined),
          encoded: encoded.ok ? { ok: toHex(encoded.value as Uint8Array) } : { error: encoded.error },
          utf8: toHex(utf8),
          utf8Strict: refStrict(utf8),
        }),
      ) as Line;
      expect(line).toEqual(expected);
    }
  }, 180_000);
});
