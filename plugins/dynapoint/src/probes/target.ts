/**
 * What a rule probes: one entry of its `hosts` list, a URL whose scheme says how.
 *
 * - `http://host[:port]/path`, `https://…` — upstream DynaPoint's form: a HEAD request;
 * - `dns://server[:port]/name[?type=AAAA]` — ask `server` (an IP address) for `name`;
 * - `icmp://host` — one ping.
 *
 * Hosts are names, IPv4 addresses or IPv6 addresses in brackets (`icmp://` also takes a
 * bare IPv6 address: it has no port to confuse it with). parseTarget and HOST_PATTERN
 * (the schema's pattern) are built from the same pieces, so they accept the same texts.
 * Label and name lengths are not checked here: a name too long for DNS fails its probe.
 */

export type ProbeKind = 'http' | 'https' | 'dns' | 'icmp';

export interface HttpTarget {
  kind: 'http' | 'https';
  /** The entry as configured (curl and wget get exactly this URL). */
  text: string;
  /** A name or an IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** Starts with `/`; query included, as sent in the request line. */
  path: string;
}

export interface DnsTarget {
  kind: 'dns';
  text: string;
  /** The DNS server's IP address (IPv6 without brackets). */
  server: string;
  port: number;
  /** The name asked for. */
  name: string;
  type: DnsType;
}

export interface IcmpTarget {
  kind: 'icmp';
  text: string;
  /** A name or an IP address (IPv6 without brackets). */
  host: string;
}

export type DnsType = 'A' | 'AAAA';
export type ProbeTarget = HttpTarget | DnsTarget | IcmpTarget;
export type ParsedTarget = { ok: true; target: ProbeTarget } | { ok: false; reason: string };

// The pieces, as regular-expression sources without anchors or lookarounds (JSON Schema
// patterns are ECMA-262, and validators differ beyond the plain subset).
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = `${OCTET}(\\.${OCTET}){3}`;
const HEX = '[0-9A-Fa-f]{1,4}';

/** Every IPv6 text form (RFC 4291 2.2): eight groups, `::` for one or more, an IPv4 tail. */
function ipv6Source(): string {
  const forms = [`(${HEX}:){7}${HEX}`, `(${HEX}:){6}${IPV4}`];
  for (const v4Tail of [false, true]) {
    const groups = v4Tail ? 6 : 8;
    for (let left = 0; left < groups; left++) {
      const head = left === 0 ? '' : left === 1 ? HEX : `(${HEX}:){${left - 1}}${HEX}`;
      const most = groups - 1 - left; // `::` stands for at least one group
      let tail: string;
      if (v4Tail) tail = most === 0 ? IPV4 : `(${HEX}:){0,${most}}${IPV4}`;
      else tail = most === 0 ? '' : most === 1 ? `(${HEX})?` : `(${HEX}(:${HEX}){0,${most - 1}})?`;
      forms.push(`${head}::${tail}`);
    }
  }
  return `(${forms.join('|')})`;
}

const IPV6 = ipv6Source();
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?';
/** A host name: its last label has a letter (RFC 3696 2), so `1.2.3.999` is a bad address, not a name. */
const HOST_NAME = `(${LABEL}\\.)*([0-9][0-9-]*)?[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?`;
/** A name to look up: underscores allowed (`_dns.resolver.arpa`). */
const DNS_LABEL = '[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?';
const DNS_NAME = `${DNS_LABEL}(\\.${DNS_LABEL})*`;
const PORT = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';
/** Printable ASCII without space: what a request line may carry as is. */
const PATH = '/[!-~]*';

const whole = (source: string) => new RegExp(`^(${source})$`);
const IPV4_RE = whole(IPV4);
const IPV6_RE = whole(IPV6);
const HOST_NAME_RE = whole(HOST_NAME);
const DNS_NAME_RE = whole(DNS_NAME);
const PORT_RE = whole(PORT);
const PATH_RE = whole(PATH);

/**
 * The schema pattern of a `hosts` entry: matches exactly what parseTarget accepts.
 * Plain ECMA-262 (groups, classes, counted repeats; no lookarounds, no flags).
 */
export const HOST_PATTERN =
  `^(https?://(${HOST_NAME}|${IPV4}|\\[${IPV6}\\])(:${PORT})?(${PATH})?` +
  `|dns://(${IPV4}|\\[${IPV6}\\])(:${PORT})?/${DNS_NAME}(\\?type=(A|AAAA))?` +
  `|icmp://(${HOST_NAME}|${IPV4}|\\[${IPV6}\\]|${IPV6})/?)$`;

export function isIPv4(text: string): boolean {
  return IPV4_RE.test(text);
}

export function isIPv6(text: string): boolean {
  return IPV6_RE.test(text);
}

