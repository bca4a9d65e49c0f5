// @ts-expect-error: the SDK's build scripts are plain ESM without declarations
import { compileValidator } from '@wrtkit/sdk/build/config-codegen.mjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOST_PATTERN, ipFamily, parseTarget } from '../../src/probes/target.js';

// ajv compiles schema patterns with the `u` flag; other validators use none.
const patterns = [new RegExp(HOST_PATTERN, 'u'), new RegExp(HOST_PATTERN)];
const matches = (text: string) => patterns.map((p) => p.test(text));

const GOOD: Array<[string, object]> = [
  ['http://www.example.com', { kind: 'http', host: 'www.example.com', port: 80, path: '/' }],
  ['http://example.com/generate_204', { kind: 'http', host: 'example.com', port: 80, path: '/generate_204' }],
  ['https://example.com:8443/a/b?x=1&y=%20', { kind: 'https', host: 'example.com', port: 8443, path: '/a/b?x=1&y=%20' }],
  ['https://example.com', { kind: 'https', port: 443, path: '/' }],
  ['http://192.0.2.1/', { host: '192.0.2.1', port: 80, path: '/' }],
  ['http://192.0.2.1:65535/x', { host: '192.0.2.1', port: 65535 }],
  ['http://[2001:db8::1]/', { host: '2001:db8::1' }],
  ['http://[2001:db8::1]:8080/x', { host: '2001:db8::1', port: 8080, path: '/x' }],
  ['http://[::ffff:192.0.2.1]/', { host: '::ffff:192.0.2.1' }],
  ['http://[::]/', { host: '::' }],
  ['http://localhost:1/', { host: 'localhost', port: 1 }],
  ['http://1and1.com/', { host: '1and1.com' }],
  ['http://a.b-c.d9/', { host: 'a.b-c.d9' }],
  ['http://router.1-a/', { host: 'router.1-a' }],
  ['http://example.com/#frag', { path: '/#frag' }],
  ['http://example.com/{x}[y]', { path: '/{x}[y]' }],
  ['dns://192.0.2.53/example.com', { kind: 'dns', server: '192.0.2.53', port: 53, name: 'example.com', type: 'A' }],
  ['dns://192.0.2.53:5353/example.com?type=AAAA', { server: '192.0.2.53', port: 5353, type: 'AAAA' }],
  ['dns://[2001:db8::53]/_dns.resolver.arpa?type=A', { server: '2001:db8::53', name: '_dns.resolver.arpa', type: 'A' }],
  ['dns://127.0.0.1/localhost', { name: 'localhost' }],
  ['icmp://192.0.2.1', { kind: 'icmp', host: '192.0.2.1' }],
  ['icmp://example.com', { host: 'example.com' }],
  ['icmp://example.com/', { host: 'example.com' }],
  ['icmp://[2001:db8::1]', { host: '2001:db8::1' }],
  ['icmp://2001:db8::1', { host: '2001:db8::1' }],
  ['icmp://::1/', { host: '::1' }],
];

