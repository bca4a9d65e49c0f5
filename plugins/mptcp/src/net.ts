/**
 * The system as the mptcp plugin changes and reads it: links, routes, rules, MPTCP
 * endpoints and limits (iproute2's `ip`), the nftables table (`nft -f -`), a ping over
 * one path, the MPTCP subflows (`ss`), interface byte counters (sysfs). `Net` is what the
 * plugin's logic uses (unit tests give it a fake); `IpNet` runs the real programs, argv
 * arrays only, through the plugin's permitted processes.
 */
import { ErrorCodes, type Platform, type PluginProcesses, WrtkitError } from '@wrtkit/sdk';
import { NFT_TABLE, ROUTE_PROTO } from './model.js';
import { type Subflow, parseSubflows } from './parse.js';

export interface LinkState {
  ifname: string;
  /** Administratively up with carrier (IFF_UP and LOWER_UP). */
  up: boolean;
  /** IPv4 addresses (without prefix length), primary first. */
  addresses: string[];
}

export interface Endpoint {
  id: number;
  address: string;
  dev?: string;
  flags: string[];
}

export interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
}

export interface Rule {
  priority: number;
  src?: string;
  table: string;
  protocol?: string;
}

export interface Limits {
  subflows: number;
  addAddrAccepted: number;
}

export interface Counters {
  txBytes: number;
  rxBytes: number;
}

export interface RouteTarget {
  dev: string;
  gateway?: string;
}

export interface Net {
  links(): Promise<LinkState[]>;
  /** The gateway of the main table's default route through dev, if any. */
  defaultGateway(dev: string): Promise<string | undefined>;
  /** Our routes (protocol ROUTE_PROTO) in a table. */
  routes(table: number | 'main'): Promise<Route[]>;
  replaceRoute(dst: string, target: RouteTarget, table?: number): Promise<void>;
  /** No error when it is not there. */
  deleteRoute(dst: string, table?: number): Promise<void>;
  rules(): Promise<Rule[]>;
  addRule(src: string, table: number, priority: number): Promise<void>;
  deleteRule(rule: Rule): Promise<void>;
  endpoints(): Promise<Endpoint[]>;
  addEndpoint(address: string, dev: string, id: number, backup: boolean): Promise<void>;
  /** No error when it is not there. */
  deleteEndpoint(id: number): Promise<void>;
  limits(): Promise<Limits>;
  setLimits(limits: Limits): Promise<void>;
  /** Loads an nftables script atomically. */
  nft(script: string): Promise<void>;
  /** Removes the plugin's nftables table; no error when it is not there. */
  deleteNftTable(): Promise<void>;
  hasNftTable(): Promise<boolean>;
  /** One echo from `source` to `dest`, answered within timeoutS. */
  ping(source: string, dest: string, timeoutS: number): Promise<boolean>;
  subflows(): Promise<Subflow[]>;
  counters(dev: string): Counters | undefined;
  /** Whether the kernel has MPTCP and it is on (net.mptcp.enabled). */
  mptcpEnabled(): boolean | undefined;
  /** Whether a program is on PATH (or in a system bin directory). */
  installed(program: string): boolean;
}

export type { Subflow };

