// The declarative lab description and its validation. Everything is checked before a
// single namespace is created, so a typo costs nothing to clean up.

/** One network namespace. */
export interface NodeSpec {
  /** Forward IPv4 and IPv6 between interfaces (default false, also set explicitly to 0). */
  forwarding?: boolean;
  /** Extra sysctls set in the namespace, e.g. `{ 'net.ipv4.conf.all.rp_filter': 0 }`. */
  sysctl?: Record<string, string | number>;
}

/**
 * Traffic shaping on a link: `tc` TBF for `rate`, netem for `delay`/`jitter`/`loss`
 * (netem as root qdisc with TBF as its child when both are given). Applied to the egress
 * of both ends (both directions), or only of `from`'s end.
 */
export interface ShapeSpec {
  /** `'20mbit'`, `'512kbit'`, `'1gbit'` (tc units: bit/kbit/mbit/gbit/tbit) or bit/s as a number. */
  rate?: string | number;
  /** TBF bucket in bytes (default: 10 ms at `rate`, at least 10 full-size frames). */
  burst?: number;
  /** TBF queue as time at `rate` (default `'50ms'`). */
  latency?: string | number;
  /** netem one-way delay: `'20ms'`, `'1s'`, `'500us'` or milliseconds as a number. */
  delay?: string | number;
  /** netem delay variation (needs `delay`). */
  jitter?: string | number;
  /** netem random loss in percent. */
  loss?: number;
  /** Shape only the traffic this node sends on the link (default: both directions). */
  from?: string;
}

/** A veth pair between two nodes. */
export interface LinkSpec {
  a: string;
  b: string;
  /** Interface name per node (≤ 15 characters). Default `eth-<peer node>` (numbered when taken). */
  names?: Record<string, string>;
  /** Addresses with prefix length per node: `{ client: ['10.1.0.2/24', 'fd01::2/64'] }`. */
  addresses?: Record<string, string[]>;
  /** Static MAC per node: `{ server: '02:00:00:00:00:02' }`. */
  mac?: Record<string, string>;
  mtu?: number;
  shape?: ShapeSpec;
}

/** A Linux bridge inside one node, with some of that node's link ends as ports. */
export interface BridgeSpec {
  node: string;
  /** Interface name (≤ 15 characters), e.g. `br-lan`. */
  name: string;
  /**
   * Ports: an interface name of this node, or the name of a peer node (the node's end of
   * its link to that peer).
   */
  ports: string[];
  addresses?: string[];
  mac?: string;
}

export interface LabSpec {
  nodes: Record<string, NodeSpec>;
  links?: LinkSpec[];
  bridges?: BridgeSpec[];
  /**
   * Routes per node, in `ip route add` syntax without `ip route add`: `'default via
   * 10.1.0.1'`, `'10.9.0.0/16 via 10.1.0.1 dev eth-router'`. Split on whitespace into
   * argv (no shell); pass an array to keep words together. The family follows the
   * addresses (`default via fd01::1` is an IPv6 route).
   */
  routes?: Record<string, Array<string | string[]>>;
  /**
   * Name prefix of this lab's namespaces (`<prefix>-<node>`) and temp dirs: 2–12 lower-case
   * letters/digits starting with a letter. Default: `wkl` + 5 random characters, unique
   * among the namespaces present. Pass one to find this lab's leftovers from outside.
   */
  prefix?: string;
}

/** A link end: the node, its interface, the peer. */
export interface LinkEnd {
  node: string;
  ifname: string;
  peer: string;
  peerIfname: string;
  link: number;
  mac?: string;
  addresses: string[];
}

export interface NormalizedLink {
  index: number;
  spec: LinkSpec;
  ends: [LinkEnd, LinkEnd];
}

export interface Shaping {
  rateBits?: number;
  burstBytes?: number;
  latencyUs?: number;
  delayUs?: number;
  jitterUs?: number;
  loss?: number;
}

const NODE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/i;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
export const PREFIX = /^[a-z][a-z0-9]{1,11}$/;

export class LabSpecError extends Error {
  constructor(message: string) {
    super(`lab spec: ${message}`);
    this.name = 'LabSpecError';
  }
}

function checkIfname(name: string, where: string): void {
  if (!IFNAME.test(name) || name === 'lo' || name === '.' || name === '..') {
    throw new LabSpecError(`${where}: interface name '${name}' must be 1–15 characters of [A-Za-z0-9_.-] and not lo`);
  }
}

