import { FakeClock } from '@wrtkit/core';
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv6, ipv6Bytes, sameAddress } from '../../src/probes/bytes.js';
import { lookupHostsFile, parseResolvConf, queryDns, resolveHost } from '../../src/probes/dns-client.js';
import { encodeQuery, parseReply, readName } from '../../src/probes/dns-message.js';
import { A, type FakeSocketsOptions, ascii, dnsReply, fakeSockets, ioError, readQuery } from './helpers.js';

const SERVER = { address: '192.0.2.53', port: 53 };

describe('IPv6 text ↔ bytes', () => {
  it('formats as RFC 5952 (as Node canonicalizes URL hosts)', () => {
    const canonical = (a: string) => new URL(`http://[${a}]/`).hostname.slice(1, -1);
    for (const a of [
      '::',
      '::1',
      '1::',
      '2001:db8::1',
      '2001:DB8:0:0:1:0:0:1',
      '1:0:0:2:0:0:0:3',
      'fd71:1::2',
      '::ffff:1.2.3.4',
    ]) {
      const bytes = ipv6Bytes(a);
      expect(bytes, a).toBeDefined();
      const text = formatIPv6(bytes as Uint8Array);
      // Node keeps an IPv4 tail for mapped addresses; we write hex
      if (!a.includes('.')) expect(text, a).toBe(canonical(a));
      expect(ipv6Bytes(text)).toEqual(bytes);
    }
    expect(formatIPv6(ipv6Bytes('1:0:1:1:1:1:1:1') as Uint8Array)).toBe('1:0:1:1:1:1:1:1'); // one zero group stays
  });

  it('parses exactly what Node calls IPv6 (random 16-byte addresses, compressed or not)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatIPv6(bytes);
        expect(isIPv6(text)).toBe(true);
        expect(ipv6Bytes(text)).toEqual(bytes);
      }),
    );
    for (const bad of ['', ':', '1:::2', '1::2::3', '12345::', '1:2:3:4:5:6:7', '::1.2.3', 'g::'])
      expect(ipv6Bytes(bad), bad).toBeUndefined();
  });

  it('compares spellings of one address', () => {
    expect(sameAddress('FD71:0::1', 'fd71::1')).toBe(true);
    expect(sameAddress('10.0.0.1', '10.0.0.1')).toBe(true);
    expect(sameAddress('10.0.0.1', '10.0.0.2')).toBe(false);
    expect(sameAddress('fe80::1%eth0', 'fe80::1')).toBe(true);
  });
});

