/**
 * The HTTP server over real loopback sockets, on Node (in-process) and on QuickJS (the
 * same handler in a qjs process with the native module), checked from Node with a raw
 * TCP client (to see the bytes) and with fetch (a real client).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../../scripts/rollup-plugins.js';
import { serveHttp } from '../../src/http/server.js';
import type { HttpServer } from '../../src/http/types.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { type Engine, qjsPath, repoRoot } from '../helpers/engines.js';
import { buildNative } from '../platform/native-build.js';
import { createTestApp } from './app.js';
import { LIMITS } from './limits.js';

const TIMEOUT_MS = 1000;

interface RawResponse {
  /** Everything received, as latin1 text (the bytes one to one). */
  raw: string;
  status: number;
  statusLine: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Interim responses before the final one (`HTTP/1.1 100 Continue`). */
  interim: string[];
}

/**
 * Sends `parts` (each after its delay) and reads the answer; resolves once the answer is
 * complete by its Content-Length or the server closed. Never half-closes: browsers don't.
 */
function raw(
  port: number,
  parts: Array<string | Buffer | { wait: number } | { waitFor: RegExp }>,
  { host = '127.0.0.1', head = false }: { host?: string; head?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    let received = Buffer.alloc(0);
    let done = false;
    const waiters: Array<() => void> = [];
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(parse(received));
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      waiters.splice(0).forEach((w) => w());
      const response = parse(received);
      const length = Number(response.headers['content-length'] ?? NaN);
      if (response.status >= 200 && (head ? response.statusLine !== '' : response.body.length >= length)) finish();
    });
    socket.on('close', finish);
    socket.on('error', (e) => (done ? undefined : reject(e)));
    socket.on('connect', async () => {
      for (const part of parts) {
        if (typeof part === 'object' && 'wait' in part) await new Promise((r) => setTimeout(r, part.wait));
        else if (typeof part === 'object' && 'waitFor' in part) {
          while (!part.waitFor.test(received.toString('latin1'))) await new Promise<void>((r) => waiters.push(r));
        } else if (!socket.destroyed) socket.write(part);
      }
    });
  });
}

function parse(bytes: Buffer): RawResponse {
  const interim: string[] = [];
  let rest = bytes;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return { raw: bytes.toString('latin1'), status: 0, statusLine: '', headers: {}, body: Buffer.alloc(0), interim };
    const lines = rest.subarray(0, end).toString('latin1').split('\r\n');
    const statusLine = lines[0] as string;
    const status = Number(statusLine.split(' ')[1]);
    if (status >= 100 && status < 200) {
      interim.push(statusLine);
      rest = rest.subarray(end + 4);
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { raw: bytes.toString('latin1'), status, statusLine, headers, body: rest.subarray(end + 4), interim };
  }
}

interface Target {
  /** Bound to 127.0.0.1. */
  v4: number;
  /** Bound to `::` (IPv4 clients arrive v4-mapped). */
  any: number;
  stop(): Promise<void>;
}

async function onNode(): Promise<Target> {
  const platform = await createNodePlatform([]);
  const servers: HttpServer[] = [];
  for (const host of ['127.0.0.1', '::']) {
    const app = createTestApp();
    servers.push(
      await serveHttp(platform, {
        host,
        port: 0,
        ...LIMITS,
        requestTimeoutMs: TIMEOUT_MS,
        handler: app.handler,
        onError: app.onError,
      }),
    );
  }
  return {
    v4: servers[0]?.port as number,
    any: servers[1]?.port as number,
    stop: async () => {
      for (const s of servers) await s.close();
    },
  };
}

