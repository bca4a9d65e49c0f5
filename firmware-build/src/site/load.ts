/**
 * Reading a site file: YAML (.yaml, .yml) or JSON (.json) by its extension. Besides the
 * data it keeps the parsed document, so every error found later can point at a line and
 * column of the file too.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { SiteError } from './types.js';

/** A path into the data: keys and array indexes. */
export type PathSegments = ReadonlyArray<string | number>;

export interface Position {
  line: number;
  column: number;
}

export interface SiteSource {
  /** The parsed data; undefined when the file could not be read or parsed. */
  data?: unknown;
  /** Read and syntax errors (rule `file` or `syntax`). */
  errors: SiteError[];
  /** Where a path is in the file: the key of a map member, the item of a list; else the nearest parent. */
  locate(segments: PathSegments): Position | undefined;
}

const FORMATS: Record<string, 'yaml' | 'json'> = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json' };

const nowhere = (): undefined => undefined;

function parseYaml(text: string): { doc: Document.Parsed; lines: LineCounter } {
  const lines = new LineCounter();
  // YAML 1.2 (so `no`/`on` stay strings), merge keys for sharing config between entries,
  // duplicate keys are errors.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true, uniqueKeys: true });
  return { doc, lines };
}

function locator(doc: Document.Parsed, lines: LineCounter): SiteSource['locate'] {
  const position = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  return (segments) => {
    let node: unknown = doc.contents;
    let found: Position | undefined = doc.contents?.range ? position(doc.contents.range[0]) : undefined;
    for (const segment of segments) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        const key = pair.key as Node;
        if (key.range) found = position(key.range[0]);
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (!item) break;
        if (item.range) found = position(item.range[0]);
        node = item;
      } else {
        break;
      }
    }
    return found;
  };
}

function syntaxError(message: string, at?: Position): SiteError {
  return { path: '', rule: 'syntax', message, ...(at ?? {}) };
}

/**
 * Where JSON.parse failed: its "at position N" when it says (V8 does not for an unexpected
 * token), else where the YAML parser fails on the same text (JSON is YAML's flow style).
 */
function jsonErrorPosition(text: string, message: string): Position | undefined {
  const match = /at position (\d+)/.exec(message);
  if (!match) {
    const { doc, lines } = parseYaml(text);
    const first = doc.errors[0];
    if (!first) return undefined;
    const { line, col } = lines.linePos(first.pos[0]);
    return { line, column: col };
  }
  const before = text.slice(0, Number(match[1]));
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: before.length - lineStart + 1 };
}

/** JSON.parse's message without the position (given apart) or V8's quote of the text. */
function jsonErrorMessage(message: string): string {
  return message.replace(/ in JSON at position \d+.*$/s, '').replace(/^(Unexpected token .*?), .* is not valid JSON$/s, '$1');
}

/** Parses site file text; `format` is the file's kind. */
export function parseSite(text: string, format: 'yaml' | 'json'): SiteSource {
  if (format === 'json') {
    let data: unknown;
    try {
      data = JSON.parse(text) as unknown;
    } catch (e) {
      const message = (e as Error).message;
      return {
        errors: [syntaxError(`invalid JSON: ${jsonErrorMessage(message)}`, jsonErrorPosition(text, message))],
        locate: nowhere,
      };
    }
    // JSON is YAML (flow style): the YAML parser gives the positions JSON.parse does not.
    const { doc, lines } = parseYaml(text);
    return { data, errors: [], locate: doc.errors.length === 0 ? locator(doc, lines) : nowhere };
  }
  const { doc, lines } = parseYaml(text);
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return syntaxError(`invalid YAML: ${e.message}`, { line, column: col });
    });
    return { errors, locate: nowhere };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (e) {
    return { errors: [syntaxError(`invalid YAML: ${(e as Error).message}`)], locate: nowhere };
  }
  return { data, errors: [], locate: locator(doc, lines) };
}

/** Reads and parses a site file. Never throws: an unreadable file is an error in the list. */
export async function readSiteFile(file: string): Promise<SiteSource> {
  const format = FORMATS[path.extname(file).toLowerCase()];
  if (!format) {
    return { errors: [{ path: '', rule: 'file', message: `${file}: a site file is .yaml, .yml or .json` }], locate: nowhere };
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    return { errors: [{ path: '', rule: 'file', message: `cannot read ${file}: ${code}` }], locate: nowhere };
  }
  return parseSite(text, format);
}