const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export class IpNet implements Net {
  constructor(
    private readonly processes: PluginProcesses,
    private readonly platform: Pick<Platform, 'fs' | 'env'>,
  ) {}

  private async run(argv: string[], options: { input?: string; allowFail?: RegExp } = {}): Promise<string> {
    const result = await this.processes.run(argv, {
      timeoutMs: 10_000,
      ...(options.input !== undefined ? { input: options.input } : {}),
    });
    if (result.exitCode === 0) return result.stdout;
    const stderr = result.stderr.trim();
    if (options.allowFail?.test(stderr)) return '';
    throw new WrtkitError(ErrorCodes.APPLY_FAILED, `${argv.join(' ')}: ${stderr || `exit ${String(result.exitCode)}`}`, {
      details: { argv: argv.join(' ') },
    });
  }

  private async json<T>(argv: string[]): Promise<T[]> {
    const out = (await this.run(argv)).trim();
    if (out === '') return [];
    try {
      return JSON.parse(out) as T[];
    } catch {
      throw new WrtkitError(ErrorCodes.APPLY_FAILED, `${argv.join(' ')}: unreadable output`, {
        details: { output: out.slice(0, 200) },
      });
    }
  }

  async links(): Promise<LinkState[]> {
    type Row = { ifname: string; flags?: string[]; addr_info?: Array<{ family: string; local: string }> };
    const rows = await this.json<Row>(['ip', '-j', 'addr', 'show']);
    return rows.map((r) => ({
      ifname: r.ifname,
      up: (r.flags ?? []).includes('UP') && (r.flags ?? []).includes('LOWER_UP'),
      addresses: (r.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local),
    }));
  }

  async defaultGateway(dev: string): Promise<string | undefined> {
    const rows = await this.json<{ gateway?: string }>(['ip', '-j', 'route', 'show', 'default', 'dev', dev]);
    return rows.find((r) => r.gateway !== undefined)?.gateway;
  }

  async routes(table: number | 'main'): Promise<Route[]> {
    const rows = await this.json<{ dst: string; gateway?: string; dev?: string }>([
      'ip',
      '-j',
      'route',
      'show',
      'table',
      String(table),
      'proto',
      String(ROUTE_PROTO),
    ]);
    return rows.map((r) => ({
      dst: r.dst === 'default' ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : `${r.dst}/32`,
      ...(r.gateway !== undefined ? { gateway: r.gateway } : {}),
      ...(r.dev !== undefined ? { dev: r.dev } : {}),
    }));
  }

  async replaceRoute(dst: string, target: RouteTarget, table?: number): Promise<void> {
    const via = target.gateway !== undefined ? ['via', target.gateway] : [];
    const scope = target.gateway === undefined ? ['scope', 'link'] : [];
    await this.run([
      'ip',
      'route',
      'replace',
      dst,
      ...via,
      'dev',
      target.dev,
      ...scope,
      ...(table !== undefined ? ['table', String(table)] : []),
      'proto',
      String(ROUTE_PROTO),
    ]);
  }

  async deleteRoute(dst: string, table?: number): Promise<void> {
    await this.run(
      ['ip', 'route', 'del', dst, ...(table !== undefined ? ['table', String(table)] : []), 'proto', String(ROUTE_PROTO)],
      { allowFail: /No such process|not found|Cannot find/i },
    );
  }

  async rules(): Promise<Rule[]> {
    const rows = await this.json<{ priority: number; src?: string; srclen?: number; table: string; protocol?: string }>([
      'ip',
      '-j',
      'rule',
      'show',
    ]);
    return rows.map((r) => ({
      priority: r.priority,
      ...(r.src !== undefined ? { src: r.src } : {}),
      table: r.table,
      ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
    }));
  }

  async addRule(src: string, table: number, priority: number): Promise<void> {
    await this.run([
      'ip',
      'rule',
      'add',
      'from',
      src,
      'table',
      String(table),
      'pref',
      String(priority),
      'protocol',
      String(ROUTE_PROTO),
    ]);
  }

  async deleteRule(rule: Rule): Promise<void> {
    await this.run(
      [
        'ip',
        'rule',
        'del',
        ...(rule.src !== undefined && rule.src !== 'all' ? ['from', rule.src] : []),
        'table',
        rule.table,
        'pref',
        String(rule.priority),
      ],
      { allowFail: /No such file|not found/i },
    );
  }

  async endpoints(): Promise<Endpoint[]> {
    const rows = await this.json<Record<string, unknown>>(['ip', '-j', 'mptcp', 'endpoint', 'show']);
    return rows.map((r) => ({
      id: Number(r.id),
      address: String(r.address),
      ...(typeof r.dev === 'string' ? { dev: r.dev } : {}),
      flags: ['signal', 'subflow', 'backup', 'fullmesh'].filter((f) => r[f] === true),
    }));
  }

  async addEndpoint(address: string, dev: string, id: number, backup: boolean): Promise<void> {
    await this.run([
      'ip',
      'mptcp',
      'endpoint',
      'add',
      address,
      'dev',
      dev,
      'id',
      String(id),
      'subflow',
      ...(backup ? ['backup'] : []),
    ]);
  }

  async deleteEndpoint(id: number): Promise<void> {
    await this.run(['ip', 'mptcp', 'endpoint', 'delete', 'id', String(id)], {
      allowFail: /not found|No such|Invalid argument/i,
    });
  }

  async limits(): Promise<Limits> {
    // iproute2 prints the limits as words even with -j: "add_addr_accepted 0 subflows 2"
    const out = await this.run(['ip', 'mptcp', 'limits', 'show']);
    const num = (key: string): number => Number(new RegExp(`${key}\\s+(\\d+)`).exec(out)?.[1] ?? 0);
    return { subflows: num('subflows'), addAddrAccepted: num('add_addr_accepted') };
  }

  async setLimits(limits: Limits): Promise<void> {
    await this.run([
      'ip',
      'mptcp',
      'limits',
      'set',
      'subflow',
      String(limits.subflows),
      'add_addr_accepted',
      String(limits.addAddrAccepted),
    ]);
  }

  async nft(script: string): Promise<void> {
    await this.run(['nft', '-f', '-'], { input: script });
  }

  async deleteNftTable(): Promise<void> {
    await this.run(['nft', 'delete', 'table', 'ip', NFT_TABLE], { allowFail: /No such file|does not exist/i });
  }

  async hasNftTable(): Promise<boolean> {
    const result = await this.processes.run(['nft', 'list', 'table', 'ip', NFT_TABLE], { timeoutMs: 10_000 });
    return result.exitCode === 0;
  }

  async ping(source: string, dest: string, timeoutS: number): Promise<boolean> {
    const result = await this.processes.run(['ping', '-c', '1', '-W', String(timeoutS), '-I', source, dest], {
      timeoutMs: (timeoutS + 2) * 1000,
    });
    return result.exitCode === 0;
  }

  async subflows(): Promise<Subflow[]> {
    return parseSubflows(await this.run(['ss', '-tniH']));
  }

  counters(dev: string): Counters | undefined {
    const read = (name: string): number | undefined => {
      const text = this.platform.fs.tryReadText(`/sys/class/net/${dev}/statistics/${name}`);
      return text === undefined ? undefined : Number(text.trim());
    };
    const txBytes = read('tx_bytes');
    const rxBytes = read('rx_bytes');
    return txBytes === undefined || rxBytes === undefined ? undefined : { txBytes, rxBytes };
  }

  mptcpEnabled(): boolean | undefined {
    const text = this.platform.fs.tryReadText('/proc/sys/net/mptcp/enabled');
    return text === undefined ? undefined : text.trim() === '1';
  }

  installed(program: string): boolean {
    const path = `${this.platform.env.get('PATH') ?? ''}:${SYSTEM_PATH}`;
    return path
      .split(':')
      .filter((dir) => dir.startsWith('/'))
      .some((dir) => {
        // OpenWrt's ip, ping … are links to ip-full or busybox
        const kind = this.platform.fs.stat(`${dir}/${program}`)?.kind;
        return kind === 'file' || kind === 'symlink';
      });
  }
}