function checkAddress(address: string, where: string): void {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(address);
  const max = address.includes(':') ? 128 : 32;
  if (!m || Number(m[2]) > max || (!address.includes(':') && !/^\d{1,3}(\.\d{1,3}){3}\//.test(address))) {
    throw new LabSpecError(`${where}: '${address}' is not an address with prefix length like 10.1.0.2/24 or fd01::2/64`);
  }
}

/** tc-style rate to bit/s. */
export function parseRate(rate: string | number, where = 'rate'): number {
  if (typeof rate === 'number') {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new LabSpecError(`${where}: ${rate} is not a positive bit/s`);
    return Math.round(rate);
  }
  const m = /^(\d+(?:\.\d+)?)\s*(bit|kbit|mbit|gbit|tbit)$/i.exec(rate.trim());
  if (!m) throw new LabSpecError(`${where}: '${rate}' is not a rate like 20mbit, 512kbit, 1gbit`);
  const scale = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12 }[(m[2] as string).toLowerCase() as 'bit'];
  const bits = Math.round(Number(m[1]) * scale);
  if (bits <= 0) throw new LabSpecError(`${where}: '${rate}' is not positive`);
  return bits;
}

/** A duration (`'20ms'`, `'1s'`, `'500us'`, or ms as a number) in microseconds. */
export function parseDuration(value: string | number, where: string): number {
  if (typeof value === 'number') {
    if (!(value >= 0) || !Number.isFinite(value)) throw new LabSpecError(`${where}: ${value} is not a duration in ms`);
    return Math.round(value * 1000);
  }
  const m = /^(\d+(?:\.\d+)?)\s*(us|ms|s)$/.exec(value.trim());
  if (!m) throw new LabSpecError(`${where}: '${value}' is not a duration like 20ms, 1s, 500us`);
  return Math.round(Number(m[1]) * { us: 1, ms: 1000, s: 1e6 }[m[2] as 'us']);
}

export function normalizeShape(shape: ShapeSpec, where: string): Shaping {
  const out: Shaping = {};
  if (shape.rate !== undefined) {
    out.rateBits = parseRate(shape.rate, `${where}.rate`);
    const bytesPerSec = out.rateBits / 8;
    out.burstBytes = shape.burst ?? Math.max(Math.round(bytesPerSec * 0.01), 10 * 1514);
    if (!(out.burstBytes >= 1514)) throw new LabSpecError(`${where}.burst: at least one full frame (1514 bytes)`);
    out.latencyUs = parseDuration(shape.latency ?? '50ms', `${where}.latency`);
  } else if (shape.burst !== undefined || shape.latency !== undefined) {
    throw new LabSpecError(`${where}: burst and latency shape a rate; give rate too`);
  }
  if (shape.delay !== undefined) out.delayUs = parseDuration(shape.delay, `${where}.delay`);
  if (shape.jitter !== undefined) {
    if (shape.delay === undefined) throw new LabSpecError(`${where}.jitter needs delay`);
    out.jitterUs = parseDuration(shape.jitter, `${where}.jitter`);
  }
  if (shape.loss !== undefined) {
    if (!(shape.loss >= 0 && shape.loss <= 100)) throw new LabSpecError(`${where}.loss: a percentage 0–100`);
    out.loss = shape.loss;
  }
  if (out.rateBits === undefined && out.delayUs === undefined && out.loss === undefined) {
    throw new LabSpecError(`${where}: give rate, delay or loss`);
  }
  return out;
}

/** Splits a route into `ip route add` argv words. */
export function routeWords(route: string | string[], where: string): string[] {
  const words = typeof route === 'string' ? route.trim().split(/\s+/) : [...route];
  if (words.length === 0 || words[0] === '') throw new LabSpecError(`${where}: empty route`);
  if (['ip', 'route', 'add'].includes(words[0] as string)) {
    throw new LabSpecError(`${where}: write the route without 'ip route add': '${words.join(' ')}'`);
  }
  return words;
}

export interface NormalizedSpec {
  nodes: string[];
  links: NormalizedLink[];
  /** node → interface names taken (links and bridges). */
  ifnames: Map<string, Set<string>>;
}

