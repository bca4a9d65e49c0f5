// The lab for the mptcp plugin's integration tests and benchmark: two routers joined by
// several shaped paths, a host behind each.
//
//   hostA eth0 ── lan routerA p1 ══ p1 routerB lan ── eth0 hostB
//   10.1.0.2      10.1.0.1    p2 ══ p2    10.2.0.1      10.2.0.2
//                             …           lo 10.200.0.1/32 (the "server address", a VPS's)
//   path N: routerA pN 10.100.N.1/24 ⇔ routerB pN 10.100.N.2/24, tc tbf on both ends at the
//   path's rate, burst 32k, latency 50ms.
//
// Facts behind the choices (see /work/notes/mptcp-lab.md):
// - tcp_congestion_control=reno in every namespace: new namespaces inherit the host's cc
//   (bbr here), and BBRv1 against a shallow tbf drops 30–70 % of its packets, which costs
//   10–20 % of the aggregate and makes thresholds flaky. OpenWrt's cubic behaves like reno;
//   cubic cannot be chosen inside a namespace here. Proxies must start after the cc is set
//   (joins accepted on a listener inherit the listener's cc) — the lab sets it at creation.
// - tbf burst 32k latency 50ms: plain TCP then reaches ≈ 9.5 of 10 Mbit/s. Rates are
//   changed by `tc qdisc del` + `add`, never `change` (a smaller burst can wedge a queued
//   GSO packet for good).
// - The server address is on routerB's `lo` (no dummy devices on this kernel), apart from
//   the path subnets, as on a VPS that every WAN reaches.
// - rp_filter 0 on the routers: asymmetric subflows must not be dropped silently.
// - The routers get NO routes between the LANs or to 10.200.0.1: the plugin installs them
//   (`list route`), and a manual recipe must too. routerB (the responder) must not
//   source-route: MP_JOIN SYN-ACKs have to leave by the path they came in on, which
//   plain connected routes do; a `from 10.200.0.1` rule breaks every join.
// - Through the proxy only the receiving side's numbers mean anything (the sender writes
//   into ss-redir's buffer), so every measurement here reports the receiver's.
//
// Traffic stays inside the lab's namespaces; `lab.destroy()` removes everything.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type HostEngine,
  type Lab,
  type LabHost,
  type LabNode,
  type LabProcess,
  type LabSpec,
  type LinkSpec,
  createLab,
  parseRate,
} from '@wrtkit/sdk/lab';

export const REPO = resolve(import.meta.dirname, '../../../..');

/** Node names of the lab. */
export const NODES = { hostA: 'hostA', routerA: 'routerA', routerB: 'routerB', hostB: 'hostB' } as const;

/** Addresses (without prefix length) and subnets of the lab. */
export const ADDR = {
  hostA: '10.1.0.2',
  routerALan: '10.1.0.1',
  hostB: '10.2.0.2',
  routerBLan: '10.2.0.1',
  /** On routerB's lo: what the client's ss-redir connects to, over every path. */
  server: '10.200.0.1',
  lanA: '10.1.0.0/24',
  lanB: '10.2.0.0/24',
  /** routerA's end of path n. */
  pathA: (n: number): string => `10.100.${n}.1`,
  /** routerB's end of path n. */
  pathB: (n: number): string => `10.100.${n}.2`,
} as const;

/** The proxy secret both configs use by default. */
export const SECRET = 'lab-secret-1';
/** tbf bucket and queue of every path (bytes, time). */
export const TBF_BURST = 32_768;
export const TBF_LATENCY = '50ms';
/** Most paths a lab may have (the kernel allows 8 extra subflows). */
export const MAX_PATHS = 8;

/** The device of path n, on both routers. */
export const pathDev = (n: number): string => `p${n}`;

export interface MptcpLabOptions {
  /** One tc rate per path ('10mbit'); the length is the number of paths (1–8). */
  rates: string[];
  /** Namespace prefix (see LabSpec.prefix). */
  prefix?: string;
}

