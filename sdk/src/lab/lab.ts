// The lab itself: namespaces, veth links, bridges, addresses, routes, shaping; nodes that
// run programs inside their namespace.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PREFIX, Janitor, NETNS_DIR, leftovers, pidsIn } from './cleanup.js';
import { LabHost, type StartHostOptions, startLabHost } from './host.js';
import { LabCommandError, LabProcess, type RunOptions, type RunResult, runArgv } from './proc.js';
import {
  type LabSpec,
  LabSpecError,
  type NormalizedLink,
  type NormalizedSpec,
  type Shaping,
  normalizeShape,
  normalizeSpec,
  resolvePort,
  routeWords,
} from './spec.js';

/** Options for `LabNode.spawn`. */
export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
}

/** One node of a lab: a network namespace. */
export class LabNode {
  constructor(
    private readonly lab: Lab,
    /** The node's name in the spec. */
    readonly name: string,
    /** The network namespace (`<prefix>-<name>`), for `ip netns exec` / `ip -n`. */
    readonly netns: string,
    /** Its nsfs inode (what /proc/<pid>/ns/net of its processes points to). */
    readonly inode: number,
  ) {}

  /**
   * This node's interface on its link to `peer` (the `index`-th such link, default the
   * first). Throws when there is none.
   */
  ifname(peer: string, index = 0): string {
    const ends = this.lab.linkEnds(this.name).filter((e) => e.peer === peer);
    const end = ends[index];
    if (!end)
      throw new Error(`lab: node ${this.name} has ${ends.length === 0 ? 'no link' : `only ${ends.length} link(s)`} to ${peer}`);
    return end.ifname;
  }

  /** The interfaces the spec made in this node (links, then bridges), without lo. */
  interfaces(): string[] {
    return [...(this.lab.normalized.ifnames.get(this.name) ?? [])];
  }

  /**
   * Addresses (with prefix length) the spec gave this node, all or on one interface —
   * named directly or by peer node — and of one family.
   */
  addresses(where?: string, family?: 4 | 6): string[] {
    const ifname = where === undefined ? undefined : this.resolveInterface(where);
    const list = this.lab.addressesOf(this.name).filter((a) => ifname === undefined || a.ifname === ifname);
    return list.map((a) => a.address).filter((a) => family === undefined || (family === 6) === a.includes(':'));
  }

  /** The first address of `family` on that interface (or link to that peer), without prefix length. */
  address(where: string, family: 4 | 6 = 4): string {
    const address = this.addresses(where, family)[0];
    if (!address) throw new Error(`lab: node ${this.name} has no IPv${family} address on ${where}`);
    return address.split('/')[0] as string;
  }

  /** Runs a program inside the namespace and collects its output. */
  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.lab.assertAlive();
    checkArgv(argv);
    return runArgv(['ip', 'netns', 'exec', this.netns, ...argv], { ...options, check: false }).then((result) => {
      if (options.check && result.exitCode !== 0) throw new LabCommandError(argv, result, `in ${this.name}`);
      return result;
    });
  }

  /** Like `run` with `check: true`: resolves with stdout, throws on failure. */
  async exec(argv: readonly string[], options: Omit<RunOptions, 'check'> = {}): Promise<string> {
    const result = await this.run(argv, options);
    if (result.exitCode !== 0) throw new LabCommandError(argv, result, `in ${this.name}`);
    return result.stdout;
  }

  /** Starts a long-running program inside the namespace; `destroy()` kills it if you don't. */
  spawn(argv: readonly string[], options: SpawnOptions = {}): LabProcess {
    this.lab.assertAlive();
    checkArgv(argv);
    return this.lab.track(new LabProcess(argv, ['ip', 'netns', 'exec', this.netns, ...argv], options));
  }

  /** `ip -n <netns> <args…>` (e.g. `['route', 'show']`): stdout, or throws with ip's message. */
  async ip(args: readonly string[]): Promise<string> {
    const result = await runArgv(['ip', '-n', this.netns, ...args]);
    if (result.exitCode !== 0) throw new LabCommandError(['ip', '-n', this.netns, ...args], result, `lab node ${this.name}`);
    return result.stdout;
  }

  /** Sets sysctls inside the namespace: `{ 'net.ipv4.ip_forward': 1 }`. */
  async sysctl(settings: Record<string, string | number>): Promise<void> {
    const pairs = Object.entries(settings).map(([k, v]) => {
      if (!/^[a-z0-9_.\-/]+$/i.test(k) || /\s/.test(String(v))) throw new Error(`lab: bad sysctl ${k}=${v}`);
      return `${k}=${v}`;
    });
    if (pairs.length === 0) return;
    await this.run(['sysctl', '-q', '-w', ...pairs], { check: true });
  }

  /** Turns IPv4 and IPv6 forwarding on or off. */
  setForwarding(on: boolean): Promise<void> {
    const v = on ? 1 : 0;
    return this.sysctl({ 'net.ipv4.ip_forward': v, 'net.ipv6.conf.all.forwarding': v });
  }

  /** Processes inside this namespace right now. */
  pids(): number[] {
    return pidsIn([this.inode]);
  }

  /** Starts the wrtkit host inside this node (see `Lab.startHost`). */
  startHost(options: StartHostOptions = {}): Promise<LabHost> {
    return this.lab.startHost(this.name, options);
  }

  private resolveInterface(where: string): string {
    if (this.interfaces().includes(where)) return where;
    const end = this.lab.linkEnds(this.name).find((e) => e.peer === where);
    if (end) return end.ifname;
    throw new Error(`lab: node ${this.name} has no interface or link to '${where}'`);
  }
}

