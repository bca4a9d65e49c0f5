/**
 * A client's MAC from its IP address, as the router's neighbour tables know it: the
 * portal grants access per device (MAC), but HTTP only tells it the peer's address.
 *
 * IPv4 comes from `/proc/net/arp` (cheap: one file read); IPv6, and IPv4 the file does
 * not have, from `ip -j neigh show to <address>`. Both are per network namespace, so
 * this is right wherever the host runs, the lab's router namespace included. Entries
 * still being resolved (INCOMPLETE) or that failed give no MAC.
 */
import type { RunOptions } from '@wrtkit/sdk';

/** The part of the platform's file system this needs. */
export interface NeighbourFiles {
  tryReadText(path: string): string | undefined;
}

/** The part of PluginProcesses this needs (`ip` must be in the manifest's permissions.exec). */
export interface NeighbourProcesses {
  run(argv: readonly string[], options?: RunOptions): Promise<{ exitCode: number | null; stdout: string; stderr: string }>;
}

export interface NeighbourDeps {
  fs: NeighbourFiles;
  processes: NeighbourProcesses;
  /** Where the ARP table is read (default /proc/net/arp). */
  arpPath?: string;
  /** Time limit for `ip` (default 3 s). */
  timeoutMs?: number;
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const ZERO_MAC = '00:00:00:00:00:00';
/** ATF_COM: the entry is resolved. */
const ATF_COM = 0x2;
/** ATF_PUBL: a proxy-ARP entry we publish for others, not a client's own. */
const ATF_PUBL = 0x8;

/**
 * The address without IPv4-mapping (`::ffff:10.0.0.2` → `10.0.0.2`) and without a zone
 * (`fe80::1%br-lan` → `fe80::1`), lower case; undefined when it is not an IP literal.
 */
export function normalizeAddress(address: string): string | undefined {
  let a = String(address).trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  if (mapped) a = mapped[1] as string;
  if (isIPv4(a)) return a;
  if (/^[0-9a-f:.]+$/.test(a) && a.includes(':') && a.length <= 45) return a;
  return undefined;
}

function isIPv4(a: string): boolean {
  const parts = a.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function normalizeMac(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const mac = value.trim().toLowerCase();
  return MAC.test(mac) && mac !== ZERO_MAC ? mac : undefined;
}

/**
 * IPv4 address → MAC of the resolved entries of a `/proc/net/arp` text (the first one
 * when an address is known on several interfaces).
 */
export function parseProcNetArp(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const [ip, , flagsText, hw] = fields as [string, string, string, string];
    const flags = Number.parseInt(flagsText, 16);
    if (!Number.isFinite(flags) || (flags & ATF_COM) === 0 || (flags & ATF_PUBL) !== 0) continue;
    const mac = normalizeMac(hw);
    if (mac && isIPv4(ip) && !out.has(ip)) out.set(ip, mac);
  }
  return out;
}

export interface NeighbourEntry {
  dst: string;
  dev?: string;
  lladdr?: string;
  state: string[];
}

/** Neighbour states that carry no usable link-layer address. */
const UNUSABLE = new Set(['INCOMPLETE', 'FAILED', 'NONE']);

/** Entries of `ip -j neigh show` output; [] for anything unparsable. */
export function parseIpNeighJson(text: string): NeighbourEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: NeighbourEntry[] = [];
  for (const item of data) {
    if (item === null || typeof item !== 'object') continue;
    const e = item as Record<string, unknown>;
    if (typeof e.dst !== 'string') continue;
    const state = Array.isArray(e.state) ? e.state.filter((s): s is string => typeof s === 'string') : [];
    out.push({
      dst: e.dst,
      ...(typeof e.dev === 'string' ? { dev: e.dev } : {}),
      ...(typeof e.lladdr === 'string' ? { lladdr: e.lladdr } : {}),
      state,
    });
  }
  return out;
}

/** The MAC of the first usable entry for `address` in `ip -j neigh` output. */
export function macFromNeighbours(entries: readonly NeighbourEntry[], address: string): string | undefined {
  for (const e of entries) {
    if (normalizeAddress(e.dst) !== address) continue;
    if (e.state.some((s) => UNUSABLE.has(s.toUpperCase()))) continue;
    const mac = normalizeMac(e.lladdr);
    if (mac) return mac;
  }
  return undefined;
}

/** The MAC of the device at `address`, lower case, or undefined when the router does not know it. */
export async function macOf(address: string, deps: NeighbourDeps): Promise<string | undefined> {
  const ip = normalizeAddress(address);
  if (ip === undefined) return undefined;
  if (isIPv4(ip)) {
    const arp = deps.fs.tryReadText(deps.arpPath ?? '/proc/net/arp');
    const mac = arp === undefined ? undefined : parseProcNetArp(arp).get(ip);
    if (mac) return mac;
  }
  let result: { exitCode: number | null; stdout: string };
  try {
    result = await deps.processes.run(['ip', '-j', 'neigh', 'show', 'to', ip], { timeoutMs: deps.timeoutMs ?? 3000 });
  } catch {
    return undefined;
  }
  if (result.exitCode !== 0) return undefined;
  return macFromNeighbours(parseIpNeighJson(result.stdout), ip);
}

/** `macOf` bound to the router's files and programs: the portal's `deps.macOf`. */
export function createMacOf(deps: NeighbourDeps): (address: string) => Promise<string | undefined> {
  return (address) => macOf(address, deps);
}
