import { FakeClock } from '@wrtkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  curlArgv,
  fetchArgv,
  formatStatusRanges,
  headOnce,
  headRequest,
  judgeStatus,
  parseStatusLine,
  parseStatusRanges,
  seconds,
} from '../../src/probes/http.js';
import { type HttpTarget, parseTarget } from '../../src/probes/target.js';
import { FakeConnection, fakeSockets, ioError } from './helpers.js';

const http = (text: string) => {
  const parsed = parseTarget(text);
  if (!parsed.ok || (parsed.target.kind !== 'http' && parsed.target.kind !== 'https')) throw new Error(text);
  return parsed.target;
};

describe('status lines and ranges', () => {
  it('reads the status of HTTP/1.x status lines only', () => {
    expect(parseStatusLine('HTTP/1.1 204 No Content\r')).toBe(204);
    expect(parseStatusLine('HTTP/1.0 200 OK')).toBe(200);
    expect(parseStatusLine('HTTP/1.1 503')).toBe(503);
    expect(parseStatusLine('HTTP/1.1 301 Moved Permanently\r')).toBe(301);
    for (const bad of [
      '',
      'HTTP/1.1',
      'HTTP/1.1 20',
      'HTTP/1.1 2000 x',
      'HTTP/1.1 600 x',
      'HTTP/1.1 099',
      'SSH-2.0-OpenSSH',
      'http/1.1 200 OK',
      'HTTP/2 200',
    ])
      expect(parseStatusLine(bad), bad).toBeUndefined();
    fc.assert(fc.property(fc.string(), (s) => void parseStatusLine(s)));
  });

  it('parses and formats expect_status ranges', () => {
    expect(parseStatusRanges('200-399 401')).toEqual([
      [200, 399],
      [401, 401],
    ]);
    expect(parseStatusRanges('204')).toEqual([[204, 204]]);
    expect(parseStatusRanges('399-200')).toBeUndefined();
    expect(parseStatusRanges('2xx')).toBeUndefined();
    expect(parseStatusRanges('')).toBeUndefined();
    expect(
      formatStatusRanges([
        [200, 399],
        [401, 401],
      ]),
    ).toBe('200-399 401');
    expect(judgeStatus(204, [[200, 399]])).toEqual({ ok: true, detail: 'HTTP 204' });
    expect(judgeStatus(503, [[200, 399]])).toEqual({ ok: false, detail: 'HTTP 503 (expected 200-399)' });
    expect(judgeStatus(200, [[204, 204]])).toEqual({ ok: false, detail: 'HTTP 200 (expected 204)' });
  });
});

describe('requests and argv', () => {
  it('sends HEAD with Host, our User-Agent and Connection: close; no fragment', () => {
    expect(headRequest(http('http://example.com/generate_204?x=1#top'))).toBe(
      'HEAD /generate_204?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: wrtkit-dynapoint\r\nConnection: close\r\n\r\n',
    );
    expect(headRequest(http('http://[2001:db8::1]:8080/'))).toContain('\r\nHost: [2001:db8::1]:8080\r\n');
    expect(headRequest(http('http://example.com:80/'))).toContain('\r\nHost: example.com\r\n');
    expect(headRequest(http('http://example.com/#x'))).toMatch(/^HEAD \/ HTTP\/1\.1\r\n/);
  });

  it('builds curl, uclient-fetch and wget argv', () => {
    expect(curlArgv('https://example.com/', 5000)).toEqual([
      'curl',
      '-s',
      '-g',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--max-time',
      '5',
      '--max-redirs',
      '0',
      '--head',
      'https://example.com/',
    ]);
    expect(curlArgv('http://x/', 2500, 'wan')).toEqual([
      'curl',
      '-s',
      '-g',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--max-time',
      '2.5',
      '--max-redirs',
      '0',
      '--interface',
      'wan',
      '--head',
      'http://x/',
    ]);
    expect(fetchArgv('uclient-fetch', 'https://x/', 2500)).toEqual(['uclient-fetch', '--spider', '-q', '-T', '3', 'https://x/']);
    expect(fetchArgv('wget', 'https://x/', 100)).toEqual(['wget', '--spider', '-q', '-T', '1', 'https://x/']);
    expect(seconds(0)).toBe('0.001');
    expect(seconds(1234.4)).toBe('1.234');
  });
});

