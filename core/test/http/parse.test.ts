import { describe, expect, it } from 'vitest';
import { type ParseResult, RequestParser, splitTarget } from '../../src/http/parse.js';

const limits = { maxHeaderBytes: 200, maxBodyBytes: 10 };
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

/** Feeds the request in pieces of `size` bytes; returns every answer. */
function feed(text: string, size = text.length): ParseResult[] {
  const parser = new RequestParser(limits);
  const all = bytes(text);
  const results: ParseResult[] = [];
  for (let i = 0; i < all.length; i += size) results.push(parser.push(all.subarray(i, i + size)));
  return results;
}
const last = (text: string, size?: number) => feed(text, size).at(-1) as ParseResult;

describe('RequestParser', () => {
  it('reads the same request whole and byte by byte', () => {
    const request = 'POST /a%20b?x=1 HTTP/1.1\r\nHost: router\r\nX-Twice: 1\r\nx-twice: 2\r\nContent-Length: 5\r\n\r\nhello';
    for (const size of [request.length, 1, 2, 7]) {
      const results = feed(request, size);
      expect(results.slice(0, -1).every((r) => r.state === 'incomplete')).toBe(true);
      const done = results.at(-1);
      expect(done?.state).toBe('complete');
      if (done?.state !== 'complete') continue;
      expect(done.head).toEqual({
        method: 'POST',
        target: '/a%20b?x=1',
        version: '1.1',
        headers: { host: 'router', 'x-twice': '1, 2', 'content-length': '5' },
        contentLength: 5,
        expectsContinue: false,
      });
      expect(Buffer.from(done.body).toString()).toBe('hello');
    }
  });

  it('takes bare LF line ends and leading empty lines; ignores bytes after the body', () => {
    const r = last('\r\n\nGET / HTTP/1.0\nA:  spaced value \t\n\nextra');
    expect(r).toMatchObject({ state: 'complete', head: { method: 'GET', version: '1.0', headers: { a: 'spaced value' } } });
  });

  it('keeps a header named __proto__ as a header', () => {
    const r = last('GET / HTTP/1.0\r\n__proto__: x\r\nconstructor: y\r\n\r\n');
    expect(r.state === 'complete' && Object.entries(r.head.headers)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });

  it.each([
    ['no version', 'GET /\r\n\r\n', 400],
    ['two spaces', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n', 400],
    ['bad method', 'G(T / HTTP/1.1\r\nHost: h\r\n\r\n', 400],
    ['a target that is no path', 'GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n', 400],
    ['a tab in the target', 'GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n', 400],
    ['space before the colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', 400],
    ['folded header', 'GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n', 400],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n', 400],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['conflicting lengths', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
    ['a signed length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n', 400],
    ['chunked', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n', 411],
    ['a body over the limit', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n', 413],
    ['an absurd length', `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${'9'.repeat(40)}\r\n\r\n`, 413],
    ['headers over the limit', `GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(200)}\r\n\r\n`, 431],
    ['HTTP/2', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 505],
  ])('refuses %s', (_what, request, status) => {
    expect(last(request)).toMatchObject({ state: 'refused', status });
    expect(last(request, 3)).toMatchObject({ state: 'refused', status });
  });

  it('refuses a head that never ends once it passes the limit, and keeps answering so', () => {
    const parser = new RequestParser(limits);
    expect(parser.push(bytes('GET / HTTP/1.1\r\nX: '))).toEqual({ state: 'incomplete' });
    expect(parser.push(bytes('a'.repeat(300)))).toMatchObject({ state: 'refused', status: 431 });
    expect(parser.push(bytes('\r\n\r\n'))).toMatchObject({ state: 'refused', status: 431 });
  });

  it('accepts equal repeated lengths and a length exactly at the limit', () => {
    const r = last(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10, 10\r\n\r\n0123456789`);
    expect(r).toMatchObject({ state: 'complete', head: { contentLength: 10 } });
  });

  it('shows the head before the body arrives (for 100 Continue)', () => {
    const parser = new RequestParser(limits);
    parser.push(bytes('POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n'));
    expect(parser.head?.expectsContinue).toBe(true);
    expect(parser.push(bytes('ok'))).toMatchObject({ state: 'complete' });
  });
});

describe('splitTarget', () => {
  it.each([
    ['/a/b?x=1&y', { path: '/a/b', query: 'x=1&y' }],
    ['/a#frag', { path: '/a', query: '' }],
    ['http://router.lan:8080/p?q=1', { path: '/p', query: 'q=1' }],
    ['HTTP://router.lan', { path: '/', query: '' }],
    ['*', { path: '*', query: '' }],
  ])('%s', (target, expected) => {
    expect(splitTarget(target)).toEqual(expected);
  });
});
