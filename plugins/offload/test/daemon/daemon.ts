// Drives native/offloadd in a lab router: builds it (and the datapath), starts it in the
// router's namespace with its maps pinned on a bpffs the test mounts (so they outlive a
// killed daemon), and speaks its control protocol (newline-delimited JSON on a unix
// socket) the way the TypeScript plugin will.
//
//   client ── lan [router: offloadd, nft fw4-like NAT] wan  ── eth0 server
//                                                      wan2 ── eth1
//   10.1.0.12  10.1.0.1                          10.2.0.1 / 10.3.0.1   10.2.0.2 / 10.3.0.2
//   fd01::12   fd01::1                           fd02::1 / fd03::1     fd02::2 / fd03::2
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Lab, LabProcess, LabSpec } from '@wrtkit/sdk/lab';
import { OBJECT, REPO, buildDatapath } from '../datapath/runner.js';

export const DAEMON_DIR = join(REPO, 'native/offloadd');
export const DAEMON_BUILD_DIR = process.env.OFFLOADD_BUILD_DIR ?? join(REPO, '.cache/native/offloadd');
export const DAEMON = join(DAEMON_BUILD_DIR, 'offloadd');

export const CLIENT_MAC = '02:0f:00:00:01:02';
export const SERVER_MAC = '02:0f:00:00:02:02';
export const SERVER_MAC2 = '02:0f:00:00:03:02';

export const ADDR = {
  4: { client: '10.1.0.12', routerLan: '10.1.0.1', routerWan: '10.2.0.1', server: '10.2.0.2', server2: '10.3.0.2' },
  6: { client: 'fd01::12', routerLan: 'fd01::1', routerWan: 'fd02::1', server: 'fd02::2', server2: 'fd03::2' },
} as const;

export const LAB_SPEC: LabSpec = {
  nodes: {
    client: {},
    router: { forwarding: true },
    // the route-change test sends to 10.2.0.2 over the second link
    server: { sysctl: { 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 } },
  },
  links: [
    {
      a: 'client',
      b: 'router',
      names: { client: 'eth0', router: 'lan' },
      mac: { client: CLIENT_MAC },
      addresses: { client: ['10.1.0.12/24', 'fd01::12/64'], router: ['10.1.0.1/24', 'fd01::1/64'] },
    },
    {
      a: 'router',
      b: 'server',
      names: { router: 'wan', server: 'eth0' },
      mac: { server: SERVER_MAC },
      addresses: { router: ['10.2.0.1/24', 'fd02::1/64'], server: ['10.2.0.2/24', 'fd02::2/64'] },
    },
    {
      a: 'router',
      b: 'server',
      names: { router: 'wan2', server: 'eth1' },
      mac: { server: SERVER_MAC2 },
      addresses: { router: ['10.3.0.1/24', 'fd03::1/64'], server: ['10.3.0.2/24', 'fd03::2/64'] },
    },
  ],
  routes: {
    client: ['default via 10.1.0.1', 'default via fd01::1'],
    server: ['default via 10.2.0.1', 'default via fd02::1'],
  },
};

/** What OpenWrt's fw4 does for forwarded traffic, reduced: accept established, masquerade IPv4 out of the wan. */
export const FW4_RULES = [
  'table inet fw4 {',
  '  chain forward {',
  '    type filter hook forward priority filter;',
  '    ct state established,related accept;',
  '  }',
  '  chain srcnat {',
  '    type nat hook postrouting priority srcnat;',
  '    meta nfproto ipv4 oifname { "wan", "wan2" } masquerade;',
  '  }',
  '}',
].join('\n');