function checkArgv(argv: readonly string[]): void {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
    throw new TypeError('lab: a command is an argv array of strings, e.g. ["ping", "-c1", "10.0.0.1"]');
  }
}

/** A running lab. Create it with `createLab`, end it with `destroy()`. */
export class Lab {
  /** Namespaces are `<prefix>-<node>`; temp dirs `<tmpdir>/wrtkit-lab-<prefix>-…`. */
  readonly prefix: string;
  /** @internal */
  readonly normalized: NormalizedSpec;
  private readonly nodesByName = new Map<string, LabNode>();
  private readonly processes = new Set<LabProcess>();
  private readonly janitor: Janitor;
  private destroying: Promise<void> | undefined;
  private readonly extraAddresses: Array<{ node: string; ifname: string; address: string }> = [];

  /** @internal use createLab */
  constructor(
    readonly spec: LabSpec,
    prefix: string,
  ) {
    this.normalized = normalizeSpec(spec);
    this.prefix = prefix;
    this.janitor = new Janitor(prefix);
  }

  /** Node names, in spec order. */
  get nodeNames(): string[] {
    return this.normalized.nodes;
  }

  /** True once `destroy()` was called. */
  get destroyed(): boolean {
    return this.destroying !== undefined;
  }

  /** A node by name; throws for unknown names. */
  node(name: string): LabNode {
    const node = this.nodesByName.get(name);
    if (!node) throw new Error(`lab: no node '${name}' (nodes: ${this.nodeNames.join(', ')})`);
    return node;
  }

  /**
   * Starts the wrtkit host inside `node`'s namespace on a router root made in a temp dir
   * (see StartHostOptions). The host is killed by `destroy()` if still running.
   */
  async startHost(node: string, options: StartHostOptions = {}): Promise<LabHost> {
    const target = this.node(node);
    const root = options.root ?? this.tempDir(`${node}-root`);
    return startLabHost(target, root, options);
  }