/** Validates a spec and names every interface. */
export function normalizeSpec(spec: LabSpec): NormalizedSpec {
  if (!spec || typeof spec.nodes !== 'object') throw new LabSpecError('`nodes` is required');
  const nodes = Object.keys(spec.nodes);
  if (nodes.length === 0) throw new LabSpecError('at least one node');
  for (const n of nodes) {
    if (!NODE_NAME.test(n)) throw new LabSpecError(`node name '${n}': 1–32 characters of [A-Za-z0-9_-], starting alphanumeric`);
  }
  if (spec.prefix !== undefined && !PREFIX.test(spec.prefix)) {
    throw new LabSpecError(`prefix '${spec.prefix}': 2–12 lower-case letters and digits, starting with a letter`);
  }
  const known = (node: string, where: string) => {
    if (!nodes.includes(node)) throw new LabSpecError(`${where}: no node '${node}' (nodes: ${nodes.join(', ')})`);
  };
  const ifnames = new Map(nodes.map((n) => [n, new Set<string>()]));
  const links: NormalizedLink[] = [];
  (spec.links ?? []).forEach((link, index) => {
    const where = `links[${index}] (${link.a}—${link.b})`;
    known(link.a, where);
    known(link.b, where);
    if (link.a === link.b) throw new LabSpecError(`${where}: a link joins two different nodes`);
    for (const key of ['names', 'addresses', 'mac'] as const) {
      for (const node of Object.keys(link[key] ?? {})) {
        if (node !== link.a && node !== link.b) throw new LabSpecError(`${where}.${key}: '${node}' is not an end of this link`);
      }
    }
    const name = (node: string, peer: string) => {
      const taken = ifnames.get(node) as Set<string>;
      const explicit = link.names?.[node];
      let chosen: string;
      if (explicit !== undefined) {
        checkIfname(explicit, `${where}.names.${node}`);
        if (taken.has(explicit)) throw new LabSpecError(`${where}.names.${node}: '${explicit}' is already used in ${node}`);
        chosen = explicit;
      } else {
        const base = `eth-${peer}`.slice(0, 15);
        chosen = base;
        for (let i = 1; taken.has(chosen) || !IFNAME.test(chosen); i++) chosen = `${base.slice(0, 15 - String(i).length)}${i}`;
      }
      taken.add(chosen);
      return chosen;
    };
    const aName = name(link.a, link.b);
    const bName = name(link.b, link.a);
    const end = (node: string, ifname: string, peer: string, peerIfname: string): LinkEnd => {
      const mac = link.mac?.[node];
      if (mac !== undefined && !MAC.test(mac))
        throw new LabSpecError(`${where}.mac.${node}: '${mac}' is not a MAC like 02:00:00:00:00:01`);
      const addresses = link.addresses?.[node] ?? [];
      addresses.forEach((a) => checkAddress(a, `${where}.addresses.${node}`));
      return { node, ifname, peer, peerIfname, link: index, addresses, ...(mac !== undefined ? { mac } : {}) };
    };
    if (link.shape) {
      normalizeShape(link.shape, `${where}.shape`);
      if (link.shape.from !== undefined && link.shape.from !== link.a && link.shape.from !== link.b) {
        throw new LabSpecError(`${where}.shape.from: '${link.shape.from}' is not an end of this link`);
      }
    }
    if (link.mtu !== undefined && !(Number.isInteger(link.mtu) && link.mtu >= 68 && link.mtu <= 65535)) {
      throw new LabSpecError(`${where}.mtu: an integer 68–65535`);
    }
    links.push({ index, spec: link, ends: [end(link.a, aName, link.b, bName), end(link.b, bName, link.a, aName)] });
  });
  (spec.bridges ?? []).forEach((bridge, index) => {
    const where = `bridges[${index}] (${bridge.name})`;
    known(bridge.node, where);
    checkIfname(bridge.name, where);
    const taken = ifnames.get(bridge.node) as Set<string>;
    if (taken.has(bridge.name)) throw new LabSpecError(`${where}: '${bridge.name}' is already used in ${bridge.node}`);
    taken.add(bridge.name);
    if (bridge.mac !== undefined && !MAC.test(bridge.mac)) throw new LabSpecError(`${where}.mac: '${bridge.mac}' is not a MAC`);
    (bridge.addresses ?? []).forEach((a) => checkAddress(a, `${where}.addresses`));
    if (!Array.isArray(bridge.ports)) throw new LabSpecError(`${where}.ports: a list of interfaces or peer nodes`);
  });
  for (const [node, routes] of Object.entries(spec.routes ?? {})) {
    known(node, `routes.${node}`);
    routes.forEach((r, i) => routeWords(r, `routes.${node}[${i}]`));
  }
  return { nodes, links, ifnames };
}

/** The node's end of a link to `peer` (or the interface itself), as configured. */
export function resolvePort(links: NormalizedLink[], node: string, port: string): string | undefined {
  const ends = links.flatMap((l) => l.ends).filter((e) => e.node === node);
  return ends.find((e) => e.ifname === port)?.ifname ?? ends.find((e) => e.peer === port)?.ifname;
}