describe('headOnce (native HEAD over the platform TCP)', () => {
  const target: HttpTarget = http('http://probe.lab:8080/check');

  function setup(reply: (c: FakeConnection, request: string) => void) {
    const clock = new FakeClock();
    const fake = fakeSockets({ connect: (host, port) => new FakeConnection(host, port, reply) });
    return { clock, ...fake, deps: { sockets: fake.sockets, clock } };
  }

  it('reads the status line, then closes', async () => {
    const { deps, connections, connects } = setup((c) => c.send('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n'));
    expect(await headOnce(deps, target, '192.0.2.1', 1000)).toEqual({ kind: 'status', status: 204 });
    expect(connects).toEqual([{ host: '192.0.2.1', port: 8080 }]);
    expect(connections[0]?.request()).toBe(
      'HEAD /check HTTP/1.1\r\nHost: probe.lab:8080\r\nUser-Agent: wrtkit-dynapoint\r\nConnection: close\r\n\r\n',
    );
    expect(connections[0]?.closed).toBe(true);
  });

  it('assembles a status line that arrives in pieces', async () => {
    const { deps } = setup((c) => {
      for (const piece of ['H', 'TTP/1.', '1 5', '03 Service Unavailable', '\r', '\n']) c.send(piece);
    });
    expect(await headOnce(deps, target, '192.0.2.1', 1000)).toEqual({ kind: 'status', status: 503 });
  });

  it('fails on garbage, a bad status line, a close before the reply', async () => {
    const cases: Array<[(c: FakeConnection) => void, string]> = [
      [(c) => c.send('SSH-2.0-OpenSSH_9.2\r\n'), 'not an HTTP reply'],
      [(c) => c.send(Uint8Array.from([0, 255, 1, 2, 3])), 'not an HTTP reply'],
      [(c) => c.send('HTTP/1.1 OK\r\n'), 'bad status line'],
      [(c) => c.send('HTTP/1.1 999 Huh\r\n'), 'bad status line'],
      [(c) => c.end(), 'closed without a reply'],
      [
        (c) => {
          c.send('HTTP/1.1 2');
          c.end();
        },
        'not an HTTP reply',
      ],
      [(c) => c.send(`HTTP/1.1 200 ${'x'.repeat(9000)}`), 'not an HTTP reply'],
    ];
    for (const [reply, detail] of cases) {
      const { deps, connections } = setup(reply);
      expect(await headOnce(deps, target, '192.0.2.1', 1000)).toEqual({ kind: 'failed', detail });
      expect(connections[0]?.closed).toBe(true);
    }
  });

  it('times out when the server never answers, and closes', async () => {
    const { deps, clock, connections } = setup(() => {});
    let outcome: unknown;
    void headOnce(deps, target, '192.0.2.1', 1500).then((o) => (outcome = o));
    await clock.advance(1499);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    expect(outcome).toEqual({ kind: 'failed', detail: 'timeout' });
    expect(connections[0]?.closed).toBe(true);
  });

  it('reports connect errors (refused, unreachable) as connect outcomes', async () => {
    for (const [errno, detail] of [
      ['ECONNREFUSED', 'refused'],
      ['EHOSTUNREACH', 'unreachable'],
      ['ENETUNREACH', 'unreachable'],
      ['EPERM', 'failed: EPERM'],
    ]) {
      const clock = new FakeClock();
      const { sockets } = fakeSockets({ connect: () => ioError(errno as string) });
      expect(await headOnce({ sockets, clock }, target, '192.0.2.1', 1000)).toEqual({ kind: 'connect', detail });
    }
  });

  it('times out a connect that hangs; a late connection is closed when it comes', async () => {
    const clock = new FakeClock();
    let late: ((c: FakeConnection) => void) | undefined;
    const sockets = {
      connectTcp: () => new Promise<FakeConnection>((resolve) => (late = resolve)),
      openDatagram: () => Promise.reject(new Error('no')),
    };
    let outcome: unknown;
    void headOnce({ sockets, clock }, target, '192.0.2.1', 1000).then((o) => (outcome = o));
    await clock.advance(1000);
    expect(outcome).toEqual({ kind: 'failed', detail: 'timeout' });
    const c = new FakeConnection('192.0.2.1', 8080);
    late?.(c);
    await clock.advance(0);
    expect(c.closed).toBe(true);
    expect(c.written).toEqual([]);
  });
});