describe('DNS messages', () => {
  it('encodes a query with RD set', () => {
    const q = encodeQuery(0x1234, 'www.example.com', 28) as Uint8Array;
    expect(Array.from(q.subarray(0, 12))).toEqual([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(readQuery(q)).toMatchObject({ id: 0x1234, name: 'www.example.com', type: 28 });
    expect(Array.from(q.subarray(-4))).toEqual([0, 28, 0, 1]);
    expect(encodeQuery(1, `${'a'.repeat(64)}.com`, 1)).toBeUndefined();
    expect(encodeQuery(1, Array(130).fill('a').join('.'), 1)).toBeUndefined();
    expect(encodeQuery(1, 'exämple.com', 1)).toBeUndefined();
  });

  it('parses answers behind compression pointers, CNAME chains included', () => {
    const query = encodeQuery(7, 'www.example.com', 1) as Uint8Array;
    // www.example.com CNAME edge.example.com (edge + pointer to "example.com" at 16), then edge A
    const edge = [4, ...ascii('edge'), 0xc0, 16];
    const reply = dnsReply(query, {
      answers: [
        { type: 5, rdata: edge, ttl: 300 },
        { type: 1, name: [0xc0, 12 + 17 + 4 + 12], rdata: [192, 0, 2, 7] },
        { type: 1, name: [0xc0, 12 + 17 + 4 + 12], rdata: [192, 0, 2, 8] },
      ],
    });
    const parsed = parseReply(reply);
    expect(parsed).toMatchObject({ id: 7, response: true, truncated: false, rcode: 0 });
    expect(parsed?.questions).toEqual([{ name: 'www.example.com', type: 1, class: 1 }]);
    expect(parsed?.answers).toEqual([
      { name: 'www.example.com', type: 5, class: 1, ttl: 300 },
      { name: 'edge.example.com', type: 1, class: 1, ttl: 60, address: '192.0.2.7' },
      { name: 'edge.example.com', type: 1, class: 1, ttl: 60, address: '192.0.2.8' },
    ]);
    expect(readName(reply, 12 + 17 + 4 + 12)).toEqual({ name: 'edge.example.com', next: 12 + 17 + 4 + 12 + 7 });
  });

  it('parses AAAA answers', () => {
    const query = encodeQuery(9, 'example.com', 28) as Uint8Array;
    const rdata = Array.from(ipv6Bytes('2001:db8::1') as Uint8Array);
    expect(parseReply(dnsReply(query, { answers: [{ type: 28, rdata }] }))?.answers[0]?.address).toBe('2001:db8::1');
  });

  it('gives undefined, never a throw, for malformed messages', () => {
    const query = encodeQuery(7, 'example.com', 1) as Uint8Array;
    const good = dnsReply(query, { answers: [A('192.0.2.1')] });
    expect(parseReply(good)).toBeDefined();
    // every truncation of a good reply
    for (let n = 0; n < good.length; n++) expect(parseReply(good.subarray(0, n)), `length ${n}`).toBeUndefined();
    // a pointer loop, a pointer past the end, a reserved label type
    const loop = Uint8Array.from([...good.subarray(0, 12 + 17), 0xc0, 12 + 17, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
    expect(parseReply(loop)).toBeUndefined();
    const beyond = Uint8Array.from([...good.subarray(0, 12 + 17), 0xc0, 0xff, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
    expect(parseReply(beyond)).toBeUndefined();
    const reserved = Uint8Array.from([...good.subarray(0, 12 + 17), 0x40, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
    expect(parseReply(reserved)).toBeUndefined();
    // rdlength past the end
    const long = Uint8Array.from(good);
    long[long.length - 5] = 200;
    expect(parseReply(long)).toBeUndefined();
    // random garbage never throws
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        parseReply(bytes);
      }),
    );
    // nor do random mutations of a good reply
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const copy = Uint8Array.from(good);
        copy[at] = value;
        parseReply(copy);
      }),
    );
  });

  it('keeps the whole records of a truncated (TC) reply', () => {
    const query = encodeQuery(7, 'example.com', 1) as Uint8Array;
    const full = dnsReply(query, { truncated: true, answers: [A('192.0.2.1'), A('192.0.2.2')] });
    const cut = full.subarray(0, full.length - 3);
    expect(parseReply(cut)?.answers.map((a) => a.address)).toEqual(['192.0.2.1']);
  });
});

function dnsDeps(options: FakeSocketsOptions = {}) {
  const clock = new FakeClock();
  const fake = fakeSockets(options);
  return { clock, ...fake, deps: { sockets: fake.sockets, clock, randomBytes: () => Uint8Array.from([0xab, 0xcd]) } };
}

describe('queryDns', () => {
  it('asks with a random id and reads the answer', async () => {
    const { deps, datagrams } = dnsDeps({
      udp: (q, to, s) => s.deliver(dnsReply(q, { answers: [A('192.0.2.1'), A('192.0.2.2')] }), to),
    });
    const answer = await queryDns(deps, SERVER, 'example.com', 'A', 1000);
    expect(answer).toEqual({ answered: true, rcode: 0, addresses: ['192.0.2.1', '192.0.2.2'], detail: 'A 192.0.2.1 (+1)' });
    expect(readQuery(datagrams[0]?.sent[0]?.data as Uint8Array)).toMatchObject({ id: 0xabcd, name: 'example.com', type: 1 });
    expect(datagrams[0]?.options).toEqual({ family: 'udp4' });
    expect(datagrams[0]?.sent[0]?.to).toEqual(SERVER);
    expect(datagrams[0]?.closed).toBe(true);
  });

  it('uses udp6 for an IPv6 server and binds to the source address', async () => {
    const server = { address: '2001:db8::53', port: 5353 };
    const rdata = Array.from(ipv6Bytes('2001:db8::7') as Uint8Array);
    const { deps, datagrams } = dnsDeps({
      // the reply comes from another spelling of the server's address
      udp: (q, to, s) => s.deliver(dnsReply(q, { answers: [{ type: 28, rdata }] }), { address: '2001:DB8:0::53', port: to.port }),
    });
    const answer = await queryDns(deps, server, 'example.com', 'AAAA', 1000, '2001:db8::2');
    expect(answer.detail).toBe('AAAA 2001:db8::7');
    expect(datagrams[0]?.options).toEqual({ family: 'udp6', bind: { address: '2001:db8::2', port: 0 } });
  });

  it.each([
    [3, 'NXDOMAIN'],
    [2, 'SERVFAIL'],
    [5, 'REFUSED'],
    [9, 'rcode 9'],
  ])('reports rcode %i as %s', async (rcode, detail) => {
    const { deps } = dnsDeps({ udp: (q, to, s) => s.deliver(dnsReply(q, { rcode }), to) });
    expect(await queryDns(deps, SERVER, 'example.com', 'A', 1000)).toEqual({ answered: true, rcode, addresses: [], detail });
  });

  it('says "no answer" for NOERROR without a record of the type (a CNAME alone, an AAAA for A)', async () => {
    const { deps } = dnsDeps({
      udp: (q, to, s) => s.deliver(dnsReply(q, { answers: [{ type: 28, rdata: Array(16).fill(0) }] }), to),
    });
    expect(await queryDns(deps, SERVER, 'example.com', 'A', 1000)).toMatchObject({ answered: true, detail: 'no answer' });
    const truncated = dnsDeps({ udp: (q, to, s) => s.deliver(dnsReply(q, { truncated: true }), to) });
    expect((await queryDns(truncated.deps, SERVER, 'example.com', 'A', 1000)).detail).toBe('truncated reply');
  });

  it('ignores replies from elsewhere, with another id or for another question; then times out', async () => {
    const { deps, clock, datagrams } = dnsDeps({
      udp: (q, to, s) => {
        const good = dnsReply(q, { answers: [A('192.0.2.1')] });
        s.deliver(good, { address: '192.0.2.99', port: 53 }); // another host
        s.deliver(good, { address: SERVER.address, port: 54 }); // another port
        s.deliver(dnsReply(q, { id: 0x1111, answers: [A('192.0.2.1')] }), to); // another id
        const other = dnsReply(encodeQuery(0xabcd, 'other.example', 1) as Uint8Array, { answers: [A('192.0.2.1')] });
        s.deliver(other, to); // another question
        s.deliver(Uint8Array.from([0xab]), to); // too short for an id
      },
    });
    let done = false;
    const pending = queryDns(deps, SERVER, 'example.com', 'A', 2000).then((a) => {
      done = true;
      return a;
    });
    await clock.advance(1999);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(await pending).toEqual({ answered: false, addresses: [], detail: 'timeout' });
    expect(datagrams[0]?.closed).toBe(true);
  });

  it('fails at once on garbage with our id, or a query instead of a reply', async () => {
    const garbage = dnsDeps({ udp: (_q, to, s) => s.deliver(Uint8Array.from([0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 1, 0]), to) });
    expect((await queryDns(garbage.deps, SERVER, 'example.com', 'A', 1000)).detail).toBe('bad reply');
    const echo = dnsDeps({ udp: (q, to, s) => s.deliver(q, to) });
    expect((await queryDns(echo.deps, SERVER, 'example.com', 'A', 1000)).detail).toBe('bad reply');
  });

  it('reports send and socket errors as results', async () => {
    const unreachable = dnsDeps({ sendError: ioError('ENETUNREACH') });
    expect((await queryDns(unreachable.deps, SERVER, 'example.com', 'A', 1000)).detail).toBe('unreachable');
    const noSource = dnsDeps({ openError: ioError('EADDRNOTAVAIL') });
    expect((await queryDns(noSource.deps, SERVER, 'example.com', 'A', 1000, '192.0.2.2')).detail).toBe(
      'source 192.0.2.2 is not an address of this router',
    );
    const { deps } = dnsDeps();
    expect((await queryDns(deps, SERVER, 'example.com', 'A', 1000, '2001:db8::2')).detail).toBe('source 2001:db8::2 is not IPv4');
    expect((await queryDns(deps, SERVER, `${'a'.repeat(64)}.com`, 'A', 1000)).detail).toBe(`bad name ${'a'.repeat(64)}.com`);
  });
});

describe('resolveHost', () => {
  const RESOLV =
    '# generated\nsearch lan\nnameserver 192.0.2.53 # first\nnameserver 2001:db8::53\nnameserver bogus\nnameserver 192.0.2.54\nnameserver 192.0.2.55\n';

  it('reads resolv.conf (first three) and hosts files', () => {
    expect(parseResolvConf(RESOLV)).toEqual(['192.0.2.53', '2001:db8::53', '192.0.2.54']);
    expect(parseResolvConf('')).toEqual([]);
    const hosts =
      '127.0.0.1 localhost\n::1 localhost ip6-localhost\n192.0.2.9 Probe.Lab probe # comment\n#192.0.2.10 probe.lab\n';
    expect(lookupHostsFile(hosts, 'localhost')).toEqual(['127.0.0.1', '::1']);
    expect(lookupHostsFile(hosts, 'probe.lab')).toEqual(['192.0.2.9']);
    expect(lookupHostsFile(hosts, 'nothing')).toEqual([]);
  });

  function resolver(files: Record<string, string>, udp: FakeSocketsOptions['udp']) {
    const { deps, clock, datagrams } = dnsDeps({ udp });
    return {
      clock,
      datagrams,
      deps: { ...deps, fs: { tryReadText: (p: string) => files[p] }, resolvConf: '/r', hostsFile: '/h' },
    };
  }

  it('takes the hosts file first, without asking', async () => {
    const { deps, datagrams } = resolver({ '/h': '192.0.2.9 probe.lab\n', '/r': RESOLV }, undefined);
    expect(await resolveHost(deps, 'probe.lab', 1000)).toEqual({ ok: true, addresses: ['192.0.2.9'] });
    expect(datagrams).toEqual([]);
    expect(await resolveHost(deps, '192.0.2.1', 1000)).toEqual({ ok: true, addresses: ['192.0.2.1'] });
  });

  it('asks A and AAAA together, IPv4 first', async () => {
    const v6 = Array.from(ipv6Bytes('2001:db8::9') as Uint8Array);
    const { deps, datagrams } = resolver({ '/r': RESOLV }, (q, to, s) => {
      const type = readQuery(q).type;
      s.deliver(dnsReply(q, { answers: [type === 1 ? A('192.0.2.9') : { type: 28, rdata: v6 }] }), to);
    });
    expect(await resolveHost(deps, 'probe.lab', 1000)).toEqual({ ok: true, addresses: ['192.0.2.9', '2001:db8::9'] });
    expect(datagrams.map((d) => d.sent[0]?.to.address)).toEqual(['192.0.2.53', '192.0.2.53']);
  });

  it('passes to the next server on timeout or SERVFAIL, sharing the time left; stops at NXDOMAIN', async () => {
    const asked: string[] = [];
    const { deps, clock } = resolver({ '/r': RESOLV }, (q, to, s) => {
      asked.push(`${to.address} ${readQuery(q).type}`);
      if (to.address === '2001:db8::53') s.deliver(dnsReply(q, { rcode: 2 }), to);
      if (to.address === '192.0.2.54') s.deliver(dnsReply(q, { rcode: 3 }), to);
    });
    const pending = resolveHost(deps, 'missing.lab', 3000);
    await clock.advance(999); // the first server's share: a third
    expect(asked).toEqual(['192.0.2.53 1', '192.0.2.53 28']);
    await clock.advance(1);
    expect(await pending).toEqual({ ok: false, detail: 'NXDOMAIN' });
    expect(asked).toEqual([
      '192.0.2.53 1',
      '192.0.2.53 28',
      '2001:db8::53 1',
      '2001:db8::53 28',
      '192.0.2.54 1',
      '192.0.2.54 28',
    ]);
  });

  it('asks 127.0.0.1 without a resolv.conf, and times out within the limit', async () => {
    const { deps, clock, datagrams } = resolver({}, undefined);
    let result: unknown;
    void resolveHost(deps, 'probe.lab', 1500).then((r) => (result = r));
    await clock.advance(1500);
    expect(result).toEqual({ ok: false, detail: 'timeout' });
    expect(datagrams.map((d) => d.sent[0]?.to)).toEqual([
      { address: '127.0.0.1', port: 53 },
      { address: '127.0.0.1', port: 53 },
    ]);
  });

  it('says "no address" when the server knows the name but has no A or AAAA', async () => {
    const { deps } = resolver({ '/r': 'nameserver 192.0.2.53\n' }, (q, to, s) => s.deliver(dnsReply(q), to));
    expect(await resolveHost(deps, 'probe.lab', 1000)).toEqual({ ok: false, detail: 'no address' });
  });
});