/** 4 or 6 for an IP address (IPv6 without brackets; a `%zone` suffix allowed), else undefined. */
export function ipFamily(text: string): 4 | 6 | undefined {
  if (isIPv4(text)) return 4;
  const zone = text.indexOf('%');
  return isIPv6(zone > 0 ? text.slice(0, zone) : text) ? 6 : undefined;
}

const SCHEMES: readonly string[] = ['http', 'https', 'dns', 'icmp'];

const fail = (reason: string): ParsedTarget => ({ ok: false, reason });

interface Authority {
  host: string;
  bracketed: boolean;
  port?: number;
}

/** `host[:port]` or `[v6][:port]`: the host checked for its form, the port for its range. */
function parseAuthority(text: string): Authority | string {
  if (text === '') return 'no host';
  if (text.includes('@')) return 'user names are not supported';
  let host: string;
  let portText: string | undefined;
  let bracketed = false;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return 'missing ] after the IPv6 address';
    host = text.slice(1, end);
    bracketed = true;
    const after = text.slice(end + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return `unexpected ${after} after ]`;
      portText = after.slice(1);
    }
    if (!isIPv6(host)) return `bad IPv6 address ${host}`;
  } else {
    const colon = text.indexOf(':');
    if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) return 'IPv6 addresses need brackets: [address]';
    host = colon >= 0 ? text.slice(0, colon) : text;
    if (colon >= 0) portText = text.slice(colon + 1);
    if (host === '') return 'no host';
    if (/^[0-9.]+$/.test(host)) {
      if (!isIPv4(host)) return `bad IPv4 address ${host}`;
    } else if (!HOST_NAME_RE.test(host)) {
      return `bad host name ${host}`;
    }
  }
  if (portText === undefined) return { host, bracketed };
  if (!PORT_RE.test(portText)) return portText === '' ? 'empty port' : `bad port ${portText}`;
  return { host, bracketed, port: Number(portText) };
}

/** A `hosts` entry → what to probe, or a short reason for the user (reported with the UCI path). */
export function parseTarget(text: string): ParsedTarget {
  if (typeof text !== 'string' || text === '') return fail('empty');
  if (/[\s\u0000-\u001f\u007f]/.test(text)) return fail('contains a space or control character');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(text);
  if (!m) return fail('not a URL');
  const scheme = m[1] as string;
  const rest = m[2] as string;
  if (!SCHEMES.includes(scheme)) return fail(`unknown scheme ${scheme}`);

  if (scheme === 'icmp') {
    // a bare IPv6 address: every colon belongs to it
    const bare = rest.endsWith('/') ? rest.slice(0, -1) : rest;
    if (isIPv6(bare)) return { ok: true, target: { kind: 'icmp', text, host: bare } };
  }

  const end = rest.search(/[/?#]/);
  const authority = parseAuthority(end < 0 ? rest : rest.slice(0, end));
  if (typeof authority === 'string') return fail(authority);
  const tail = end < 0 ? '' : rest.slice(end);
  const { host, port } = authority;

  switch (scheme) {
    case 'http':
    case 'https': {
      if (tail !== '' && !tail.startsWith('/')) return fail('the path must start with /');
      if (tail !== '' && !PATH_RE.test(tail)) return fail('bad character in the path');
      const target: HttpTarget = {
        kind: scheme,
        text,
        host,
        port: port ?? (scheme === 'https' ? 443 : 80),
        path: tail === '' ? '/' : tail,
      };
      return { ok: true, target };
    }
    case 'dns': {
      if (!authority.bracketed && !isIPv4(host)) return fail('the DNS server must be an IP address');
      if (tail === '' || tail === '/') return fail('no name to look up');
      if (!tail.startsWith('/')) return fail('the name must follow a /');
      const query = tail.indexOf('?');
      const name = tail.slice(1, query < 0 ? undefined : query);
      if (name === '') return fail('no name to look up');
      if (!DNS_NAME_RE.test(name)) return fail(`bad name ${name}`);
      let type: DnsType = 'A';
      if (query >= 0) {
        const q = tail.slice(query + 1);
        const t = /^type=(.*)$/.exec(q);
        if (!t) return fail(`bad query ?${q} (only ?type=A or ?type=AAAA)`);
        if (t[1] !== 'A' && t[1] !== 'AAAA') return fail(`unknown type ${t[1] as string} (A or AAAA)`);
        type = t[1];
      }
      return { ok: true, target: { kind: 'dns', text, server: host, port: port ?? 53, name, type } };
    }
    default: {
      if (port !== undefined) return fail('icmp:// takes no port');
      if (tail !== '' && tail !== '/') return fail('icmp:// takes only a host');
      return { ok: true, target: { kind: 'icmp', text, host } };
    }
  }
}