async function onQjs(): Promise<Target> {
  const out = path.join(repoRoot, '.cache/test-bundles/http-entry.mjs');
  await bundle(path.join(repoRoot, 'core/test/http/qjs-entry.ts'), out);
  const native = buildNative();
  const children: ChildProcess[] = [];
  const start = (host: string) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(qjsPath(), ['--no-unhandled-rejection', out, host, String(TIMEOUT_MS)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, WRTKIT_NATIVE: native },
      });
      children.push(child);
      let output = '';
      const onOutput = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const m = /listening (\d+)/.exec(output);
        if (m) resolve(Number(m[1]));
      };
      child.stdout?.on('data', onOutput);
      child.stderr?.on('data', onOutput);
      child.on('exit', (code) => reject(new Error(`qjs exited with ${code}:\n${output}`)));
    });
  const [v4, any] = await Promise.all([start('127.0.0.1'), start('::')]);
  return {
    v4,
    any,
    stop: async () => {
      for (const child of children) {
        if (child.exitCode !== null) continue;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

const DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

describe.each<Engine>(['node', 'qjs'])('HTTP server on %s', (engine) => {
  let target: Target;
  beforeAll(async () => {
    target = engine === 'node' ? await onNode() : await onQjs();
  }, 120_000);
  afterAll(async () => {
    await target?.stop();
  });
  const get = (path: string, extra = '') => raw(target.v4, [`GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`]);
  const errors = async (port: number) =>
    JSON.parse((await raw(port, ['GET /errors HTTP/1.0\r\n\r\n'])).body.toString()) as unknown[];

  it('answers a GET with a query: status line, headers, escaped page', async () => {
    const r = await get('/hello?name=%3Cb%3E+%26+caf%C3%A9');
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    const body = '<p>Hello, &lt;b&gt; &amp; café</p>';
    expect(r.body.toString('utf8')).toBe(body);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['x-greeting']).toBe('yes');
    expect(r.headers.connection).toBe('close');
    expect(r.headers.date).toMatch(DATE);
    expect(Math.abs(Date.parse(r.headers.date as string) - Date.now())).toBeLessThan(60_000);
  });

  it('works with a real client (fetch): query, headers, addresses', async () => {
    const response = await fetch(`http://127.0.0.1:${target.v4}/echo?a=1&a=2&b=x+y&c=%zz&d`);
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Record<string, unknown>;
    expect(echo).toMatchObject({
      method: 'GET',
      path: '/echo',
      target: '/echo?a=1&a=2&b=x+y&c=%zz&d',
      query: { a: '2', b: 'x y', c: '%zz', d: '' },
      headers: { host: `127.0.0.1:${target.v4}` },
      remote: { address: '127.0.0.1' },
      local: { address: '127.0.0.1', port: target.v4 },
      text: '',
    });
  });

  it('decodes a POSTed form, sent by fetch and by hand', async () => {
    const response = await fetch(`http://127.0.0.1:${target.v4}/form`, {
      method: 'POST',
      body: new URLSearchParams({ voucher: 'AB C+D', note: 'café & more' }),
    });
    expect(await response.json()).toMatchObject({ form: { voucher: 'AB C+D', note: 'café & more' } });

    const body = 'a=1&b=caf%C3%A9+au+lait&bad=%zz%&lone=%E9&a=3&empty=';
    const r = await raw(target.v4, [
      `POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    ]);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({
      form: { a: '3', b: 'café au lait', bad: '%zz%', lone: '\ufffd', empty: '' },
      length: body.length,
    });
  });

  it('reads a request that arrives in small pieces', async () => {
    const request = 'POST /echo?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello';
    const pieces = [request.slice(0, 3), { wait: 20 }, request.slice(3, 30), { wait: 20 }, request.slice(30, -2), { wait: 20 }];
    const r = await raw(target.v4, [...pieces, request.slice(-2)]);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toMatchObject({ method: 'POST', text: 'hello', query: { x: '1' } });
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await raw(target.v4, ['GET /hello HTTP/1.1\r\nHost: t\r\n\r\n']);
    const head = await raw(target.v4, ['HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n'], { head: true });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.body.length).toBe(0);
    expect(head.raw.endsWith('\r\n\r\n')).toBe(true);
  });

  it('passes the handler its 404, its bytes, its 204 without a body', async () => {
    const missing = await get('/nowhere');
    expect(missing.statusLine).toBe('HTTP/1.1 404 Not Found');
    expect(missing.body.toString()).toBe('no page /nowhere');
    const bytes = await get('/bytes');
    expect([...bytes.body]).toEqual([0, 1, 2, 255]);
    const none = await raw(target.v4, ['GET /no-content HTTP/1.1\r\nHost: t\r\n\r\n'], { head: true });
    expect(none.statusLine).toBe('HTTP/1.1 204 No Content');
    expect(none.headers['content-length']).toBeUndefined();
    expect(none.body.length).toBe(0);
    expect((await get('/later')).statusLine).toBe('HTTP/1.1 201 Created');
  });

  it('speaks HTTP/1.0 (no Host needed) and wants Host on HTTP/1.1', async () => {
    const old = await raw(target.v4, ['GET /hello?name=old HTTP/1.0\r\n\r\n']);
    expect(old.status).toBe(200);
    expect(old.body.toString()).toBe('<p>Hello, old</p>');
    const hostless = await raw(target.v4, ['GET /hello HTTP/1.1\r\n\r\n']);
    expect(hostless.status).toBe(400);
  });

  it('sends 100 Continue to a client that waits for it', async () => {
    const r = await raw(target.v4, [
      'POST /form HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n',
      { waitFor: /100 Continue\r\n\r\n/ },
      'a=b',
    ]);
    expect(r.interim).toEqual(['HTTP/1.1 100 Continue']);
    expect(JSON.parse(r.body.toString())).toMatchObject({ form: { a: 'b' } });
  });

  it('refuses malformed requests with 400 (and 505 for other versions)', async () => {
    for (const request of [
      'GARBAGE\r\n\r\n',
      'GET /\r\n\r\n',
      'GET  / HTTP/1.1\r\nHost: t\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n',
    ]) {
      const r = await raw(target.v4, [request]);
      expect(r.statusLine, JSON.stringify(request)).toBe('HTTP/1.1 400 Bad Request');
      expect(r.headers.connection).toBe('close');
    }
    expect((await raw(target.v4, ['GET / HTTP/2.0\r\nHost: t\r\n\r\n'])).status).toBe(505);
  });

  it('refuses oversized headers with 431 and oversized bodies with 413', async () => {
    const big = await get('/hello', `X-Big: ${'a'.repeat(LIMITS.maxHeaderBytes)}\r\n`);
    expect(big.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    // Never ends its head: refused as soon as the limit is passed.
    const endless = await raw(target.v4, [`GET /hello HTTP/1.1\r\nX: ${'b'.repeat(LIMITS.maxHeaderBytes * 2)}`]);
    expect(endless.status).toBe(431);
    const size = LIMITS.maxBodyBytes + 1;
    const tooMuch = await raw(target.v4, [`POST /form HTTP/1.1\r\nHost: t\r\nContent-Length: ${size}\r\n\r\n`, 'x'.repeat(size)]);
    expect(tooMuch.statusLine).toBe('HTTP/1.1 413 Content Too Large');
    // A client still sending megabytes gets the answer too: the server reads on before
    // closing, so no reset throws the answer away.
    const huge = 4 * 1024 * 1024;
    const flood = await raw(target.v4, [`POST /form HTTP/1.1\r\nHost: t\r\nContent-Length: ${huge}\r\n\r\n`, Buffer.alloc(huge)]);
    expect(flood.status).toBe(413);
  });

  it('refuses chunked bodies with 411', async () => {
    const r = await raw(target.v4, [
      'POST /form HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n',
      '3\r\na=b\r\n0\r\n\r\n',
    ]);
    expect(r.statusLine).toBe('HTTP/1.1 411 Length Required');
  });

  it('answers a slow client with 408 and closes a silent connection', async () => {
    const started = Date.now();
    const slow = await raw(target.v4, ['GET /hello HTTP/1.1\r\nHost: t\r\n', { wait: TIMEOUT_MS * 3 }]);
    expect(slow.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    const silent = await raw(target.v4, [{ wait: TIMEOUT_MS * 3 }]);
    expect(silent.raw).toBe('');
  });

  it('turns a throwing handler into a plain 500 and tells onError', async () => {
    const thrown = await get('/throw');
    expect(thrown.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(thrown.body.toString()).not.toContain('boom');
    expect((await get('/reject')).status).toBe(500);
    // A header with CRLF would split the response: refused, not sent.
    const split = await get('/split');
    expect(split.status).toBe(500);
    expect(split.raw).not.toContain('stolen');
    const seen = await errors(target.v4);
    expect(seen).toEqual(
      expect.arrayContaining([
        { message: 'boom', path: '/throw' },
        { message: 'rejected', path: '/reject' },
        expect.objectContaining({ code: 'WRTKIT_ERR_HTTP_RESPONSE', path: '/split' }),
        expect.objectContaining({ code: 'WRTKIT_ERR_HTTP_REQUEST', status: 431 }),
        expect.objectContaining({ code: 'WRTKIT_ERR_HTTP_REQUEST', status: 408 }),
      ]),
    );
    expect(seen).not.toContainEqual(expect.objectContaining({ path: '/hello' }));
  });

  it('gives the client address: IPv4 as IPv4 on a :: server, IPv6 as IPv6', async () => {
    const v4 = JSON.parse((await raw(target.any, ['GET /echo HTTP/1.0\r\n\r\n'])).body.toString()) as Record<string, any>;
    expect(v4.remote.address).toBe('127.0.0.1');
    expect(v4.local).toEqual({ address: '127.0.0.1', port: target.any });
    const v6 = JSON.parse((await raw(target.any, ['GET /echo HTTP/1.0\r\n\r\n'], { host: '::1' })).body.toString()) as Record<
      string,
      any
    >;
    expect(v6.remote.address).toBe('::1');
    expect(v6.remote.port).toBeGreaterThan(0);
  });
});

describe('serveHttp without sockets', () => {
  it('says the engine has none', async () => {
    const platform = await createNodePlatform([]);
    const app = createTestApp();
    await expect(serveHttp({ ...platform, sockets: undefined }, { port: 0, handler: app.handler })).rejects.toMatchObject({
      code: 'WRTKIT_ERR_UNSUPPORTED',
    });
  });
});