function checkPaths(count: number, where: string): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PATHS) {
    throw new Error(`mptcp lab: ${where}: 1–${MAX_PATHS} paths, not ${count}`);
  }
}

function checkPath(lab: Lab, n: number): void {
  const paths = pathCount(lab);
  if (!Number.isInteger(n) || n < 1 || n > paths) throw new Error(`mptcp lab: no path ${n} (paths 1–${paths})`);
}

/** The number of paths of a lab made by createMptcpLab. */
export function pathCount(lab: Lab): number {
  return lab
    .node(NODES.routerA)
    .interfaces()
    .filter((i) => /^p\d+$/.test(i)).length;
}

/** The lab as a LabSpec (everything but the server address on routerB's lo: see createMptcpLab). */
export function mptcpLabSpec(options: MptcpLabOptions): LabSpec {
  const { rates } = options;
  checkPaths(rates.length, 'rates');
  rates.forEach((r, i) => parseRate(r, `rates[${i}]`));
  const paths = rates.map((_, i) => i + 1);
  const router = (): Record<string, string | number> => ({
    'net.ipv4.conf.all.rp_filter': 0,
    'net.ipv4.conf.default.rp_filter': 0,
    'net.ipv4.conf.lan.rp_filter': 0,
    ...Object.fromEntries(paths.map((n) => [`net.ipv4.conf.${pathDev(n)}.rp_filter`, 0])),
    'net.ipv4.tcp_congestion_control': 'reno',
    'net.mptcp.enabled': 1,
  });
  const reno = { 'net.ipv4.tcp_congestion_control': 'reno' };
  const links: LinkSpec[] = [
    {
      a: NODES.hostA,
      b: NODES.routerA,
      names: { [NODES.hostA]: 'eth0', [NODES.routerA]: 'lan' },
      addresses: { [NODES.hostA]: [`${ADDR.hostA}/24`], [NODES.routerA]: [`${ADDR.routerALan}/24`] },
    },
    ...paths.map((n): LinkSpec => ({
      a: NODES.routerA,
      b: NODES.routerB,
      names: { [NODES.routerA]: pathDev(n), [NODES.routerB]: pathDev(n) },
      addresses: { [NODES.routerA]: [`${ADDR.pathA(n)}/24`], [NODES.routerB]: [`${ADDR.pathB(n)}/24`] },
      shape: { rate: rates[n - 1] as string, burst: TBF_BURST, latency: TBF_LATENCY },
    })),
    {
      a: NODES.routerB,
      b: NODES.hostB,
      names: { [NODES.routerB]: 'lan', [NODES.hostB]: 'eth0' },
      addresses: { [NODES.routerB]: [`${ADDR.routerBLan}/24`], [NODES.hostB]: [`${ADDR.hostB}/24`] },
    },
  ];
  return {
    nodes: {
      [NODES.hostA]: { sysctl: reno },
      [NODES.routerA]: { forwarding: true, sysctl: router() },
      [NODES.routerB]: { forwarding: true, sysctl: router() },
      [NODES.hostB]: { sysctl: reno },
    },
    links,
    routes: { [NODES.hostA]: [`default via ${ADDR.routerALan}`], [NODES.hostB]: [`default via ${ADDR.routerBLan}`] },
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
  };
}

/** Builds the lab: the spec, plus 10.200.0.1/32 on routerB's lo. Destroy it with `lab.destroy()`. */
export async function createMptcpLab(options: MptcpLabOptions): Promise<Lab> {
  const lab = await createLab(mptcpLabSpec(options));
  try {
    await lab.node(NODES.routerB).ip(['addr', 'add', `${ADDR.server}/32`, 'dev', 'lo']);
  } catch (error) {
    await lab.destroy();
    throw error;
  }
  return lab;
}

const RUN_MS = 10_000;

/** Runs argv in a node, throwing with its output when it fails (time limit `timeoutMs`). */
async function must(node: LabNode, argv: string[], timeoutMs = RUN_MS): Promise<string> {
  return node.exec(argv, { timeoutMs });
}

