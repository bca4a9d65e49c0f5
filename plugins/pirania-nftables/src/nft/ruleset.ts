/**
 * The nftables gate as text: pure functions that turn the portal's config and the current
 * authorizations into `nft -f` scripts. Nothing here runs a program; src/nft/gate.ts
 * applies the scripts. Every value that reaches the text is validated first (and
 * normalized: lower-case MACs, masked prefixes), so no config value or MAC can smuggle nft
 * syntax into a script.
 *
 * Names are the ones of Pirania's nftables port, which deployments and scripts use:
 * `table inet pirania` with the sets `pirania-catch-ifaces`, `pirania-auth-macs`,
 * `pirania-unrestricted-macs`, `pirania-allowlist-ipv4`, `pirania-allowlist-ipv6`, the
 * regular chains `pirania_prerouting` / `pirania_forward`, and `table bridge pirania` whose
 * set `pirania-catch-bridge-ifaces` lists bridge ports whose packets get the mark
 * 0x9124714.
 *
 * Differences from Pirania's own scripts:
 * - a full apply is ONE transaction that creates, deletes and re-creates both tables
 *   (`table X` + `delete table X` + `table X { … }`): the kernel never sees a half-built
 *   gate, a re-apply replaces everything, and a missing table is never an error;
 * - the MAC sets have `flags timeout` and each element carries the voucher's remaining
 *   time, so the kernel ends access at expiry even when the host is not running.
 */
import { ErrorCodes, WrtkitError } from '@wrtkit/sdk';
import type { Config } from '../generated/config.js';
import type { Authorization } from '../vouchers/voucher.js';

export const TABLE = 'pirania';
/** Set by the bridge table on packets from caught bridge ports; matched in `inet pirania`. */
export const MARK = '0x9124714';
export const SET_CATCH_IFACES = 'pirania-catch-ifaces';
export const SET_CATCH_BRIDGE_IFACES = 'pirania-catch-bridge-ifaces';
export const SET_AUTH_MACS = 'pirania-auth-macs';
export const SET_UNRESTRICTED_MACS = 'pirania-unrestricted-macs';
export const SET_ALLOWLIST_IPV4 = 'pirania-allowlist-ipv4';
export const SET_ALLOWLIST_IPV6 = 'pirania-allowlist-ipv6';

/**
 * Longest timeout written into a set element (10 years). Timeouts are relative, so a
 * far-future or mistaken `expiresAt` (milliseconds given as seconds) must not produce a
 * value some nft or kernel rejects, which would fail the whole transaction. Reconcile
 * writes a fresh timeout anyway long before this runs out.
 */
export const MAX_TIMEOUT_MS = 3650 * 86_400_000;

/** What the gate needs from `config base_config` (see gateConfigFrom). */
export interface GateConfig {
  /** L3 interfaces whose clients are gated (`option catch_interfaces`), e.g. br-lan. */
  catchInterfaces: readonly string[];
  /** Bridge ports whose clients are gated (`option catch_bridged_interfaces`), e.g. wlan0-ap. */
  catchBridgedInterfaces: readonly string[];
  /** IPv4 destinations anyone may reach, as `a.b.c.d` or `a.b.c.d/len`. */
  allowlistIpv4: readonly string[];
  /** IPv6 destinations anyone may reach, as `addr` or `addr/len`. */
  allowlistIpv6: readonly string[];
  /** TCP port of the portal page on the router: unauthorized HTTP goes here. */
  portalPort: number;
  /** UDP/TCP port of the portal resolver on the router: unauthorized DNS goes here. */
  dnsPort: number;
}

export interface RulesetOptions {
  /**
   * Include `table bridge pirania` (default true). False only where the kernel has no
   * nftables bridge family and no bridge port is to be caught: the gate decides.
   */
  bridge?: boolean;
}

/** MAC → `expiresAt` (Unix seconds), undefined for permanent; what a MAC set holds. */
export type MacExpiries = Map<string, number | undefined>;

/** The contents of both MAC sets. */
export interface MacSets {
  auth: MacExpiries;
  unrestricted: MacExpiries;
}

/** The gate config from the plugin's `base_config` section. */
export function gateConfigFrom(base: Config['base_config']): GateConfig {
  return {
    catchInterfaces: base.catch_interfaces,
    catchBridgedInterfaces: base.catch_bridged_interfaces,
    allowlistIpv4: base.allowlist_ipv4,
    allowlistIpv6: base.allowlist_ipv6,
    portalPort: base.portal_port,
    dnsPort: base.dns_port,
  };
}

