import { FakeClock } from '@wrtkit/core';
import type { PluginContext } from '@wrtkit/sdk';
import { describe, expect, it } from 'vitest';
import type { ProbeSockets } from '../../src/probes/deps.js';
import { judgePing, pingArgv } from '../../src/probes/icmp.js';
import {
  type ProbeOptions,
  type ProbeResult,
  type ProberDeps,
  SLACK_MS,
  bindingSupported,
  createProber,
  probeRound,
} from '../../src/probes/index.js';
import { type ProbeTarget, parseTarget } from '../../src/probes/target.js';
import { A, FakeConnection, dnsReply, fakeProcesses, fakeSockets, readQuery } from './helpers.js';

const target = (text: string): ProbeTarget => {
  const parsed = parseTarget(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.reason}`);
  return parsed.target;
};

const OPTIONS: ProbeOptions = { timeoutMs: 2000, expectStatus: [[200, 399]] };
const CURL = ['curl', '-s', '-g', '-o', '/dev/null', '-w', '%{http_code}', '--max-time'];

function setup(
  replies: Parameters<typeof fakeProcesses>[0],
  socketOptions?: Parameters<typeof fakeSockets>[0],
  files: Record<string, string> = {},
) {
  const clock = new FakeClock();
  const procs = fakeProcesses(replies);
  const fake = socketOptions ? fakeSockets(socketOptions) : undefined;
  const deps: ProberDeps = {
    processes: procs.processes,
    clock,
    ...(fake ? { sockets: fake.sockets } : {}),
    fs: { tryReadText: (p) => files[p] },
    resolvConf: '/resolv.conf',
    hostsFile: '/hosts',
    randomBytes: () => Uint8Array.from([1, 2]),
  };
  return { clock, calls: procs.calls, fake, prober: createProber(deps) };
}

/** Runs a probe with fake time: advances until it settles (at most `limitMs`). */
async function settle(clock: FakeClock, pending: Promise<ProbeResult>, limitMs = 10_000): Promise<ProbeResult> {
  let result: ProbeResult | undefined;
  void pending.then((r) => (result = r));
  for (let t = 0; t <= limitMs && result === undefined; t += 50) await clock.advance(50);
  if (!result) throw new Error('the probe never settled');
  return result;
}

it("takes the plugin context's services as they are (checked by tsc)", () => {
  const fromContext = (ctx: PluginContext): ProberDeps => {
    const sockets: ProbeSockets | undefined = ctx.platform.sockets;
    return {
      processes: ctx.processes,
      clock: ctx.clock,
      sockets,
      fs: ctx.platform.fs,
      randomBytes: (n) => ctx.platform.randomBytes(n),
    };
  };
  expect(typeof fromContext).toBe('function');
});

describe('http probes natively', () => {
  const server = (status: string) => (host: string, port: number) =>
    new FakeConnection(host, port, (c) => c.send(`HTTP/1.1 ${status}\r\n\r\n`));

  it('HEADs an IP literal over the platform TCP, without any program', async () => {
    const { prober, calls, fake } = setup({}, { connect: server('204 No Content') });
    const result = await prober.probe(target('http://192.0.2.1/generate_204'), OPTIONS);
    expect(result).toEqual({ target: 'http://192.0.2.1/generate_204', kind: 'http', ok: true, ms: 0, detail: 'HTTP 204' });
    expect(calls).toEqual([]);
    expect(fake?.connects).toEqual([{ host: '192.0.2.1', port: 80 }]);
  });

  it('judges the status against expectStatus', async () => {
    const { prober } = setup({}, { connect: server('503 Service Unavailable') });
    expect(await prober.probe(target('http://192.0.2.1/'), OPTIONS)).toMatchObject({
      ok: false,
      detail: 'HTTP 503 (expected 200-399)',
    });
    const picky = setup({}, { connect: server('200 OK') });
    expect(await picky.prober.probe(target('http://192.0.2.1/'), { ...OPTIONS, expectStatus: [[204, 204]] })).toMatchObject({
      ok: false,
      detail: 'HTTP 200 (expected 204)',
    });
  });

  it('resolves a name through resolv.conf, then connects to the address', async () => {
    const { prober, fake } = setup(
      {},
      {
        connect: server('204 No Content'),
        udp: (q, to, s) => s.deliver(readQuery(q).type === 1 ? dnsReply(q, { answers: [A('192.0.2.7')] }) : dnsReply(q), to),
      },
      { '/resolv.conf': 'nameserver 192.0.2.53\n' },
    );
    expect(await prober.probe(target('http://probe.lab/x'), OPTIONS)).toMatchObject({ ok: true, detail: 'HTTP 204' });
    expect(fake?.connects).toEqual([{ host: '192.0.2.7', port: 80 }]);
    expect(fake?.connections[0]?.request()).toContain('Host: probe.lab\r\n');
  });

  it('reports a name that does not resolve', async () => {
    const { prober } = setup(
      {},
      { udp: (q, to, s) => s.deliver(dnsReply(q, { rcode: 3 }), to) },
      { '/resolv.conf': 'nameserver 192.0.2.53\n' },
    );
    expect(await prober.probe(target('http://missing.lab/'), OPTIONS)).toMatchObject({
      ok: false,
      detail: 'cannot resolve: NXDOMAIN',
    });
    const silent = setup({}, {}, { '/resolv.conf': 'nameserver 192.0.2.53\n' });
    const result = await settle(silent.clock, silent.prober.probe(target('http://silent.lab/'), OPTIONS));
    expect(result).toMatchObject({ ok: false, detail: 'timeout resolving the host', ms: 2000 });
  });

  it('tries the IPv6 address when the IPv4 one refuses', async () => {
    const { prober, fake } = setup(
      {},
      { connect: (host, port) => (host.includes(':') ? server('200 OK')(host, port) : undefined) as FakeConnection },
      { '/hosts': '192.0.2.7 dual.lab\n2001:db8::7 dual.lab\n' },
    );
    expect(await prober.probe(target('http://dual.lab/'), OPTIONS)).toMatchObject({ ok: true, detail: 'HTTP 200' });
    expect(fake?.connects.map((c) => c.host)).toEqual(['192.0.2.7', '2001:db8::7']);
  });

  it('refused, timeout', async () => {
    const refused = setup({}, {});
    expect(await refused.prober.probe(target('http://192.0.2.1/'), OPTIONS)).toMatchObject({ ok: false, detail: 'refused' });
    const hang = setup({}, { connect: (h, p) => new FakeConnection(h, p) });
    const result = await settle(hang.clock, hang.prober.probe(target('http://192.0.2.1/'), OPTIONS));
    expect(result).toMatchObject({ ok: false, detail: 'timeout', ms: 2000 });
  });
});

describe('http probes with programs', () => {
  it('uses curl for https, with the status it prints', async () => {
    const { prober, calls } = setup({ curl: { exitCode: 0, stdout: '204' } }, {});
    const result = await prober.probe(target('https://example.com/generate_204'), OPTIONS);
    expect(result).toMatchObject({ kind: 'https', ok: true, detail: 'HTTP 204' });
    expect(calls).toEqual([
      {
        argv: [...CURL, '2', '--max-redirs', '0', '--head', 'https://example.com/generate_204'],
        options: { timeoutMs: 2250 },
      },
    ]);
  });

  it('uses curl for http with use_curl, an interface or a source address (interface wins)', async () => {
    const { prober, calls } = setup({ curl: { exitCode: 0, stdout: '503' } }, {});
    expect(await prober.probe(target('http://192.0.2.1/'), { ...OPTIONS, useCurl: true })).toMatchObject({
      ok: false,
      detail: 'HTTP 503 (expected 200-399)',
    });
    await prober.probe(target('http://192.0.2.1/'), { ...OPTIONS, source: '192.0.2.2' });
    await prober.probe(target('http://192.0.2.1/'), { ...OPTIONS, source: '192.0.2.2', interface: 'wan' });
    expect(calls.map((c) => c.argv.slice(CURL.length + 3))).toEqual([
      ['--head', 'http://192.0.2.1/'],
      ['--interface', '192.0.2.2', '--head', 'http://192.0.2.1/'],
      ['--interface', 'wan', '--head', 'http://192.0.2.1/'],
    ]);
  });

  it('uses curl for http when there are no sockets (qjs without the native module)', async () => {
    const { prober, calls } = setup({ curl: { exitCode: 0, stdout: '200' } });
    expect(await prober.probe(target('http://192.0.2.1/'), OPTIONS)).toMatchObject({ ok: true, detail: 'HTTP 200' });
    expect(calls[0]?.argv[0]).toBe('curl');
  });

  it.each([
    [{ exitCode: 6 }, 'cannot resolve the host'],
    [{ exitCode: 7 }, 'cannot connect'],
    [{ exitCode: 28 }, 'timeout'],
    [{ exitCode: 60 }, 'certificate not trusted (curl exit 60)'],
    [{ exitCode: 35 }, 'TLS failed (curl exit 35)'],
    [{ exitCode: 99 }, 'curl exit 99'],
    [{ exitCode: null, timedOut: true }, 'timeout'],
    [{ exitCode: null }, 'curl was killed'],
    [{ exitCode: 0, stdout: '000' }, 'no HTTP status'],
    [{ exitCode: 0, stdout: 'garbage' }, 'no HTTP status'],
  ])('reports curl %j as %s', async (reply, detail) => {
    const { prober } = setup({ curl: reply });
    expect(await prober.probe(target('https://example.com/'), OPTIONS)).toMatchObject({ ok: false, detail });
  });

  it('falls back to uclient-fetch, then wget, when curl is missing (and remembers)', async () => {
    const { prober, calls } = setup({ 'uclient-fetch': 'missing', wget: { exitCode: 0 } });
    expect(await prober.probe(target('https://example.com/'), OPTIONS)).toMatchObject({
      ok: true,
      detail: 'OK via wget (status not checked)',
    });
    expect(await prober.probe(target('https://example.com/'), OPTIONS)).toMatchObject({ ok: true });
    expect(calls.map((c) => c.argv)).toEqual([
      [...CURL, '2', '--max-redirs', '0', '--head', 'https://example.com/'],
      ['uclient-fetch', '--spider', '-q', '-T', '2', 'https://example.com/'],
      ['wget', '--spider', '-q', '-T', '2', 'https://example.com/'],
      ['wget', '--spider', '-q', '-T', '2', 'https://example.com/'],
    ]);
    const uclient = setup({ 'uclient-fetch': { exitCode: 8 } });
    expect(await uclient.prober.probe(target('https://example.com/'), OPTIONS)).toMatchObject({
      ok: false,
      detail: 'uclient-fetch exit 8 (error status)',
    });
    expect(uclient.calls.map((c) => c.argv[0])).toEqual(['curl', 'uclient-fetch']);
  });

  it('fails clearly when nothing is installed, or binding needs the missing curl', async () => {
    const none = setup({});
    expect(await none.prober.probe(target('https://example.com/'), OPTIONS)).toMatchObject({
      ok: false,
      detail: 'none of curl, uclient-fetch, wget is installed',
    });
    const bound = setup({ wget: { exitCode: 0 } });
    expect(await bound.prober.probe(target('https://example.com/'), { ...OPTIONS, interface: 'wan' })).toMatchObject({
      ok: false,
      detail: 'binding to wan needs curl, which is not installed',
    });
    expect(bound.calls.map((c) => c.argv[0])).toEqual(['curl']);
  });

  it('says when the manifest does not allow a program', async () => {
    const { prober } = setup({ curl: 'forbidden' });
    expect(await prober.probe(target('https://example.com/'), OPTIONS)).toMatchObject({
      ok: false,
      detail: 'not allowed to run curl',
    });
  });
});

describe('dns probes', () => {
  it('asks the server natively; ok with an answer of the type', async () => {
    const { prober, fake, calls } = setup({}, { udp: (q, to, s) => s.deliver(dnsReply(q, { answers: [A('192.0.2.1')] }), to) });
    expect(await prober.probe(target('dns://192.0.2.53/example.com'), OPTIONS)).toEqual({
      target: 'dns://192.0.2.53/example.com',
      kind: 'dns',
      ok: true,
      ms: 0,
      detail: 'A 192.0.2.1',
    });
    expect(fake?.datagrams[0]?.sent[0]?.to).toEqual({ address: '192.0.2.53', port: 53 });
    expect(readQuery(fake?.datagrams[0]?.sent[0]?.data as Uint8Array).id).toBe(0x0102);
    expect(calls).toEqual([]);
  });

  it('NXDOMAIN, no answer, timeout are failures', async () => {
    const nx = setup({}, { udp: (q, to, s) => s.deliver(dnsReply(q, { rcode: 3 }), to) });
    expect(await nx.prober.probe(target('dns://192.0.2.53/missing.lab'), OPTIONS)).toMatchObject({
      ok: false,
      detail: 'NXDOMAIN',
    });
    const empty = setup({}, { udp: (q, to, s) => s.deliver(dnsReply(q), to) });
    expect(await empty.prober.probe(target('dns://192.0.2.53/x.lab?type=AAAA'), OPTIONS)).toMatchObject({
      ok: false,
      detail: 'no answer',
    });
    const silent = setup({}, {});
    const result = await settle(silent.clock, silent.prober.probe(target('dns://192.0.2.53/x.lab'), OPTIONS));
    expect(result).toMatchObject({ ok: false, detail: 'timeout', ms: 2000 });
  });

  it('binds to the source address; refuses an interface, as bindingSupported says', async () => {
    const { prober, fake } = setup({}, { udp: (q, to, s) => s.deliver(dnsReply(q, { answers: [A('192.0.2.1')] }), to) });
    await prober.probe(target('dns://192.0.2.53/example.com'), { ...OPTIONS, source: '192.0.2.2' });
    expect(fake?.datagrams[0]?.options).toEqual({ family: 'udp4', bind: { address: '192.0.2.2', port: 0 } });
    const reason = bindingSupported('dns', { interface: 'wan' });
    expect(reason).toBe('dns probes cannot bind to an interface (sockets bind to addresses): use source');
    expect(await prober.probe(target('dns://192.0.2.53/example.com'), { ...OPTIONS, interface: 'wan' })).toMatchObject({
      ok: false,
      detail: reason,
    });
    expect(bindingSupported('dns', { source: '192.0.2.2' })).toBeUndefined();
    for (const kind of ['http', 'https', 'icmp'] as const) expect(bindingSupported(kind, { interface: 'wan' })).toBeUndefined();
  });

  it('fails without sockets', async () => {
    const { prober } = setup({});
    expect(await prober.probe(target('dns://192.0.2.53/example.com'), OPTIONS)).toMatchObject({
      ok: false,
      detail: 'no UDP sockets on this engine (the native module is missing)',
    });
  });
});

describe('icmp probes', () => {
  const REPLY = 'PING 192.0.2.1 (192.0.2.1) 56(84) bytes of data.\n64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=0.412 ms\n';

  it('runs ping with an argv, never a shell', async () => {
    const { prober, calls } = setup({ ping: { exitCode: 0, stdout: REPLY } });
    expect(await prober.probe(target('icmp://192.0.2.1'), OPTIONS)).toMatchObject({
      kind: 'icmp',
      ok: true,
      detail: 'reply 0.412 ms',
    });
    await prober.probe(target('icmp://[2001:db8::1]'), { ...OPTIONS, timeoutMs: 1500, interface: 'wan' });
    await prober.probe(target('icmp://example.com'), { ...OPTIONS, source: '192.0.2.2' });
    expect(calls).toEqual([
      { argv: ['ping', '-c', '1', '-W', '2', '192.0.2.1'], options: { timeoutMs: 2250 } },
      { argv: ['ping', '-c', '1', '-W', '2', '-I', 'wan', '-6', '2001:db8::1'], options: { timeoutMs: 1750 } },
      { argv: ['ping', '-c', '1', '-W', '2', '-I', '192.0.2.2', 'example.com'], options: { timeoutMs: 2250 } },
    ]);
  });

  it('reads the verdict from exit code and output (iputils and BusyBox)', () => {
    expect(judgePing(0, '64 bytes from 10.0.0.1: seq=0 ttl=64 time=1.234 ms\n', '')).toEqual({
      ok: true,
      detail: 'reply 1.234 ms',
    });
    expect(judgePing(0, '64 bytes from x: icmp_seq=1 ttl=64 time=12 ms\n', '')).toEqual({ ok: true, detail: 'reply 12 ms' });
    expect(judgePing(0, '', '')).toEqual({ ok: true, detail: 'reply' });
    expect(judgePing(1, '1 packets transmitted, 0 received, 100% packet loss\n', '')).toEqual({ ok: false, detail: 'timeout' });
    expect(judgePing(1, 'From 10.0.0.2 icmp_seq=1 Destination Host Unreachable\n', '')).toEqual({
      ok: false,
      detail: 'unreachable',
    });
    expect(judgePing(2, '', 'ping: connect: Network is unreachable\n')).toEqual({ ok: false, detail: 'unreachable' });
    expect(judgePing(2, '', 'ping: nothing.lab: Name or service not known\n')).toEqual({
      ok: false,
      detail: 'cannot resolve the host',
    });
    expect(judgePing(1, '', "ping: bad address 'nothing.lab'\n")).toEqual({ ok: false, detail: 'cannot resolve the host' });
    expect(judgePing(2, '', 'ping: SO_BINDTODEVICE wan: No such device\n')).toEqual({
      ok: false,
      detail: 'ping: SO_BINDTODEVICE wan: No such device',
    });
    expect(pingArgv({ kind: 'icmp', text: 'icmp://::1', host: '::1' }, 100)).toEqual(['ping', '-c', '1', '-W', '1', '-6', '::1']);
  });

  it('missing ping, a killed ping', async () => {
    expect(await setup({}).prober.probe(target('icmp://192.0.2.1'), OPTIONS)).toMatchObject({ detail: 'ping is not installed' });
    const killed = setup({ ping: { exitCode: null, timedOut: true } });
    expect(await killed.prober.probe(target('icmp://192.0.2.1'), OPTIONS)).toMatchObject({ ok: false, detail: 'timeout' });
  });
});

describe('the time limit', () => {
  it('holds even when a program never ends: the result comes at timeoutMs + SLACK_MS', async () => {
    const { prober, clock } = setup({ ping: 'hang', curl: 'hang' });
    for (const text of ['icmp://192.0.2.1', 'https://example.com/']) {
      let result: ProbeResult | undefined;
      void prober.probe(target(text), OPTIONS).then((r) => (result = r));
      await clock.advance(2000 + SLACK_MS - 1);
      expect(result).toBeUndefined();
      await clock.advance(1);
      expect(result).toMatchObject({ ok: false, detail: 'timeout', ms: 2000 + SLACK_MS });
    }
  });

  it('holds when a connect never completes', async () => {
    const { prober, clock } = setup({}, { connect: () => 'hang' });
    let result: ProbeResult | undefined;
    void prober.probe(target('http://192.0.2.1/'), OPTIONS).then((r) => (result = r));
    await clock.advance(2000);
    expect(result).toMatchObject({ ok: false, detail: 'timeout', ms: 2000 });
  });

  it('never throws: a throwing dependency is a failed result', async () => {
    const clock = new FakeClock();
    const prober = createProber({
      clock,
      processes: {
        run: () => {
          throw new Error('boom');
        },
      },
      sockets: {
        connectTcp: () => {
          throw new Error('sync boom');
        },
        openDatagram: () => Promise.reject(new Error('no udp')),
      },
      fs: {
        tryReadText: () => {
          throw new Error('EACCES');
        },
      },
    });
    expect(await prober.probe(target('icmp://192.0.2.1'), OPTIONS)).toMatchObject({ ok: false, detail: 'cannot run ping: boom' });
    expect(await prober.probe(target('http://192.0.2.1/'), OPTIONS)).toMatchObject({ ok: false, detail: 'failed: sync boom' });
    expect(await prober.probe(target('dns://192.0.2.53/x.lab'), OPTIONS)).toMatchObject({
      ok: false,
      detail: 'cannot open a socket: no udp',
    });
    const resolving = prober.probe(target('http://name.lab/'), OPTIONS);
    expect(await settle(clock, resolving)).toMatchObject({ ok: false, detail: 'cannot resolve: cannot open a socket: no udp' });
  });
});

describe('probeRound', () => {
  it('tries the targets in order and stops at the first that answers (upstream)', async () => {
    const { prober, calls } = setup({
      ping: (argv) => (argv.at(-1) === '192.0.2.2' ? { exitCode: 0, stdout: 'time=1.5 ms' } : { exitCode: 1 }),
    });
    const targets = ['icmp://192.0.2.1', 'icmp://192.0.2.2', 'icmp://192.0.2.3'].map(target);
    const round = await probeRound(prober, targets, OPTIONS);
    expect(round).toEqual({
      online: true,
      results: [
        { target: 'icmp://192.0.2.1', kind: 'icmp', ok: false, ms: 0, detail: 'timeout' },
        { target: 'icmp://192.0.2.2', kind: 'icmp', ok: true, ms: 0, detail: 'reply 1.5 ms' },
      ],
    });
    expect(calls.map((c) => c.argv.at(-1))).toEqual(['192.0.2.1', '192.0.2.2']);
  });

  it('is offline when none answers, with every result', async () => {
    const { prober } = setup({ ping: { exitCode: 1 } });
    const round = await probeRound(prober, ['icmp://192.0.2.1', 'icmp://192.0.2.2'].map(target), OPTIONS);
    expect(round.online).toBe(false);
    expect(round.results.map((r) => r.ok)).toEqual([false, false]);
    expect(await probeRound(prober, [], OPTIONS)).toEqual({ online: false, results: [] });
  });
});