/** make -C native/offloadd, and the datapath objects. */
export function buildDaemon(): void {
  buildDatapath();
  execFileSync('make', ['-s', '-C', DAEMON_DIR, `BUILD_DIR=${DAEMON_BUILD_DIR}`], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface ControlReply {
  id: number | null;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

/** A client of the control socket: one request line, one response line. */
export class Control {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: ControlReply) => void>();
  private readonly unmatched: ControlReply[] = [];

  private constructor(private readonly socket: Socket) {
    createInterface({ input: socket }).on('line', (line) => {
      const reply = JSON.parse(line) as ControlReply;
      const resolve = reply.id === null ? undefined : this.waiting.get(reply.id);
      if (resolve && reply.id !== null) {
        this.waiting.delete(reply.id);
        resolve(reply);
      } else {
        this.unmatched.push(reply);
      }
    });
  }

  static connect(path: string): Promise<Control> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once('connect', () => resolve(new Control(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a raw line; the reply to a line without a usable id is the next unmatched one. */
  async raw(line: string): Promise<ControlReply> {
    const before = this.unmatched.length;
    this.socket.write(`${line}\n`);
    for (let i = 0; i < 200 && this.unmatched.length === before; i++) await sleep(10);
    const reply = this.unmatched.shift();
    if (!reply) throw new Error(`no reply to ${line}`);
    return reply;
  }

  request(cmd: string, args?: Record<string, unknown>): Promise<ControlReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`offloadd: no reply to ${cmd} in 10 s`)), 10_000);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.socket.write(`${JSON.stringify(args ? { id, cmd, args } : { id, cmd })}\n`);
    });
  }

  /** Like request(), but a failed command throws with the daemon's error. */
  async ok<T = Record<string, unknown>>(cmd: string, args?: Record<string, unknown>): Promise<T> {
    const reply = await this.request(cmd, args);
    if (!reply.ok) throw new Error(`offloadd ${cmd}: ${reply.error?.code}: ${reply.error?.message}`);
    return reply.result as T;
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface FlowEntry {
  id: number;
  dir: 'original' | 'reply';
  key: { ifname: string; vlan: number; family: number; proto: string; src: string; sport: number; dst: string; dport: number };
  nat: { src?: string; sport?: number; dst?: string; dport?: number } | null;
  egress: { ifname: string; l3_ifname: string; dst_mac: string; src_mac: string; vlan: number; mtu: number };
  counters: { packets: number; bytes: number; idle_ms: number };
}

export interface Status {
  interfaces: Array<{ ifname: string; mode: string; attached: string }>;
  flows: number;
  offloaded_total: number;
  stats: Record<string, number>;
  events: { seen: number; offloaded: number; refused: Record<string, number>; removed: number };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A running offloadd in the router, with its control client and its pins on the test's bpffs. */
export class Daemon {
  private constructor(
    readonly proc: LabProcess,
    readonly control: Control,
    readonly pinDir: string,
  ) {}

  static async start(lab: Lab, bpffs: string, extra: string[] = []): Promise<Daemon> {
    const dir = lab.tempDir('offloadd');
    const socket = join(dir, 'control.sock');
    const pinDir = join(bpffs, 'offload');
    const proc = lab
      .node('router')
      .spawn([DAEMON, '--control', socket, '--object', OBJECT, '--pin-dir', pinDir, '--heartbeat-timeout-ms', '1000', ...extra]);
    await proc.waitFor(/info offloadd: ready/, { timeoutMs: 15_000 });
    return new Daemon(proc, await Control.connect(socket), pinDir);
  }

  flows(): Promise<FlowEntry[]> {
    return this.control.ok<{ flows: FlowEntry[] }>('flows').then((r) => r.flows);
  }

  status(): Promise<Status> {
    return this.control.ok<Status>('status');
  }

  async stop(): Promise<number | null> {
    this.control.close();
    return (await this.proc.stop()).code;
  }
}

/** A bpffs of the test's own (the daemon's pins survive it, bpftool can read them). */
export function mountBpffs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wrtkit-offloadd-bpffs-'));
  execFileSync('mount', ['-t', 'bpf', 'bpf', dir]);
  return dir;
}

export function unmountBpffs(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir]);
  } catch {
    // not mounted
  }
  rmSync(dir, { recursive: true, force: true });
}

