/**
 * The address the portal resolver gives out: one devices on the catch interfaces can
 * reach. For an L3 interface (br-lan) its own address; for a bridge port (wlan0-ap) the
 * bridge's, since a port has no address of its own.
 */
import type { RunOptions } from '@wrtkit/sdk';

/** The part of PluginProcesses this needs (`ip` must be in permissions.exec). */
export interface AddressProcesses {
  run(argv: readonly string[], options?: RunOptions): Promise<{ exitCode: number | null; stdout: string; stderr: string }>;
}

export interface RouterAddresses {
  ipv4?: string;
  ipv6?: string;
}

interface AddrInfo {
  family?: string;
  local?: string;
  scope?: string;
  tentative?: boolean;
  dadfailed?: boolean;
  deprecated?: boolean;
}

function parseJsonArray(text: string): Array<Record<string, unknown>> {
  try {
    const data: unknown = JSON.parse(text.trim() === '' ? '[]' : text);
    return Array.isArray(data) ? data.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object') : [];
  } catch {
    return [];
  }
}

/**
 * The bridge an interface is a port of, from `ip -d -j link show dev X` output; undefined
 * when it is not a bridge port (a bond or VRF member keeps its own addresses).
 */
export function bridgeMasterOf(linkJson: string): string | undefined {
  const link = parseJsonArray(linkJson)[0];
  if (!link || typeof link.master !== 'string') return undefined;
  const info = link.linkinfo as { info_slave_kind?: unknown } | undefined;
  if (info && typeof info.info_slave_kind === 'string' && info.info_slave_kind !== 'bridge') return undefined;
  return link.master;
}

/**
 * The first usable global IPv4 and IPv6 address (ULA counts; link-local, tentative,
 * failed and deprecated ones do not) from `ip -j addr show dev X` output.
 */
export function globalAddresses(addrJson: string): RouterAddresses {
  const out: RouterAddresses = {};
  for (const link of parseJsonArray(addrJson)) {
    const infos = Array.isArray(link.addr_info) ? (link.addr_info as AddrInfo[]) : [];
    for (const a of infos) {
      if (typeof a.local !== 'string' || a.scope !== 'global' || a.tentative || a.dadfailed) continue;
      if (a.family === 'inet' && out.ipv4 === undefined) out.ipv4 = a.local;
      if (a.family === 'inet6' && out.ipv6 === undefined && !a.deprecated && !/^fe[89ab]/i.test(a.local)) out.ipv6 = a.local;
    }
  }
  return out;
}

/**
 * The router's first global IPv4 and IPv6 address on the catch interfaces, in their
 * order (a bridge port's from its bridge). Interfaces that do not exist are skipped.
 */
export async function routerAddresses(processes: AddressProcesses, ifnames: readonly string[]): Promise<RouterAddresses> {
  const out: RouterAddresses = {};
  const seen = new Set<string>();
  const ip = async (args: string[]): Promise<string | undefined> => {
    try {
      const result = await processes.run(['ip', ...args], { timeoutMs: 5000 });
      return result.exitCode === 0 ? result.stdout : undefined;
    } catch {
      return undefined;
    }
  };
  for (const ifname of ifnames) {
    if (out.ipv4 !== undefined && out.ipv6 !== undefined) break;
    const link = await ip(['-d', '-j', 'link', 'show', 'dev', ifname]);
    if (link === undefined) continue;
    const target = bridgeMasterOf(link) ?? ifname;
    if (seen.has(target)) continue;
    seen.add(target);
    const addr = await ip(['-j', 'addr', 'show', 'dev', target]);
    if (addr === undefined) continue;
    const found = globalAddresses(addr);
    out.ipv4 ??= found.ipv4;
    out.ipv6 ??= found.ipv6;
  }
  if (out.ipv4 === undefined) delete out.ipv4;
  if (out.ipv6 === undefined) delete out.ipv6;
  return out;
}