/**
 * Sets path n's rate on both ends: `tc qdisc del` + `add` (never `change`, which can wedge
 * the queue when the burst shrinks). Same burst and latency as at creation.
 */
export async function setPathRate(lab: Lab, n: number, rate: string): Promise<void> {
  checkPath(lab, n);
  const bits = parseRate(rate, 'rate');
  const dev = pathDev(n);
  await Promise.all(
    [NODES.routerA, NODES.routerB].map(async (name) => {
      const node = lab.node(name);
      await node.run(['tc', 'qdisc', 'del', 'dev', dev, 'root'], { timeoutMs: RUN_MS }); // none there: fine
      await must(node, [
        'tc',
        'qdisc',
        'add',
        'dev',
        dev,
        'root',
        'handle',
        '1:',
        'tbf',
        'rate',
        `${bits}bit`,
        'burst',
        String(TBF_BURST),
        'latency',
        TBF_LATENCY,
      ]);
    }),
  );
}

/**
 * Takes path n down as a real link loss does: both ends admin-down (routerA's first, so
 * its plugin sees its own link go down rather than a carrier loss). Like on a router, the
 * routes through the device go with it (routerA's table route and main routes via pN,
 * routerB's connected 10.100.n.0/24); pathUp does not bring them back — that is the
 * plugin's job (or the manual recipe's re-apply).
 */
export async function pathDown(lab: Lab, n: number): Promise<void> {
  checkPath(lab, n);
  await lab.node(NODES.routerA).ip(['link', 'set', pathDev(n), 'down']);
  await lab.node(NODES.routerB).ip(['link', 'set', pathDev(n), 'down']);
}

/** Brings path n back: routerB's end first, then routerA's (which then has carrier at once). */
export async function pathUp(lab: Lab, n: number): Promise<void> {
  checkPath(lab, n);
  await lab.node(NODES.routerB).ip(['link', 'set', pathDev(n), 'up']);
  await lab.node(NODES.routerA).ip(['link', 'set', pathDev(n), 'up']);
}

// ---------------------------------------------------------------------------------------
// /etc/config/mptcp

export type PathMode = 'on' | 'backup' | 'off';

export interface ClientConfigOptions {
  paths: number;
  /** Default SECRET. */
  secret?: string;
  /** Mode per path (index 0 = p1); missing entries are 'on'. */
  modes?: PathMode[];
  /** UCI lines appended inside `config mptcp 'main'` (indented with a tab when they are not). */
  extra?: string;
}

export interface ServerConfigOptions {
  paths: number;
  secret?: string;
  extra?: string;
}

function extraLines(extra: string | undefined): string[] {
  if (extra === undefined) return [];
  return extra
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (/^\s/.test(l) ? l : `\t${l}`));
}