const hostU64 = (b: Buffer) => (endianness() === 'LE' ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0));

/** The datapath's stats from the pinned map (summed over CPUs, in enum offload_stat order), read with bpftool. */
export function pinnedStats(pinDir: string): number[] {
  const out = execFileSync('bpftool', ['-j', 'map', 'dump', 'pinned', join(pinDir, 'stats')], { encoding: 'utf8' });
  type Value = number | string[];
  const entries = JSON.parse(out) as Array<{ values?: Array<{ value: Value }>; formatted?: { values: Array<{ value: Value }> } }>;
  // raw bytes (host order) without BTF, numbers with it
  const decode = (v: Value) => (typeof v === 'number' ? v : Number(hostU64(Buffer.from(v.map((b) => parseInt(b, 16))))));
  return entries.map((e) => (e.formatted?.values ?? e.values ?? []).reduce((sum, v) => sum + decode(v.value), 0));
}

/** Both directions of the connection the client at address:port opened (matched by its original direction). */
export function flowsOf(flows: FlowEntry[], proto: 'tcp' | 'udp', address: string, port: number): FlowEntry[] {
  const original = flows.find(
    (f) => f.dir === 'original' && f.key.proto === proto && f.key.src === address && f.key.sport === port,
  );
  return original ? flows.filter((f) => f.id === original.id) : [];
}

// ---- traffic: small Node programs run inside the lab nodes -----------------------------------

/**
 * TCP echo server on every address: prints `PEER <address> <port>` per connection (what the
 * server sees as the client), echoes everything.
 */
export const TCP_ECHO_SERVER = `
const net = require('net');
const port = Number(process.argv[1]);
net.createServer((s) => {
  console.log('PEER ' + s.remoteAddress.replace(/^::ffff:/, '') + ' ' + s.remotePort);
  s.on('error', () => {});
  s.pipe(s);
}).listen({ port, host: '::', ipv6Only: false }, () => console.log('LISTENING'));
`;

/**
 * TCP client: streams deterministic data to host:port for ms milliseconds (paced, so the
 * connection lives long enough to be offloaded), reads the echo, prints
 * `CONNECTED <local port>` and at the end `RESULT {ok, sent, received}` (ok: the echo is
 * byte for byte what was sent, by SHA-256).
 */
export const TCP_CLIENT = `
const net = require('net'), crypto = require('crypto');
const [host, port, ms] = process.argv.slice(1);
const sent = crypto.createHash('sha256'), got = crypto.createHash('sha256');
let nSent = 0, nGot = 0, word = 0, done = false;
const finish = (extra) => {
  if (done) return; done = true;
  const ok = nSent === nGot && sent.digest('hex') === got.digest('hex');
  console.log('RESULT ' + JSON.stringify({ ok, sent: nSent, received: nGot, ...extra }));
};
const s = net.connect({ host, port: Number(port) }, () => {
  console.log('CONNECTED ' + s.localPort);
  const end = Date.now() + Number(ms);
  const tick = () => {
    if (Date.now() >= end) return s.end();
    const buf = Buffer.alloc(16384);
    for (let k = 0; k < buf.length; k += 4) buf.writeUInt32BE((word++ * 2654435761) >>> 0, k);
    sent.update(buf); nSent += buf.length;
    if (s.write(buf)) setTimeout(tick, 4); else s.once('drain', () => setTimeout(tick, 4));
  };
  tick();
});
s.on('data', (c) => { got.update(c); nGot += c.length; });
s.on('end', () => finish({}));
s.on('error', (e) => finish({ error: e.message }));
setTimeout(() => { finish({ error: 'timeout' }); process.exit(1); }, Number(ms) + 20000);
`;