  /** A fresh temp dir removed by `destroy()`. */
  tempDir(label = 'tmp'): string {
    this.assertAlive();
    const safe = label.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32);
    const dir = mkdtempSync(join(tmpdir(), `wrtkit-lab-${this.prefix}-${safe}-`));
    this.janitor.addDir(dir);
    return dir;
  }

  /**
   * Kills every process in the lab's namespaces (whoever started them), deletes the
   * namespaces (their interfaces go with them) and the temp dirs. Idempotent.
   */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      // processes spawned a moment ago may not have entered their namespace yet
      for (const p of this.processes) p.kill('SIGKILL');
      await this.janitor.teardown();
      await Promise.all([...this.processes].map((p) => p.exited));
    })();
    return this.destroying;
  }

  /** @internal */
  assertAlive(): void {
    if (this.destroying) throw new Error(`lab ${this.prefix} was destroyed`);
  }

  /** @internal */
  track(process: LabProcess): LabProcess {
    this.processes.add(process);
    void process.exited.then(() => this.processes.delete(process));
    return process;
  }

  /** @internal */
  linkEnds(node: string) {
    return this.normalized.links.flatMap((l) => l.ends).filter((e) => e.node === node);
  }

  /** @internal */
  addressesOf(node: string): Array<{ ifname: string; address: string }> {
    return [
      ...this.linkEnds(node).flatMap((e) => e.addresses.map((address) => ({ ifname: e.ifname, address }))),
      ...this.extraAddresses.filter((a) => a.node === node),
    ];
  }

  /** @internal Builds everything; on failure the caller destroys. */
  async build(): Promise<void> {
    const { spec, normalized } = this;
    this.janitor.start();
    // 1. namespaces, lo up, DAD off before any interface exists (new interfaces copy `default`)
    for (const name of normalized.nodes) {
      const netns = `${this.prefix}-${name}`;
      await ip(['netns', 'add', netns]);
      const inode = this.janitor.addNamespace(netns);
      this.nodesByName.set(name, new LabNode(this, name, netns, inode));
    }
    await Promise.all(
      normalized.nodes.map(async (name) => {
        const node = this.node(name);
        await node.ip(['link', 'set', 'lo', 'up']);
        await node.sysctl({
          'net.ipv6.conf.all.accept_dad': 0,
          'net.ipv6.conf.default.accept_dad': 0,
          'net.ipv6.conf.default.dad_transmits': 0,
          'net.ipv6.conf.all.dad_transmits': 0,
        });
      }),
    );
    // 2. veth pairs, created straight into both namespaces (names only need to be unique
    //    per namespace, so several labs never collide)
    for (const link of normalized.links) await this.createLink(link);
    // 3. bridges
    for (const bridge of spec.bridges ?? []) {
      const node = this.node(bridge.node);
      await node.ip(['link', 'add', 'name', bridge.name, ...(bridge.mac ? ['address', bridge.mac] : []), 'type', 'bridge']);
      for (const port of bridge.ports) {
        const ifname = resolvePort(normalized.links, bridge.node, port);
        if (!ifname) throw new LabSpecError(`bridge ${bridge.name}: node ${bridge.node} has no interface or link to '${port}'`);
        await node.ip(['link', 'set', ifname, 'master', bridge.name]);
      }
      await node.ip(['link', 'set', bridge.name, 'up']);
      for (const address of bridge.addresses ?? []) this.extraAddresses.push({ node: bridge.node, ifname: bridge.name, address });
    }
    // 4. forwarding and extra sysctls (after interfaces exist: all.forwarding reaches them)
    await Promise.all(
      normalized.nodes.map(async (name) => {
        const node = this.node(name);
        const nodeSpec = spec.nodes[name] ?? {};
        const v = nodeSpec.forwarding ? 1 : 0;
        // explicit 0 too: IPv4 settings of a new namespace are copied from the host's
        await node.sysctl({ 'net.ipv4.ip_forward': v, 'net.ipv6.conf.all.forwarding': v, ...nodeSpec.sysctl });
      }),
    );
    // 5. addresses (nodad: usable at once), then routes
    await Promise.all(
      normalized.nodes.map(async (name) => {
        const node = this.node(name);
        for (const { ifname, address } of this.addressesOf(name)) {
          await node.ip(['addr', 'add', address, 'dev', ifname, ...(address.includes(':') ? ['nodad'] : [])]);
        }
      }),
    );
    for (const [name, routes] of Object.entries(spec.routes ?? {})) {
      const node = this.node(name);
      for (const [i, route] of routes.entries()) await node.ip(['route', 'add', ...routeWords(route, `routes.${name}[${i}]`)]);
    }
    // 6. shaping
    for (const link of normalized.links) {
      const shape = link.spec.shape;
      if (!shape) continue;
      const shaping = normalizeShape(shape, `links[${link.index}].shape`);
      for (const end of link.ends) {
        if (shape.from === undefined || shape.from === end.node) await this.shapeEgress(end.node, end.ifname, shaping);
      }
    }
  }

  private async createLink(link: NormalizedLink): Promise<void> {
    const [a, b] = link.ends;
    const nodeA = this.node(a.node);
    const nodeB = this.node(b.node);
    const mtu = link.spec.mtu !== undefined ? ['mtu', String(link.spec.mtu)] : [];
    await nodeA.ip([
      'link',
      'add',
      'name',
      a.ifname,
      ...(a.mac ? ['address', a.mac] : []),
      ...mtu,
      'type',
      'veth',
      'peer',
      'name',
      b.ifname,
      ...(b.mac ? ['address', b.mac] : []),
      ...mtu,
      'netns',
      nodeB.netns,
    ]);
    await nodeA.ip(['link', 'set', a.ifname, 'up']);
    await nodeB.ip(['link', 'set', b.ifname, 'up']);
  }

  private async shapeEgress(nodeName: string, ifname: string, s: Shaping): Promise<void> {
    const node = this.node(nodeName);
    const tbf = (parent: string[]) => [
      'qdisc',
      'add',
      'dev',
      ifname,
      ...parent,
      'tbf',
      'rate',
      `${s.rateBits}bit`,
      'burst',
      String(s.burstBytes),
      'latency',
      `${s.latencyUs}us`,
    ];
    const tc = async (args: string[]) => {
      const result = await node.run(['tc', ...args]);
      if (result.exitCode === 0) return;
      if (/unknown|No such file/i.test(result.stderr) && args.includes('netem')) {
        throw new Error(
          `lab: link ${ifname} in ${nodeName}: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM), needed for delay/jitter/loss; ` +
            'labCapabilities() tells what the kernel offers',
        );
      }
      throw new LabCommandError(['tc', ...args], result, `lab: shaping ${ifname} in ${nodeName}`);
    };
    if (s.delayUs === undefined && s.loss === undefined) {
      await tc(tbf(['root', 'handle', '1:']));
      return;
    }
    // netem as root, TBF as its child: delay/loss first, then the rate limit
    const netem = ['netem'];
    if (s.delayUs !== undefined) netem.push('delay', `${s.delayUs}us`, ...(s.jitterUs !== undefined ? [`${s.jitterUs}us`] : []));
    if (s.loss !== undefined) netem.push('loss', `${s.loss}%`);
    // enough queue for rate × delay (netem's default 1000 packets caps fast links)
    const inFlight =
      s.rateBits !== undefined && s.delayUs !== undefined ? Math.ceil(((s.rateBits / 8) * (s.delayUs / 1e6)) / 1000) : 0;
    netem.push('limit', String(Math.max(1000, inFlight * 2)));
    await tc(['qdisc', 'add', 'dev', ifname, 'root', 'handle', '1:', ...netem]);
    if (s.rateBits !== undefined) await tc(tbf(['parent', '1:1', 'handle', '10:']));
  }
}