// ---------------------------------------------------------------------------------------
// validation and normalization

function configError(option: string, message: string): WrtkitError {
  return new WrtkitError(ErrorCodes.CONFIG_INVALID, `pirania.base_config.${option}: ${message}`, {
    uciPath: `pirania.base_config.${option}`,
  });
}

const IFNAME = /^[A-Za-z0-9_.@-]{1,15}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function ifnames(list: readonly string[], option: string): string[] {
  if (!Array.isArray(list)) throw configError(option, 'must be a list of interface names');
  const out: string[] = [];
  for (const name of list) {
    if (typeof name !== 'string' || !IFNAME.test(name)) {
      throw configError(option, `'${String(name)}' is not an interface name (1–15 of A-Z a-z 0-9 _ . @ -)`);
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function port(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw configError(option, `${String(value)} is not a port (1–65535)`);
  return value;
}

/** A lower-case `aa:bb:cc:dd:ee:ff`, or a coded error naming the voucher. */
export function normalizeMac(mac: string, voucherId?: string): string {
  const m = typeof mac === 'string' ? mac.toLowerCase() : '';
  if (!MAC.test(m)) {
    throw new WrtkitError(
      ErrorCodes.INVALID_ARGUMENT,
      `'${String(mac)}' is not a MAC address like aa:bb:cc:dd:ee:ff${voucherId !== undefined ? ` (voucher ${voucherId})` : ''}`,
      { details: { mac, voucherId } },
    );
  }
  return m;
}

interface Prefix {
  /** 32-bit words for IPv4 (one), 16-bit words for IPv6 (eight). */
  words: number[];
  length: number;
  text: string;
}

function ipv4Words(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const bytes = m.slice(1, 5).map(Number);
  if (bytes.some((b) => b > 255)) return undefined;
  return bytes;
}

function ipv6Words(text: string): number[] | undefined {
  let s = text.toLowerCase();
  // a trailing dotted IPv4 (::ffff:192.0.2.1) becomes two hex groups
  const dot = s.lastIndexOf(':');
  if (s.slice(dot + 1).includes('.')) {
    const v4 = ipv4Words(s.slice(dot + 1));
    if (!v4) return undefined;
    const [a, b, c, d] = v4 as [number, number, number, number];
    s = `${s.slice(0, dot + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if ([...head, ...tail].some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const zeros = new Array<string>(8 - head.length - tail.length).fill('0');
  return [...head, ...zeros, ...tail].map((g) => parseInt(g, 16));
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of 2+ zero groups as `::`. */
function ipv6Text(words: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

function maskWords(words: number[], length: number, bits: number): number[] {
  return words.map((w, i) => {
    const keep = Math.max(0, Math.min(bits, length - i * bits));
    return keep === 0 ? 0 : (w >>> (bits - keep)) << (bits - keep);
  });
}

function parsePrefix(text: string, family: 4 | 6, option: string): Prefix {
  const example = family === 4 ? '10.0.0.0/8' : 'fc00::/7';
  const bad = () => configError(option, `'${String(text)}' is not an IPv${family} address or prefix like ${example}`);
  if (typeof text !== 'string') throw bad();
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) throw bad();
  const max = family === 4 ? 32 : 128;
  const length = m[2] === undefined ? max : Number(m[2]);
  if (length > max) throw bad();
  const parsed = family === 4 ? ipv4Words(m[1] as string) : ipv6Words(m[1] as string);
  if (!parsed) throw bad();
  // host bits are cleared (192.168.1.1/24 means 192.168.1.0/24), as nft itself would
  const words = maskWords(parsed, length, family === 4 ? 8 : 16);
  const address = family === 4 ? words.join('.') : ipv6Text(words);
  return { words, length, text: `${address}/${length}` };
}

function contains(outer: Prefix, inner: Prefix, bits: number): boolean {
  if (outer.length > inner.length) return false;
  const masked = maskWords(inner.words, outer.length, bits);
  return masked.every((w, i) => w === outer.words[i]);
}

/**
 * Normalized allow-list prefixes. A prefix inside another one is dropped: an interval set
 * rejects overlapping elements ("conflicting intervals"), and the outer one covers it.
 */
function allowlist(list: readonly string[], family: 4 | 6, option: string): string[] {
  if (!Array.isArray(list)) throw configError(option, 'must be a list of prefixes');
  const bits = family === 4 ? 8 : 16;
  const prefixes = list.map((text) => parsePrefix(text, family, option));
  return prefixes
    .filter((p, i) => !prefixes.some((q, j) => j !== i && contains(q, p, bits) && (q.length < p.length || j < i)))
    .map((p) => p.text);
}

interface CheckedConfig {
  catchInterfaces: string[];
  catchBridgedInterfaces: string[];
  allowlistIpv4: string[];
  allowlistIpv6: string[];
  portalPort: number;
  dnsPort: number;
}

/** Validates and normalizes a GateConfig; throws WRTKIT_ERR_CONFIG_INVALID naming the option. */
export function checkGateConfig(config: GateConfig): CheckedConfig {
  return {
    catchInterfaces: ifnames(config.catchInterfaces, 'catch_interfaces'),
    catchBridgedInterfaces: ifnames(config.catchBridgedInterfaces, 'catch_bridged_interfaces'),
    allowlistIpv4: allowlist(config.allowlistIpv4, 4, 'allowlist_ipv4'),
    allowlistIpv6: allowlist(config.allowlistIpv6, 6, 'allowlist_ipv6'),
    portalPort: port(config.portalPort, 'portal_port'),
    dnsPort: port(config.dnsPort, 'dns_port'),
  };
}

// ---------------------------------------------------------------------------------------
// authorizations → set elements

/** Whether an expiry (Unix seconds, undefined = permanent) is still ahead of `nowMs`. */
export function isActive(expiresAt: number | undefined, nowMs: number): boolean {
  return expiresAt === undefined || expiresAt * 1000 > nowMs;
}

/** True when `a` lasts at least as long as `b`. */
function covers(a: number | undefined, b: number | undefined): boolean {
  return a === undefined || (b !== undefined && a >= b);
}

function later(a: number | undefined, b: number | undefined): number | undefined {
  return covers(a, b) ? a : b;
}

/**
 * The MAC sets the authorizations call for at `nowMs`: expired ones are left out; a MAC
 * authorized twice keeps the longer one; unrestricted MACs are in both sets (they are
 * authorized, and exempt from whatever restricts authorized clients).
 */
export function macSets(authorizations: readonly Authorization[], nowMs: number): MacSets {
  const sets: MacSets = { auth: new Map(), unrestricted: new Map() };
  for (const a of authorizations) {
    const mac = normalizeMac(a.mac, a.voucherId);
    const expiresAt = a.expiresAt;
    if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) {
      throw new WrtkitError(
        ErrorCodes.INVALID_ARGUMENT,
        `voucher ${a.voucherId}: expiresAt ${String(expiresAt)} is not a Unix time`,
        {
          details: { mac, voucherId: a.voucherId },
        },
      );
    }
    if (!isActive(expiresAt, nowMs)) continue;
    const targets = a.unrestricted ? [sets.auth, sets.unrestricted] : [sets.auth];
    for (const set of targets) set.set(mac, set.has(mac) ? later(set.get(mac), expiresAt) : expiresAt);
  }
  return sets;
}

/** Milliseconds as an nft duration: `1d2h3m4s500ms` (components small enough for any nft). */
export function nftDuration(ms: number): string {
  let rest = Math.max(1, Math.ceil(ms));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}

/** One set element: the MAC, with the remaining time when it is not permanent. */
function element(mac: string, expiresAt: number | undefined, nowMs: number): string {
  if (expiresAt === undefined) return mac;
  return `${mac} timeout ${nftDuration(Math.min(expiresAt * 1000 - nowMs, MAX_TIMEOUT_MS))}`;
}

function elements(set: MacExpiries, nowMs: number): string[] {
  return [...set].map(([mac, expiresAt]) => element(mac, expiresAt, nowMs));
}

// ---------------------------------------------------------------------------------------
// scripts

const HEADER = '# pirania-nftables gate: one nft transaction (nft -f -)';

/** `elements = { … }` inside a set block; long lists one element per line. */
function elementsBlock(items: string[], indent: string): string[] {
  if (items.length === 0) return [];
  if (items.length <= 4 && items.join(', ').length <= 60) return [`${indent}elements = { ${items.join(', ')} }`];
  return [`${indent}elements = {`, ...items.map((e, i) => `${indent}\t${e}${i < items.length - 1 ? ',' : ''}`), `${indent}}`];
}

function setBlock(name: string, type: string, flags: string | undefined, items: string[]): string[] {
  return [
    `\tset ${name} {`,
    `\t\ttype ${type}`,
    ...(flags ? [`\t\tflags ${flags}`] : []),
    ...elementsBlock(items, '\t\t'),
    '\t}',
  ];
}

const quoted = (names: string[]) => names.map((n) => `"${n}"`);

/**
 * Both tables, from scratch, in one transaction: what boot, a config change and a repair
 * apply. Authorizations expired at `nowMs` are left out; the others get their remaining
 * time as the element timeout.
 *
 * Why the chains look the way they do:
 * - Base chains only catch traffic: packets marked by the bridge table, or arriving on a
 *   catch interface. The mark is tested first (a register compare, cheaper than a set
 *   lookup) and the interface rule skips marked packets, so nothing is evaluated twice.
 *   With both sets empty nothing is caught: an unconfigured gate is open.
 * - `pirania_prerouting` (nat, priority dstnat): authorized and unrestricted MACs leave
 *   untouched. DNS (udp and tcp 53) of everyone else goes to the portal resolver on the
 *   router whatever its destination (before the allow-lists: the router's own resolver
 *   is usually allow-listed, and the portal resolver is what answers the portal's name
 *   and forwards the rest); allow-listed destinations pass; HTTP to anything else is
 *   redirected to the portal page, and so is HTTP to the router itself: the resolver
 *   gives the router as every name's address (the OS's captive-portal probe lands
 *   there), and the router's addresses are usually allow-listed. nat only sees a
 *   connection's first packet: later packets follow conntrack.
 * - `pirania_forward` (filter, priority filter): pass = `return`, so the base chain can
 *   clear the bridge mark afterwards (nothing after this gate, e.g. policy routing on
 *   marks, ever sees Pirania's mark); `return` to a base chain with policy accept lets the
 *   packet on to the other tables (fw4 still filters). Allow-listed destinations and
 *   DHCP/DHCPv6 (a relay on the other side) pass; HTTPS is answered with a TCP reset so
 *   browsers fail at once instead of waiting for a timeout; the rest is dropped.
 * - `pirania_input` (filter, priority filter): traffic to the router itself is not
 *   gated (DHCP, DNS, the portal, ICMPv6 neighbour discovery and router solicitation
 *   must work for a client to get anywhere), except HTTPS: the portal's name resolves to
 *   the router, so an unauthorized browser trying https:// gets a reset instead of a
 *   certificate warning. This holds even though the router's addresses are usually
 *   inside the allow-lists (which are about forwarded destinations).
 * - `table bridge pirania`, prerouting at priority dstnat (-300): marks packets entering
 *   through a caught bridge port before the bridge hands them to IP, where `inet
 *   pirania` only sees the bridge device (br-lan) as the input interface.
 */
export function fullRuleset(
  config: GateConfig,
  authorizations: readonly Authorization[],
  nowMs: number,
  options: RulesetOptions = {},
): string {
  const c = checkGateConfig(config);
  const sets = macSets(authorizations, nowMs);
  const catchRules = (chain: string) => [
    `\t\tmeta mark ${MARK} jump ${chain}`,
    `\t\tmeta mark != ${MARK} iifname @${SET_CATCH_IFACES} jump ${chain}`,
  ];
  const passAuthorized = [`\t\tether saddr @${SET_AUTH_MACS} return`, `\t\tether saddr @${SET_UNRESTRICTED_MACS} return`];
  const passAllowlisted = [`\t\tip daddr @${SET_ALLOWLIST_IPV4} return`, `\t\tip6 daddr @${SET_ALLOWLIST_IPV6} return`];
  const lines = [
    HEADER,
    `table inet ${TABLE}`,
    `delete table inet ${TABLE}`,
    `table inet ${TABLE} {`,
    ...setBlock(SET_CATCH_IFACES, 'ifname', undefined, quoted(c.catchInterfaces)),
    ...setBlock(SET_ALLOWLIST_IPV4, 'ipv4_addr', 'interval', c.allowlistIpv4),
    ...setBlock(SET_ALLOWLIST_IPV6, 'ipv6_addr', 'interval', c.allowlistIpv6),
    ...setBlock(SET_AUTH_MACS, 'ether_addr', 'timeout', elements(sets.auth, nowMs)),
    ...setBlock(SET_UNRESTRICTED_MACS, 'ether_addr', 'timeout', elements(sets.unrestricted, nowMs)),
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    ...catchRules('pirania_prerouting'),
    '\t}',
    '\tchain pirania_prerouting {',
    ...passAuthorized,
    `\t\tmeta l4proto { tcp, udp } th dport 53 redirect to :${c.dnsPort}`,
    `\t\tfib daddr type local tcp dport 80 redirect to :${c.portalPort}`,
    ...passAllowlisted,
    `\t\ttcp dport 80 redirect to :${c.portalPort}`,
    '\t}',
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy accept;',
    ...catchRules('pirania_input'),
    `\t\tmeta mark ${MARK} meta mark set 0`,
    '\t}',
    '\tchain pirania_input {',
    ...passAuthorized,
    '\t\ttcp dport 443 reject with tcp reset',
    '\t}',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    ...catchRules('pirania_forward'),
    `\t\tmeta mark ${MARK} meta mark set 0`,
    '\t}',
    '\tchain pirania_forward {',
    ...passAuthorized,
    ...passAllowlisted,
    '\t\tudp dport { 67, 68, 546, 547 } return',
    '\t\ttcp dport 443 reject with tcp reset',
    '\t\tdrop',
    '\t}',
    '}',
  ];
  if (options.bridge !== false) {
    lines.push(
      `table bridge ${TABLE}`,
      `delete table bridge ${TABLE}`,
      `table bridge ${TABLE} {`,
      ...setBlock(SET_CATCH_BRIDGE_IFACES, 'ifname', undefined, quoted(c.catchBridgedInterfaces)),
      '\tchain prerouting {',
      '\t\ttype filter hook prerouting priority dstnat; policy accept;',
      `\t\tiifname @${SET_CATCH_BRIDGE_IFACES} meta mark set ${MARK}`,
      '\t}',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

function addLine(set: string, items: string[]): string[] {
  return items.length === 0 ? [] : [`add element inet ${TABLE} ${set} { ${items.join(', ')} }`];
}

/**
 * Adds authorizations to the MAC sets (the fast path: a client just entered a code).
 * Expired ones are left out. With `current` (what the sets hold, as far as the caller
 * knows), MACs already there for at least as long are skipped, and MACs there with a
 * shorter time are replaced: `add` (so the element surely exists), `delete`, `add` with
 * the new timeout, because a plain `add` of an existing element leaves its timeout alone
 * on older kernels, and nft 1.0.6 has no `destroy element`. Returns '' when there is
 * nothing to do.
 */
export function authorizeScript(authorizations: readonly Authorization[], nowMs: number, current?: MacSets): string {
  const wanted = macSets(authorizations, nowMs);
  const lines: string[] = [];
  for (const [set, want, have] of [
    [SET_AUTH_MACS, wanted.auth, current?.auth],
    [SET_UNRESTRICTED_MACS, wanted.unrestricted, current?.unrestricted],
  ] as const) {
    const fresh: string[] = [];
    for (const [mac, expiresAt] of want) {
      if (have?.has(mac)) {
        const had = have.get(mac);
        if (isActive(had, nowMs) && covers(had, expiresAt)) continue;
        lines.push(...addLine(set, [mac]), `delete element inet ${TABLE} ${set} { ${mac} }`);
        lines.push(...addLine(set, [element(mac, expiresAt, nowMs)]));
      } else {
        fresh.push(element(mac, expiresAt, nowMs));
      }
    }
    lines.push(...addLine(set, fresh));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * Replaces the contents of both MAC sets with these authorizations (a client was
 * deauthorized, a voucher invalidated): flush and re-add in one transaction, which never
 * fails on a MAC that is not there.
 */
export function refillScript(authorizations: readonly Authorization[], nowMs: number): string {
  const sets = macSets(authorizations, nowMs);
  return [
    `flush set inet ${TABLE} ${SET_AUTH_MACS}`,
    `flush set inet ${TABLE} ${SET_UNRESTRICTED_MACS}`,
    ...addLine(SET_AUTH_MACS, elements(sets.auth, nowMs)),
    ...addLine(SET_UNRESTRICTED_MACS, elements(sets.unrestricted, nowMs)),
    '',
  ].join('\n');
}

/** Deletes both tables (the portal is off); a table that is not there is not an error. */
export function removeScript(options: RulesetOptions = {}): string {
  const lines = [`table inet ${TABLE}`, `delete table inet ${TABLE}`];
  if (options.bridge !== false) lines.push(`table bridge ${TABLE}`, `delete table bridge ${TABLE}`);
  return `${lines.join('\n')}\n`;
}

/**
 * A throw-away bridge table with a base chain, for `nft -c` (check only): fails where the
 * kernel has no nftables bridge family (OpenWrt without kmod-nft-bridge).
 */
export function bridgeProbeScript(): string {
  return [
    `table bridge ${TABLE}-probe {`,
    '\tchain prerouting {',
    '\t\ttype filter hook prerouting priority dstnat; policy accept;',
    `\t\tmeta mark set ${MARK}`,
    '\t}',
    '}',
    '',
  ].join('\n');
}