const BAD: Array<[string, string]> = [
  ['', 'empty'],
  ['example.com', 'not a URL'],
  ['http:/example.com', 'not a URL'],
  ['mailto:x@example.com', 'not a URL'],
  ['ftp://example.com/', 'unknown scheme ftp'],
  ['HTTP://example.com/', 'unknown scheme HTTP'],
  ['http://', 'no host'],
  ['http:///path', 'no host'],
  ['http://:80/', 'no host'],
  ['http://example.com:99999/', 'bad port 99999'],
  ['http://example.com:0/', 'bad port 0'],
  ['http://example.com:080/', 'bad port 080'],
  ['http://example.com:http/', 'bad port http'],
  ['http://example.com:/', 'empty port'],
  ['http://user:pw@example.com/', 'user names are not supported'],
  ['http://999.1.1.1/', 'bad IPv4 address 999.1.1.1'],
  ['http://1.2.3/', 'bad IPv4 address 1.2.3'],
  ['http://01.2.3.4/', 'bad IPv4 address 01.2.3.4'],
  ['http://exa_mple.com/', 'bad host name exa_mple.com'],
  ['http://-example.com/', 'bad host name -example.com'],
  ['http://example-.com/', 'bad host name example-.com'],
  ['http://example..com/', 'bad host name example..com'],
  ['http://example.com./', 'bad host name example.com.'],
  ['http://exämple.com/', 'bad host name exämple.com'],
  ['http://2001:db8::1/', 'IPv6 addresses need brackets: [address]'],
  ['http://[2001:db8::g]/', 'bad IPv6 address 2001:db8::g'],
  ['http://[1:2:3:4:5:6:7:8:9]/', 'bad IPv6 address 1:2:3:4:5:6:7:8:9'],
  ['http://[1::2::3]/', 'bad IPv6 address 1::2::3'],
  ['http://[fe80::1%25eth0]/', 'bad IPv6 address fe80::1%25eth0'],
  ['http://[::1/', 'missing ] after the IPv6 address'],
  ['http://[::1]x/', 'unexpected x after ]'],
  ['http://example.com?x=1', 'the path must start with /'],
  ['http://example.com#top', 'the path must start with /'],
  ['http://example.com/ä', 'bad character in the path'],
  ['http://example.com/a b', 'contains a space or control character'],
  [' http://example.com/', 'contains a space or control character'],
  ['http://example.com/\n', 'contains a space or control character'],
  ['dns://dns.example/example.com', 'the DNS server must be an IP address'],
  ['dns://192.0.2.53', 'no name to look up'],
  ['dns://192.0.2.53/', 'no name to look up'],
  ['dns://192.0.2.53/?type=A', 'no name to look up'],
  ['dns://192.0.2.53?x', 'the name must follow a /'],
  ['dns://192.0.2.53/exa mple', 'contains a space or control character'],
  ['dns://192.0.2.53/example..com', 'bad name example..com'],
  ['dns://192.0.2.53/example.com/', 'bad name example.com/'],
  ['dns://192.0.2.53/example.com?type=MX', 'unknown type MX (A or AAAA)'],
  ['dns://192.0.2.53/example.com?type=aaaa', 'unknown type aaaa (A or AAAA)'],
  ['dns://192.0.2.53/example.com?class=IN', 'bad query ?class=IN (only ?type=A or ?type=AAAA)'],
  ['dns://192.0.2.53:65536/example.com', 'bad port 65536'],
  ['icmp://', 'no host'],
  ['icmp://example.com:7', 'icmp:// takes no port'],
  ['icmp://example.com/x', 'icmp:// takes only a host'],
  ['icmp://example.com?x', 'icmp:// takes only a host'],
  ['icmp://[::1]:1', 'icmp:// takes no port'],
  ['icmp://256.0.0.1', 'bad IPv4 address 256.0.0.1'],
];

describe('parseTarget', () => {
  it.each(GOOD)('accepts %s', (text, expected) => {
    const parsed = parseTarget(text);
    expect(parsed).toEqual({ ok: true, target: expect.objectContaining({ text, ...expected }) });
  });

  it.each(BAD)('rejects %j: %s', (text, reason) => {
    expect(parseTarget(text)).toEqual({ ok: false, reason });
  });
});

