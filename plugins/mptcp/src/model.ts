/**
 * What /etc/config/mptcp asks for, worked out without touching the system: the paths with
 * their routing table, rule priority and MPTCP endpoint id (fixed by their place in the
 * file, so a re-apply finds what the last one made), the checks the schema cannot make,
 * the nftables table that sends the LAN's TCP to ss-redir, and the proxy's config file.
 */
import { ErrorCodes, WrtkitError } from '@wrtkit/sdk';
import type { Config } from './generated/config.js';

export type Settings = Config['mptcp'];
export type PathConfig = Config['path'][number];

/** Routes and rules this plugin makes carry this protocol number, so they can be found (and removed) after a crash. */
export const ROUTE_PROTO = 91;
/** The nftables table of the LAN redirect (family ip). */
export const NFT_TABLE = 'wrtkit_mptcp';
/** At most this many paths: the kernel takes at most 8 subflows per connection. */
export const MAX_PATHS = 8;

export interface PlannedPath {
  /** The UCI section name (`config path 'wan2'`). */
  name: string;
  /** The UCI path of its interface option, for error messages. */
  uciPath: string;
  interface: string;
  mode: 'on' | 'backup';
  gateway?: string;
  /** 1-based, by position among the used paths: endpoint id, table and rule offset. */
  id: number;
  table: number;
  priority: number;
}

export interface Plan {
  role: 'client' | 'server';
  paths: PlannedPath[];
  /** Main-table routes kept on the first live path (the peer first, on the client). */
  routes: string[];
}

function invalid(path: string, message: string): WrtkitError {
  return new WrtkitError(ErrorCodes.CONFIG_INVALID, `mptcp.${path}: ${message}`, { uciPath: `mptcp.${path}` });
}

/** The paths and routes for an enabled config; throws CONFIG_INVALID naming the UCI path for what the schema cannot say. */
export function plan(config: Config): Plan {
  const s = config.mptcp;
  const main = s['.name'] ?? 'main';
  if (s.secret === undefined) throw invalid(`${main}.secret`, 'required when enabled (the same key on both routers)');
  if (s.role === 'client' && s.peer === undefined)
    throw invalid(`${main}.peer`, "required for role 'client' (the server router's address)");
  const used = config.path.filter((p) => p.mode !== 'off');
  if (s.role === 'client' && !used.some((p) => p.mode === 'on'))
    throw invalid('path', "a client needs at least one path with mode 'on'");
  if (used.length > MAX_PATHS) throw invalid('path', `at most ${MAX_PATHS} paths are used (the kernel's subflow limit)`);
  const seen = new Map<string, string>();
  for (const p of used) {
    const other = seen.get(p.interface);
    if (other !== undefined) throw invalid(`${p['.name']}.interface`, `'${p.interface}' is already path '${other}'`);
    seen.set(p.interface, p['.name']);
  }
  if (s.role === 'client' && s.table_base + used.length > 252)
    throw invalid(`${main}.table_base`, 'the paths’ tables must stay below 253 (default, main, local)');
  const paths = used.map((p, i): PlannedPath => ({
    name: p['.name'],
    uciPath: `mptcp.${p['.name']}.interface`,
    interface: p.interface,
    mode: p.mode === 'backup' ? 'backup' : 'on',
    ...(p.gateway !== undefined ? { gateway: p.gateway } : {}),
    id: i + 1,
    table: s.table_base + i + 1,
    priority: s.rule_priority + i + 1,
  }));
  const routes = s.role === 'client' && s.peer !== undefined ? [`${s.peer}/32`, ...s.route] : [...s.route];
  return { role: s.role, paths, routes: [...new Set(routes.map(normalizePrefix))] };
}

/** `10.2.0.0/24` stays, `10.2.0.7` becomes `10.2.0.7/32`. */
export function normalizePrefix(prefix: string): string {
  return prefix.includes('/') ? prefix : `${prefix}/32`;
}

/** Destinations a LAN client's TCP never reaches the proxy for, besides `bypass`. */
export const ALWAYS_BYPASS = ['0.0.0.0/8', '127.0.0.0/8', '224.0.0.0/3'];

function nftString(value: string): string {
  // interface names are checked by the schema's pattern; quote them for nft anyway
  return `"${value.replace(/["\\]/g, '')}"`;
}

/**
 * The client's nftables table, loaded with one `nft -f` (atomic): the LAN's TCP to an
 * aggregated destination goes to ss-redir, which reads the original destination
 * (SO_ORIGINAL_DST), so `redirect` is enough — TPROXY is only needed for UDP. The table
 * is replaced whole on every apply: declare, delete, define.
 */
export function nftRuleset(s: Settings): string {
  const bypass = [...ALWAYS_BYPASS, ...(s.peer !== undefined ? [normalizePrefix(s.peer)] : []), ...s.bypass.map(normalizePrefix)];
  const aggregate = s.aggregate.map(normalizePrefix);
  return [
    `table ip ${NFT_TABLE} {}`,
    `delete table ip ${NFT_TABLE}`,
    `table ip ${NFT_TABLE} {`,
    `\tset aggregate { type ipv4_addr; flags interval; auto-merge; elements = { ${aggregate.join(', ')} } }`,
    `\tset bypass { type ipv4_addr; flags interval; auto-merge; elements = { ${bypass.join(', ')} } }`,
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority dstnat - 10; policy accept;',
    `\t\tiifname { ${s.lan.map(nftString).join(', ')} } meta l4proto tcp ip daddr @aggregate ip daddr != @bypass fib daddr type != local counter redirect to :${s.redir_port}`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** The ss-redir (client) or ss-server (server) config file; the secret stays out of argv (ps). */
export function proxyConfig(s: Settings): Record<string, unknown> {
  const common = { password: s.secret, method: s.cipher, mode: 'tcp_only', timeout: 600 };
  return s.role === 'client'
    ? { server: s.peer, server_port: s.port, local_address: '0.0.0.0', local_port: s.redir_port, ...common }
    : { server: s.listen, server_port: s.port, ...common };
}

export function proxyProgram(s: Settings): 'ss-redir' | 'ss-server' {
  return s.role === 'client' ? 'ss-redir' : 'ss-server';
}

/** The proxy's argv: its config file, and --mptcp (Debian's and OpenWrt's 3.3.5 take it on the command line only). */
export function proxyArgv(s: Settings, configFile: string): string[] {
  return [proxyProgram(s), '-c', configFile, '--mptcp'];
}
