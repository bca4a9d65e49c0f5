// An in-memory Net: links, routes (ours), rules, endpoints, limits, the nft table and
// ping answers, with a log of every change, for the mptcp core's unit tests.
import type { Counters, Endpoint, Limits, LinkState, Net, Route, RouteTarget, Rule, Subflow } from '../../src/net.js';

export class FakeNet implements Net {
  links_: LinkState[] = [];
  /** table ('main' or number) → dst → route */
  tables = new Map<string, Map<string, Route>>();
  rules_: Rule[] = [];
  endpoints_: Endpoint[] = [];
  limits_: Limits = { subflows: 2, addAddrAccepted: 0 };
  nftScript: string | undefined;
  reachable = new Set<string>();
  missing = new Set<string>();
  mptcp: boolean | undefined = true;
  gateways = new Map<string, string>();
  log: string[] = [];
  failNft = false;

  link(ifname: string, up: boolean, addresses: string[] = []): void {
    this.links_ = [...this.links_.filter((l) => l.ifname !== ifname), { ifname, up, addresses }];
    if (!up) {
      // the kernel drops the routes through a device that goes down
      for (const table of this.tables.values()) for (const [dst, r] of table) if (r.dev === ifname) table.delete(dst);
    }
  }

  table(t: number | 'main'): Map<string, Route> {
    const key = String(t);
    let m = this.tables.get(key);
    if (!m) this.tables.set(key, (m = new Map()));
    return m;
  }

  /** Everything this plugin could have left behind, for "nothing half-applied". */
  leftovers(): string[] {
    const out: string[] = [];
    for (const [t, m] of this.tables) for (const dst of m.keys()) out.push(`route ${dst} table ${t}`);
    for (const r of this.rules_) out.push(`rule ${r.priority}`);
    for (const e of this.endpoints_) out.push(`endpoint ${e.id}`);
    if (this.nftScript !== undefined) out.push('nft');
    return out;
  }

  links = (): Promise<LinkState[]> => Promise.resolve(this.links_.map((l) => ({ ...l })));
  defaultGateway = (dev: string): Promise<string | undefined> => Promise.resolve(this.gateways.get(dev));
  routes = (t: number | 'main'): Promise<Route[]> => Promise.resolve([...this.table(t).values()]);
  replaceRoute(dst: string, target: RouteTarget, table?: number): Promise<void> {
    this.log.push(`route ${dst} dev ${target.dev}${target.gateway ? ` via ${target.gateway}` : ''} table ${table ?? 'main'}`);
    this.table(table ?? 'main').set(dst, { dst, dev: target.dev, ...(target.gateway ? { gateway: target.gateway } : {}) });
    return Promise.resolve();
  }
  deleteRoute(dst: string, table?: number): Promise<void> {
    this.table(table ?? 'main').delete(dst);
    return Promise.resolve();
  }
  rules = (): Promise<Rule[]> => Promise.resolve(this.rules_.map((r) => ({ ...r })));
  addRule(src: string, table: number, priority: number): Promise<void> {
    this.log.push(`rule from ${src} table ${table} pref ${priority}`);
    this.rules_.push({ priority, src, table: String(table), protocol: '91' });
    return Promise.resolve();
  }
  deleteRule(rule: Rule): Promise<void> {
    this.rules_ = this.rules_.filter((r) => !(r.priority === rule.priority && r.table === rule.table && r.src === rule.src));
    return Promise.resolve();
  }
  endpoints = (): Promise<Endpoint[]> => Promise.resolve(this.endpoints_.map((e) => ({ ...e })));
  addEndpoint(address: string, dev: string, id: number, backup: boolean): Promise<void> {
    this.log.push(`endpoint add ${address} dev ${dev} id ${id}${backup ? ' backup' : ''}`);
    this.endpoints_.push({ id, address, dev, flags: ['subflow', ...(backup ? ['backup'] : [])] });
    return Promise.resolve();
  }
  deleteEndpoint(id: number): Promise<void> {
    if (this.endpoints_.some((e) => e.id === id)) this.log.push(`endpoint delete ${id}`);
    this.endpoints_ = this.endpoints_.filter((e) => e.id !== id);
    return Promise.resolve();
  }
  limits = (): Promise<Limits> => Promise.resolve({ ...this.limits_ });
  setLimits(l: Limits): Promise<void> {
    this.limits_ = { ...l };
    return Promise.resolve();
  }
  nft(script: string): Promise<void> {
    if (this.failNft) return Promise.reject(new Error('nft: syntax error'));
    this.nftScript = script;
    return Promise.resolve();
  }
  deleteNftTable(): Promise<void> {
    this.nftScript = undefined;
    return Promise.resolve();
  }
  hasNftTable = (): Promise<boolean> => Promise.resolve(this.nftScript !== undefined);
  ping(source: string, dest: string): Promise<boolean> {
    this.log.push(`ping ${dest} from ${source}`);
    return Promise.resolve(this.reachable.has(source));
  }
  subflows = (): Promise<Subflow[]> => Promise.resolve([]);
  counters = (): Counters | undefined => ({ txBytes: 1, rxBytes: 2 });
  mptcpEnabled = (): boolean | undefined => this.mptcp;
  installed = (program: string): boolean => !this.missing.has(program);
}