describe('HOST_PATTERN agrees with parseTarget', () => {
  it('on the good and bad lists', () => {
    for (const [text] of GOOD) expect(matches(text), text).toEqual([true, true]);
    for (const [text] of BAD) expect(matches(text), text).toEqual([false, false]);
  });

  it('as the schema validator the SDK generates (ajv, strict) applies it', () => {
    const validate = compileValidator({
      type: 'object',
      properties: {
        rule: {
          type: 'array',
          items: { type: 'object', properties: { hosts: { type: 'array', items: { type: 'string', pattern: HOST_PATTERN } } } },
        },
      },
    }) as (data: unknown) => boolean;
    for (const [text] of GOOD) expect(validate({ rule: [{ '.name': 'r', hosts: [text] }] }), text).toBe(true);
    for (const [text] of BAD) expect(validate({ rule: [{ '.name': 'r', hosts: [text] }] }), text).toBe(false);
  });

  it('on every IPv6 text form Node accepts, and some it does not', async () => {
    const { isIPv6 } = await import('node:net');
    const forms = [
      '::',
      '::1',
      '1::',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6::',
      '1:2:3:4:5:6::8',
      '1::3:4:5:6:7:8',
      '::2:3:4:5:6:7:8',
      '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5::1.2.3.4',
      '::1.2.3.4',
      '64:ff9b::192.0.2.1',
      '1::2:3:4:5:1.2.3.4',
      'ABCD:ef01::',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      ':1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:',
      '12345::',
      '1::2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1.2.3',
      '::256.1.1.1',
      '1:::2',
    ];
    for (const form of forms) {
      const expected = isIPv6(form);
      expect(parseTarget(`http://[${form}]/`).ok, form).toBe(expected);
      expect(matches(`http://[${form}]/`), form).toEqual([expected, expected]);
      expect(ipFamily(form), form).toBe(expected ? 6 : undefined);
    }
  });

  it('on random texts built from the URL alphabet', () => {
    const pieces = [
      'http://',
      'https://',
      'dns://',
      'icmp://',
      'ftp://',
      '[',
      ']',
      ':',
      '::',
      '/',
      '?',
      '#',
      '?type=A',
      '?type=AAAA',
      '.',
      '-',
      '_',
      '@',
      ' ',
      '%',
      'a',
      'ab',
      'z9',
      '0',
      '1',
      '255',
      '256',
      '65535',
      '65536',
      'fe80',
      'ffff',
      '1.2.3.4',
      'example.com',
      'ä',
    ];
    const piece = fc.constantFrom(...pieces);
    const entry = fc.tuple(fc.constantFrom('http://', 'https://', 'dns://', 'icmp://', ''), fc.array(piece, { maxLength: 10 }));
    fc.assert(
      fc.property(entry, ([scheme, parts]) => {
        const text = scheme + parts.join('');
        const ok = parseTarget(text).ok;
        expect(matches(text), text).toEqual([ok, ok]);
      }),
      { numRuns: 20_000 },
    );
  });

  it('on random near-misses of each form', () => {
    const hosts = [
      'example.com',
      'a',
      '1a',
      'a-1.b',
      '1.2.3.4',
      '255.255.255.255',
      '1.2.3.256',
      '1.2.3',
      'a..b',
      '-a',
      'a_b',
      '[::1]',
      '[2001:db8::1]',
      '[::ffff:1.2.3.4]',
      '[1:2:3:4:5:6:7:8]',
      '[1:2]',
      '::1',
      '2001:db8::1',
      '[::1',
      '',
    ];
    const ports = ['', ':1', ':53', ':65535', ':0', ':65536', ':', ':08', ':x'];
    const tails = [
      '',
      '/',
      '/x',
      '/example.com',
      '/_srv.example.com',
      '/a.b?type=AAAA',
      '/a.b?type=A',
      '/a.b?type=MX',
      '?type=A',
      '/a b',
      '/a/',
      '#x',
      '/#x',
    ];
    const entry = fc.tuple(
      fc.constantFrom('http://', 'https://', 'dns://', 'icmp://', 'HTTP://', 'x://'),
      fc.constantFrom(...hosts),
      fc.constantFrom(...ports),
      fc.constantFrom(...tails),
    );
    const kinds = new Set<string>();
    fc.assert(
      fc.property(entry, (parts) => {
        const text = parts.join('');
        const parsed = parseTarget(text);
        if (parsed.ok) kinds.add(parsed.target.kind);
        expect(matches(text), text).toEqual([parsed.ok, parsed.ok]);
      }),
      { numRuns: 10_000 },
    );
    expect([...kinds].sort()).toEqual(['dns', 'http', 'https', 'icmp']);
  });
});