/**
 * Many TCP connections at once: opens n to host:port together, prints `PORTS <p,…>` and
 * `CONNECTED <n>` when all are up, sends 64 bytes on each every 100 ms for ms
 * milliseconds, then ends them; `RESULT {ok, echoed}` (echoed: connections whose every
 * byte came back).
 */
export const TCP_BURST = `
const net = require('net');
const [host, port, n, ms] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const conns = [];
let up = 0;
for (let i = 0; i < n; i++) {
  const c = { sent: 0, got: 0, s: net.connect({ host, port }) };
  c.s.on('connect', () => { if (++up === n) start(); });
  c.s.on('data', (d) => (c.got += d.length));
  c.s.on('error', () => {});
  conns.push(c);
}
function start() {
  console.log('PORTS ' + conns.map((c) => c.s.localPort).join(','));
  console.log('CONNECTED ' + n);
  const timer = setInterval(() => conns.forEach((c) => { c.s.write(Buffer.alloc(64, 7)); c.sent += 64; }), 100);
  setTimeout(() => {
    clearInterval(timer);
    setTimeout(() => {
      const echoed = conns.filter((c) => c.got === c.sent).length;
      console.log('RESULT ' + JSON.stringify({ ok: echoed === n, echoed }));
      conns.forEach((c) => c.s.end());
    }, 1000);
  }, ms);
}
setTimeout(() => { console.log('RESULT ' + JSON.stringify({ ok: false, up })); process.exit(1); }, ms + 20000);
`;

/** UDP echo server on one address: prints `PEER <address> <port>` per new peer, echoes every datagram. */
export const UDP_ECHO_SERVER = `
const dgram = require('dgram');
const [host, port] = process.argv.slice(1);
const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
const peers = new Set();
s.on('message', (m, r) => {
  const k = r.address + ' ' + r.port;
  if (!peers.has(k)) { peers.add(k); console.log('PEER ' + k); }
  s.send(m, r.port, r.address);
});
s.bind(Number(port), host, () => console.log('LISTENING'));
`;

/**
 * UDP client: one numbered datagram every 5 ms for ms milliseconds, counts the echoes that
 * come back intact; prints `BOUND <local port>` and `RESULT {ok, sent, received}`.
 */
export const UDP_CLIENT = `
const dgram = require('dgram'), crypto = require('crypto');
const [host, port, ms] = process.argv.slice(1);
const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
const payload = (i) => { const b = Buffer.alloc(1000); b.writeUInt32BE(i, 0); crypto.createHash('sha256').update(String(i)).digest().copy(b, 4); return b; };
let sent = 0, received = 0, bad = 0;
s.on('message', (m) => { const i = m.readUInt32BE(0); if (m.equals(payload(i))) received++; else bad++; });
s.bind(0, () => {
  console.log('BOUND ' + s.address().port);
  const end = Date.now() + Number(ms);
  const tick = () => {
    if (Date.now() >= end) return setTimeout(() => {
      console.log('RESULT ' + JSON.stringify({ ok: bad === 0 && received >= sent * 0.95, sent, received, bad }));
      s.close();
    }, 500);
    s.send(payload(sent++), Number(port), host);
    setTimeout(tick, 5);
  };
  tick();
});
`;

export interface TransferResult {
  ok: boolean;
  sent: number;
  received: number;
  error?: string;
}

/** Waits for a client's RESULT line. */
export async function result(proc: LabProcess, timeoutMs = 40_000): Promise<TransferResult> {
  const [line] = await proc.waitFor(/^RESULT /, { timeoutMs });
  return JSON.parse(line!.slice('RESULT '.length)) as TransferResult;
}

/** The local port a client printed (`CONNECTED <port>` / `BOUND <port>`). */
export async function localPort(proc: LabProcess): Promise<number> {
  const [line] = await proc.waitFor(/^(CONNECTED|BOUND) \d+/, { timeoutMs: 10_000 });
  return Number(line!.split(' ')[1]);
}