/** routerA's /etc/config/mptcp: client towards 10.200.0.1, LAN `lan`, 10.2.0.0/24 routed, one path per pN. */
export function clientConfig(options: ClientConfigOptions): string {
  checkPaths(options.paths, 'clientConfig.paths');
  const lines = [
    "config mptcp 'main'",
    "\toption enabled '1'",
    "\toption role 'client'",
    `\toption peer '${ADDR.server}'`,
    `\toption secret '${options.secret ?? SECRET}'`,
    "\tlist lan 'lan'",
    `\tlist route '${ADDR.lanB}'`,
    ...extraLines(options.extra),
  ];
  for (let n = 1; n <= options.paths; n++) {
    lines.push(
      '',
      `config path '${pathDev(n)}'`,
      `\toption interface '${pathDev(n)}'`,
      `\toption gateway '${ADDR.pathB(n)}'`,
      `\toption mode '${options.modes?.[n - 1] ?? 'on'}'`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** routerB's /etc/config/mptcp: server on 0.0.0.0, 10.1.0.0/24 routed back, one path per pN. */
export function serverConfig(options: ServerConfigOptions): string {
  checkPaths(options.paths, 'serverConfig.paths');
  const lines = [
    "config mptcp 'main'",
    "\toption enabled '1'",
    "\toption role 'server'",
    "\toption listen '0.0.0.0'",
    `\toption secret '${options.secret ?? SECRET}'`,
    `\tlist route '${ADDR.lanA}'`,
    ...extraLines(options.extra),
  ];
  for (let n = 1; n <= options.paths; n++) {
    lines.push('', `config path '${pathDev(n)}'`, `\toption interface '${pathDev(n)}'`, `\toption gateway '${ADDR.pathA(n)}'`);
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------
// The wrtkit host on both routers

export interface Bundles {
  hostBundle: string;
  pluginDir: string;
}

/** The host and this plugin, freshly built (unminified) into .cache/mptcp-test/<label>. */
export function buildMptcpBundles(label: string): Bundles {
  if (!/^[A-Za-z0-9_.-]+$/.test(label)) throw new Error(`mptcp lab: bundle label '${label}' must be a plain name`);
  const out = join(REPO, '.cache/mptcp-test', label);
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [join(REPO, 'scripts/build.mjs'), '--out', out, '--quiet', '--no-minify', join(REPO, 'plugins/mptcp')],
    { stdio: 'inherit', timeout: 180_000 },
  );
  return { hostBundle: join(out, 'wrtkit.js'), pluginDir: join(out, 'plugins') };
}

export interface StartRoutersOptions {
  engine?: HostEngine;
  /** routerA's /etc/config/mptcp (default clientConfig for the lab's paths). */
  client?: string;
  /** routerB's /etc/config/mptcp (default serverConfig for the lab's paths). */
  server?: string;
  /** How long each host may take to log `ready` (default 30 s). */
  readyTimeoutMs?: number;
}

const HOST_CONFIG = "config wrtkit 'main'\n\toption log_level 'debug'\n";

/**
 * Starts the wrtkit host with this plugin on routerB (server) and then routerA (client),
 * each waited for until it logs `ready plugins=1 failed=0`. The hosts die with the lab.
 */
export async function startRouters(
  lab: Lab,
  bundles: Bundles,
  options: StartRoutersOptions = {},
): Promise<{ a: LabHost; b: LabHost }> {
  const paths = pathCount(lab);
  const engine = options.engine ?? 'node';
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const b = await lab.startHost(NODES.routerB, {
    engine,
    ...bundles,
    config: { wrtkit: HOST_CONFIG, mptcp: options.server ?? serverConfig({ paths }) },
  });
  await b.waitForLog(/ready plugins=1 failed=0/, { timeoutMs });
  const a = await lab.startHost(NODES.routerA, {
    engine,
    ...bundles,
    config: { wrtkit: HOST_CONFIG, mptcp: options.client ?? clientConfig({ paths }) },
  });
  await a.waitForLog(/ready plugins=1 failed=0/, { timeoutMs });
  return { a, b };
}

// ---------------------------------------------------------------------------------------
// iperf3

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at a path of keys in parsed JSON, or undefined. */
function at(value: unknown, ...keys: string[]): unknown {
  let v = value;
  for (const k of keys) {
    if (!isObject(v)) return undefined;
    v = v[k];
  }
  return v;
}

const numAt = (value: unknown, ...keys: string[]): number | undefined => {
  const v = at(value, ...keys);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

/** The JSON object in iperf3 -J output (text around it ignored), or undefined. */
function parseIperfJson(text: string): Json | undefined {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return undefined;
  try {
    const parsed: unknown = JSON.parse(text.slice(start, end + 1));
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const IPERF_PORT = 5201;

/**
 * Starts `iperf3 -s -1` in a node and waits until it listens: for its "Server listening"
 * line, or (with -J, which prints nothing before the test) for the socket in `ss -ltn`.
 */
async function startIperfServer(node: LabNode, args: string[], json: boolean, port = IPERF_PORT): Promise<LabProcess> {
  const server = node.spawn(['iperf3', '-s', '-1', '-p', String(port), ...(json ? ['-J'] : ['--forceflush']), ...args]);
  try {
    if (!json) {
      await server.waitFor(/Server listening/, { timeoutMs: 10_000 });
      return server;
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ss = await node.run(['ss', '-ltnH', `sport = :${port}`], { timeoutMs: 5_000 });
      if (ss.stdout.trim() !== '') return server;
      if (server.exitStatus || Date.now() > deadline) {
        throw new Error(`mptcp lab: iperf3 server in ${node.name} did not listen on ${port}:\n${server.output}`);
      }
      await sleep(50);
    }
  } catch (error) {
    await server.stop(2_000);
    throw error;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface GoodputOptions {
  /** Data from hostB to hostA (`-R`). */
  reverse?: boolean;
  /** Measured seconds (`-t`, default 10). */
  seconds?: number;
  /** Seconds omitted at the start (`-O`, default 2). */
  omit?: number;
  /** UDP at this `-b` rate ('5M') instead of TCP. */
  udp?: string;
}

export interface Goodput {
  /** Receiver-side Mbit/s. */
  mbps: number;
  /** TCP: the sender's retransmits (through the proxy: the proxy's leg is not counted). */
  retransmits?: number;
  /** UDP: lost datagrams at the receiver, percent. */
  lostPercent?: number;
  /** The client's whole -J output. */
  json: unknown;
}

function iperfFailure(
  what: string,
  result: { exitCode: number | null; stdout: string; stderr: string; timedOut: boolean },
): Error {
  const json = parseIperfJson(result.stdout);
  const error = at(json, 'error');
  const why = typeof error === 'string' ? error : result.timedOut ? 'timed out' : `exit ${result.exitCode}`;
  return new Error(`mptcp lab: ${what} failed: ${why}\n${result.stderr.trim() || result.stdout.slice(-2000)}`);
}

/** Runs an iperf3 client against a server started in `serverNode`, returns its parsed -J output. */
async function iperfRun(
  what: string,
  serverNode: LabNode,
  serverArgs: string[],
  clientNode: LabNode,
  clientArgs: string[],
  seconds: number,
): Promise<Json> {
  const server = await startIperfServer(serverNode, serverArgs, false);
  try {
    const result = await clientNode.run(['iperf3', '-p', String(IPERF_PORT), '-J', ...clientArgs], {
      timeoutMs: (seconds + 30) * 1000,
    });
    const json = parseIperfJson(result.stdout);
    if (result.exitCode !== 0 || !json || at(json, 'error') !== undefined) throw iperfFailure(what, result);
    return json;
  } finally {
    await server.stop(2_000);
  }
}

/**
 * One iperf3 run from hostA to hostB (10.2.0.2), through whatever routerA/routerB do:
 * receiver-side goodput (`end.sum_received`: for TCP the server's in forward mode, the
 * client's with -R; for UDP the receiving side's rate and loss).
 */
export async function iperfGoodput(lab: Lab, options: GoodputOptions = {}): Promise<Goodput> {
  const { reverse = false, seconds = 10, omit = 2, udp } = options;
  const args = ['-c', ADDR.hostB, '-t', String(seconds), '-O', String(omit), ...(reverse ? ['-R'] : [])];
  if (udp !== undefined) args.push('-u', '-b', udp);
  const json = await iperfRun(
    `iperf3 hostA → hostB${reverse ? ' -R' : ''}${udp ? ` udp ${udp}` : ''}`,
    lab.node(NODES.hostB),
    [],
    lab.node(NODES.hostA),
    args,
    seconds + omit,
  );
  const bps = numAt(json, 'end', 'sum_received', 'bits_per_second');
  if (bps === undefined) throw new Error(`mptcp lab: iperf3 gave no end.sum_received: ${JSON.stringify(json).slice(0, 2000)}`);
  const out: Goodput = { mbps: bps / 1e6, json };
  if (udp !== undefined) {
    const lost = numAt(json, 'end', 'sum_received', 'lost_percent') ?? numAt(json, 'end', 'sum', 'lost_percent');
    if (lost !== undefined) out.lostPercent = lost;
  } else {
    const retransmits = numAt(json, 'end', 'sum_sent', 'retransmits');
    if (retransmits !== undefined) out.retransmits = retransmits;
  }
  return out;
}

export interface BaselineOptions {
  reverse?: boolean;
  seconds?: number;
  omit?: number;
}

/**
 * Plain TCP over path n alone, router to router (no LAN, no proxy, no MPTCP): iperf3
 * server on routerB bound to 10.100.n.2, client on routerA bound to 10.100.n.1 (with the
 * plugin applied, routerA's `from 10.100.n.1` rule keeps it on pN). Receiver-side Mbit/s:
 * the path's own goodput, what an aggregate is compared with.
 */
export async function pathBaseline(lab: Lab, n: number, options: BaselineOptions = {}): Promise<number> {
  checkPath(lab, n);
  const { reverse = false, seconds = 10, omit = 2 } = options;
  const json = await iperfRun(
    `baseline iperf3 over ${pathDev(n)}${reverse ? ' -R' : ''}`,
    lab.node(NODES.routerB),
    ['-B', ADDR.pathB(n)],
    lab.node(NODES.routerA),
    ['-c', ADDR.pathB(n), '-B', ADDR.pathA(n), '-t', String(seconds), '-O', String(omit), ...(reverse ? ['-R'] : [])],
    seconds + omit,
  );
  const bps = numAt(json, 'end', 'sum_received', 'bits_per_second');
  if (bps === undefined) throw new Error(`mptcp lab: baseline gave no end.sum_received: ${JSON.stringify(json).slice(0, 2000)}`);
  return bps / 1e6;
}

/** pathBaseline over path 1: the single-path goodput two equal paths are compared with. */
export function singlePathBaseline(lab: Lab, options: BaselineOptions = {}): Promise<number> {
  return pathBaseline(lab, 1, options);
}

/** One receiver-side interval of a transfer (seconds from the test's start). */
export interface Interval {
  startS: number;
  endS: number;
  mbps: number;
}

export interface TimelineEvent {
  /** Seconds after the client was started. */
  atS: number;
  run: () => Promise<void>;
}

export interface TimelineOptions {
  seconds: number;
  reverse?: boolean;
  /** Report interval (`-i`, default 0.5). */
  intervalS?: number;
  /** Run in order, each when its time has come and the one before has finished. */
  events: TimelineEvent[];
}

export interface Timeline {
  /** Receiver-side intervals (forward: hostB's, reverse: hostA's). */
  intervals: Interval[];
  /** Set when the transfer failed (iperf3's error, e.g. a reset connection). */
  error?: string;
  /** When each event started and finished, seconds after the client was started (events in given order). */
  events: Array<{ atS: number; startedS: number; doneS: number }>;
}

function intervalsOf(json: unknown): Interval[] {
  const list = at(json, 'intervals');
  if (!Array.isArray(list)) return [];
  const out: Interval[] = [];
  for (const item of list) {
    const startS = numAt(item, 'sum', 'start');
    const endS = numAt(item, 'sum', 'end');
    const bps = numAt(item, 'sum', 'bits_per_second');
    if (startS === undefined || endS === undefined || bps === undefined) continue;
    if (at(item, 'sum', 'omitted') === true) continue;
    out.push({ startS, endS, mbps: bps / 1e6 });
  }
  return out;
}

/**
 * A long transfer hostA → hostB (or back with `reverse`) with per-interval receiver-side
 * rates, while `events` run at their times (path down/up, rate changes…). Forward: the
 * intervals are hostB's server's (`--get-server-output`, or the server's own JSON when the
 * client failed); reverse: the client's own. Event errors are thrown after the transfer
 * ended and everything was stopped.
 */
export async function transferTimeline(lab: Lab, options: TimelineOptions): Promise<Timeline> {
  const { seconds, reverse = false, intervalS = 0.5 } = options;
  const events = [...options.events].sort((x, y) => x.atS - y.atS);
  const hostB = lab.node(NODES.hostB);
  const server = await startIperfServer(hostB, ['-i', String(intervalS)], true);
  const done: Timeline['events'] = [];
  let eventError: unknown;
  try {
    const t0 = Date.now();
    const since = () => (Date.now() - t0) / 1000;
    const client = lab
      .node(NODES.hostA)
      .run(
        [
          'iperf3',
          '-p',
          String(IPERF_PORT),
          '-c',
          ADDR.hostB,
          '-t',
          String(seconds),
          '-i',
          String(intervalS),
          '-J',
          ...(reverse ? ['-R'] : ['--get-server-output']),
        ],
        { timeoutMs: (seconds + 30) * 1000 },
      );
    let finished = false;
    void client.finally(() => (finished = true));
    for (const event of events) {
      const wait = t0 + event.atS * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      if (finished) break;
      const startedS = since();
      try {
        await event.run();
      } catch (error) {
        eventError ??= error;
      }
      done.push({ atS: event.atS, startedS, doneS: since() });
    }
    const result = await client;
    const json = parseIperfJson(result.stdout);
    const clientError = at(json, 'error');
    const timeline: Timeline = { intervals: [], events: done };
    if (typeof clientError === 'string') timeline.error = clientError;
    else if (result.exitCode !== 0 || !json) timeline.error = iperfFailure('timeline iperf3', result).message;
    if (reverse) {
      timeline.intervals = intervalsOf(json);
    } else {
      let serverJson: unknown = at(json, 'server_output_json');
      if (!isObject(serverJson)) {
        // the client failed: hostB's server has the receiver's intervals anyway
        await Promise.race([server.exited, sleep(3_000)]);
        await server.stop(2_000);
        serverJson = parseIperfJson(server.output);
      }
      timeline.intervals = intervalsOf(serverJson);
    }
    if (eventError !== undefined) throw eventError;
    return timeline;
  } finally {
    await server.stop(2_000);
  }
}

/**
 * Mean rate over [fromS, toS]: the intervals' rates weighted by how much of each lies in
 * that window; NaN when none does.
 */
export function meanMbps(intervals: readonly Interval[], fromS: number, toS: number): number {
  let bits = 0;
  let time = 0;
  for (const i of intervals) {
    const overlap = Math.min(i.endS, toS) - Math.max(i.startS, fromS);
    if (overlap <= 0) continue;
    bits += i.mbps * overlap;
    time += overlap;
  }
  return time > 0 ? bits / time : Number.NaN;
}

/** Start of the first interval starting at or after `afterS` whose rate is ≥ `mbps`; undefined when none. */
export function firstTimeAbove(intervals: readonly Interval[], afterS: number, mbps: number): number | undefined {
  return intervals.find((i) => i.startS >= afterS && i.mbps >= mbps)?.startS;
}

/**
 * Start of the first interval, from the one starting nearest `afterS` on (at most half an
 * interval before it: an event lands on the interval grid wherever the transfer's start put
 * it), from which every interval for `holdS` seconds — or until `untilS` or the transfer's
 * end, when sooner — has a rate ≥ `mbps`; no interval starting at or after `untilS` counts.
 * With `holdS` 0: the first such interval alone. Undefined when none.
 */
export function firstTimeSustained(
  intervals: readonly Interval[],
  afterS: number,
  mbps: number,
  holdS: number,
  untilS = Number.POSITIVE_INFINITY,
): number | undefined {
  const list = intervals.filter((i) => i.startS >= afterS - (i.endS - i.startS) / 2 && i.startS < untilS);
  for (let k = 0; k < list.length; k++) {
    const start = list[k]!.startS;
    const horizon = Math.min(start + holdS, untilS);
    let held = true;
    for (let j = k; j < list.length && (j === k || list[j]!.startS < horizon); j++) {
      if (list[j]!.mbps < mbps) {
        held = false;
        break;
      }
    }
    if (held) return start;
  }
  return undefined;
}
