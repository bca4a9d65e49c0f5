/**
 * The portal resolver's dnsmasq configuration. As in Pirania, unauthorized devices' DNS
 * is redirected by nftables to a dnsmasq of our own that answers EVERY name (the portal
 * domain included) with the router's address: the device's browser, whatever site it
 * asks for, then talks to the router, whose HTTP redirect leads to the portal.
 * Authorized devices never reach it (nft only redirects unauthorized DNS).
 *
 * It must live beside the system dnsmasq (port 53, DHCP) without touching it:
 * - its own port (`dns_port`, 59053) and `bind-dynamic`: it binds that port on each
 *   address rather than a wildcard socket, and follows addresses as they come and go;
 * - no DHCP, no TFTP (no `dhcp-range`: it never opens ports 67/547 nor a lease file);
 * - `--conf-file` alone: the system's /etc/dnsmasq.conf and conf-dir are not read; no
 *   ubus object (`enable-ubus` absent), so the system dnsmasq keeps its ubus name;
 * - its own pid file (or none): the system's /var/run/dnsmasq/*.pid stays the system's;
 * - no upstream (`no-resolv`, no `server=`), no /etc/hosts, no cache: local answers only,
 *   with TTL 0 so devices do not keep the fake answers once they are authorized.
 */
import { ErrorCodes, WrtkitError } from '@wrtkit/sdk';

export interface DnsmasqOptions {
  /** UDP/TCP port to answer on (dns_port). */
  port: number;
  /** The portal's name (portal_domain, thisnode.info). */
  portalDomain: string;
  /** The router's IPv4 address devices reach (A answers); none: no A answers. */
  ipv4?: string;
  /** The router's IPv6 address devices reach (AAAA answers); none: no AAAA answers. */
  ipv6?: string;
  /** Where dnsmasq writes its pid; default: no pid file. */
  pidFile?: string;
  /** Answer only on these interfaces (and lo); default every interface. */
  interfaces?: readonly string[];
  /** The user dnsmasq drops to (default dnsmasq's own: `dnsmasq` on OpenWrt). */
  user?: string;
}

const DOMAIN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/;
const IFNAME = /^[A-Za-z0-9_.@-]{1,15}$/;

export function isIPv4Literal(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

export function isIPv6Literal(value: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(value) || !value.includes(':') || value.length > 45) return false;
  const doubles = value.split('::').length - 1;
  if (doubles > 1) return false;
  const groups = value.split(':').filter((g) => g !== '');
  const last = groups[groups.length - 1];
  const v4Tail = last !== undefined && last.includes('.');
  if (v4Tail && !isIPv4Literal(last)) return false;
  const hex = v4Tail ? groups.slice(0, -1) : groups;
  if (!hex.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  const count = hex.length + (v4Tail ? 2 : 0);
  return doubles === 1 ? count < 8 : count === 8;
}

function invalid(message: string, details: Record<string, unknown>): WrtkitError {
  return new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `portal resolver: ${message}`, { details });
}

function checkPath(path: string, what: string): void {
  if (!path.startsWith('/') || /[\s\u0000-\u001f]/.test(path))
    throw invalid(`${what} must be an absolute path without spaces`, { path });
}

/** The conf text for `dnsmasq --conf-file`; throws WRTKIT_ERR_INVALID_ARGUMENT for values it cannot write safely. */
export function dnsmasqConfig(options: DnsmasqOptions): string {
  const { port, portalDomain, ipv4, ipv6, pidFile, interfaces = [], user } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`bad port ${port}`, { port });
  if (!DOMAIN.test(portalDomain) || portalDomain.length > 253)
    throw invalid(`bad portal domain ${portalDomain}`, { portalDomain });
  if (ipv4 !== undefined && !isIPv4Literal(ipv4)) throw invalid(`bad IPv4 address ${ipv4}`, { ipv4 });
  if (ipv6 !== undefined && !isIPv6Literal(ipv6)) throw invalid(`bad IPv6 address ${ipv6}`, { ipv6 });
  if (pidFile !== undefined) checkPath(pidFile, 'pid file');
  for (const ifname of interfaces) if (!IFNAME.test(ifname)) throw invalid(`bad interface name ${ifname}`, { ifname });
  if (user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw invalid(`bad user ${user}`, { user });
  const domain = portalDomain.replace(/\.$/, '').toLowerCase();
  const addresses = [ipv4, ipv6].filter((a): a is string => a !== undefined);
  const lines = [
    '# pirania-nftables: the portal resolver (generated; changes are overwritten).',
    '# Every name is answered with this router, for devices without a voucher.',
    `port=${port}`,
    'bind-dynamic',
    ...interfaces.map((i) => `interface=${i}`),
    'no-resolv',
    'no-poll',
    'no-hosts',
    'cache-size=0',
    'local-ttl=0',
    'log-facility=-',
    `pid-file=${pidFile ?? ''}`,
    ...(user !== undefined ? [`user=${user}`] : []),
    ...addresses.map((a) => `address=/${domain}/${a}`),
    ...addresses.map((a) => `address=/#/${a}`),
  ];
  return `${lines.join('\n')}\n`;
}