function ip(args: string[]): Promise<string> {
  return runArgv(['ip', ...args]).then((result) => {
    if (result.exitCode !== 0) throw new LabCommandError(['ip', ...args], result, 'lab');
    return result.stdout;
  });
}

function existingNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

function freshPrefix(): string {
  const taken = existingNamespaces();
  for (;;) {
    const prefix = DEFAULT_PREFIX + randomBytes(8).readBigUInt64BE().toString(36).slice(0, 5).padStart(5, '0');
    if (!taken.some((n) => n.startsWith(`${prefix}-`)) && leftovers(prefix).registries.length === 0) return prefix;
  }
}

/** Why the lab cannot run here, or undefined when it can. */
export function labUnsupportedReason(): string | undefined {
  if (process.platform !== 'linux') return `the lab needs Linux network namespaces (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return `the lab needs root to create network namespaces (running as uid ${process.getuid()}); run lab tests as root (e.g. sudo npx vitest run); CI runs them as root`;
  }
  try {
    mkdirSync(NETNS_DIR, { recursive: true });
  } catch (error) {
    return `cannot create ${NETNS_DIR}: ${(error as Error).message}`;
  }
  return undefined;
}

/** @internal */
export async function buildLab(spec: LabSpec): Promise<Lab> {
  const reason = labUnsupportedReason();
  if (reason) throw new Error(`lab: ${reason}`);
  normalizeSpec(spec); // spec errors before anything exists
  const prefix = spec.prefix ?? freshPrefix();
  if (spec.prefix !== undefined) {
    const clash = existingNamespaces().filter((n) => n.startsWith(`${prefix}-`));
    if (clash.length > 0)
      throw new Error(`lab: prefix ${prefix} is in use (namespaces ${clash.join(', ')}); destroy that lab first`);
  }
  const lab = new Lab(spec, prefix);
  try {
    await lab.build();
  } catch (error) {
    await lab.destroy();
    throw error;
  }
  return lab;
}
