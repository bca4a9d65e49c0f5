// Helpers for test/lab/gate.test.ts: run NftGate inside a lab node, small TCP/UDP
// servers standing in for the portal, its resolver and an internet host, and a prober
// that tries many connections at once from a client and says what happened to each.
// Servers and prober are node programs (`process.execPath -e`), so nothing beyond node,
// iproute2 and nft is needed.
import type { Clock, Logger, PluginProcesses, ProcessResult, RunOptions } from '@wrtkit/sdk';
import type { LabNode, LabProcess } from '@wrtkit/sdk/lab';

/** PluginProcesses that runs every program inside the node (`ip netns exec <ns> …`). */
export function nodeProcesses(node: LabNode): PluginProcesses & { argvs: string[] } {
  const argvs: string[] = [];
  return {
    argvs,
    async run(argv: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
      argvs.push(argv.join(' '));
      const started = performance.now();
      const r = await node.run(argv, {
        ...(options.input !== undefined ? { input: options.input } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      });
      return {
        argv,
        exitCode: r.exitCode,
        signal: null,
        stdout: r.stdout,
        stderr: r.stderr,
        timedOut: r.timedOut,
        durationMs: performance.now() - started,
      };
    },
    spawn() {
      throw new Error('nodeProcesses: spawn is not used by the gate');
    },
  };
}

/** The wall clock (the kernel's timeouts run on real time). */
export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function quietLogger(lines: string[] = []): Logger {
  const logger: Logger = {
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
    debug: () => {},
    child: () => logger,
  };
  return logger;
}

/**
 * Listens on [::] (IPv4 too) on every given port. TCP: writes the label and closes. UDP:
 * answers `<label>:<what was sent>`. Prints "ready" once all listen.
 */
const SERVERS = `
const net = require('node:net'), dgram = require('node:dgram');
const spec = JSON.parse(process.argv[1]);
let pending = Object.keys(spec.tcp || {}).length + Object.keys(spec.udp || {}).length;
const up = () => { if (--pending === 0) console.log('ready'); };
for (const [port, label] of Object.entries(spec.tcp || {})) {
  net.createServer((s) => { s.on('error', () => {}); s.end(label); }).listen({ port: Number(port), host: '::', ipv6Only: false }, up);
}
for (const [port, label] of Object.entries(spec.udp || {})) {
  const u = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  u.on('message', (m, r) => u.send(label + ':' + m, r.port, r.address));
  u.bind(Number(port), '::', up);
}
`;

export interface ServerSpec {
  tcp?: Record<number, string>;
  udp?: Record<number, string>;
}

export async function startServers(node: LabNode, spec: ServerSpec): Promise<LabProcess> {
  const p = node.spawn([process.execPath, '-e', SERVERS, JSON.stringify(spec)]);
  await p.waitFor(/^ready$/, { timeoutMs: 10_000 });
  return p;
}

export interface Probe {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  /** How long to wait for an answer (default 800 ms: long enough on a LAN, short for a drop). */
  timeoutMs?: number;
}

/** What happened: the answer, or `refused` (a TCP reset), `timeout` (dropped), another error code. */
export interface ProbeResult {
  answer?: string;
  error?: string;
  ms: number;
}

const PROBER = `
const net = require('node:net'), dgram = require('node:dgram');
const probes = JSON.parse(process.argv[1]);
const one = (p) => new Promise((resolve) => {
  const t0 = Date.now();
  let done = false;
  const finish = (r) => { if (!done) { done = true; r.ms = Date.now() - t0; resolve(r); } };
  const limit = p.timeoutMs || 800;
  if (p.proto === 'tcp') {
    let data = '';
    const s = net.connect({ host: p.host, port: p.port });
    const timer = setTimeout(() => { s.destroy(); finish({ error: 'timeout' }); }, limit);
    s.on('data', (d) => (data += d));
    s.on('end', () => { clearTimeout(timer); s.destroy(); finish({ answer: data }); });
    s.on('error', (e) => { clearTimeout(timer); finish({ error: e.code === 'ECONNREFUSED' ? 'refused' : e.code || e.message }); });
  } else {
    const u = dgram.createSocket(p.host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => { u.close(); finish({ error: 'timeout' }); }, limit);
    u.on('message', (m) => { clearTimeout(timer); u.close(); finish({ answer: String(m) }); });
    u.on('error', (e) => { clearTimeout(timer); u.close(); finish({ error: e.code || e.message }); });
    u.send('q', p.port, p.host);
  }
});
Promise.all(probes.map(one)).then((r) => process.stdout.write(JSON.stringify(r)));
`;

/** Runs all probes at once from `node`; results in the same order. */
export async function probe(node: LabNode, probes: Probe[]): Promise<ProbeResult[]> {
  const r = await node.run([process.execPath, '-e', PROBER, JSON.stringify(probes)], { timeoutMs: 20_000 });
  if (r.exitCode !== 0) throw new Error(`prober in ${node.name} failed (${String(r.exitCode)}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeResult[];
}

/** A probe result as one short word, for readable expectations: the answer or the error. */
export const outcome = (r: ProbeResult): string => r.answer ?? r.error ?? '?';
