// Shared by the lab tests: skip with a clear reason when labs cannot run here.
import { resolve } from 'node:path';
import { type Lab, type LabSpec, type ShapeSpec, labSupported } from '../../src/lab/index.js';

export const support = labSupported();
/** Appended to describe titles, so a skipped suite says why. */
export const skipNote = support.ok ? '' : ` (skipped: ${support.reason})`;
if (!support.ok) console.warn(`lab tests skipped: ${support.reason}`);

export const repoRoot = resolve(import.meta.dirname, '../../..');

/** The three-node client — router — server topology of the lab's own tests. */
export function threeNodes(options: { forwarding?: boolean; shape?: ShapeSpec } = {}): LabSpec {
  return {
    nodes: { client: {}, router: { forwarding: options.forwarding ?? true }, server: {} },
    links: [
      {
        a: 'client',
        b: 'router',
        addresses: { client: ['10.1.0.2/24', 'fd01::2/64'], router: ['10.1.0.1/24', 'fd01::1/64'] },
      },
      {
        a: 'router',
        b: 'server',
        mac: { server: '02:00:00:00:00:02' },
        addresses: { router: ['10.2.0.1/24', 'fd02::1/64'], server: ['10.2.0.2/24', 'fd02::2/64'] },
        ...(options.shape ? { shape: options.shape } : {}),
      },
    ],
    routes: {
      client: ['default via 10.1.0.1', 'default via fd01::1'],
      server: ['default via 10.2.0.1', 'default via fd02::1'],
    },
  };
}

const TCP_SERVER = `
const net = require('node:net'), crypto = require('node:crypto');
const [host, port] = process.argv.slice(1);
const server = net.createServer((socket) => {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  socket.on('data', (d) => { bytes += d.length; hash.update(d); });
  socket.on('end', () => { socket.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })); server.close(); });
});
server.listen(Number(port), host, () => console.log('listening'));
`;

const TCP_CLIENT = `
const net = require('node:net'), crypto = require('node:crypto');
const [host, port, size] = process.argv.slice(1);
const data = crypto.randomBytes(Number(size));
const socket = net.connect({ host, port: Number(port), timeout: 1500 });
socket.on('timeout', () => { console.error('timeout'); process.exit(2); });
socket.on('error', (e) => { console.error(e.message); process.exit(2); });
let reply = '';
socket.on('connect', () => { socket.setTimeout(0); socket.end(data); });
socket.on('data', (d) => (reply += d));
socket.on('end', () => {
  const sent = { bytes: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') };
  console.log(JSON.stringify({ sent, received: JSON.parse(reply) }));
});
`;

/**
 * A TCP transfer of `bytes` random bytes from `from` to a server in `to` listening on
 * `target`: resolves with what was sent and what the server received (count, sha256).
 */
export async function tcpTransfer(lab: Lab, from: string, to: string, target: string, bytes: number, port = 7000) {
  const server = lab.node(to).spawn([process.execPath, '-e', TCP_SERVER, target, String(port)]);
  try {
    await server.waitFor(/listening/);
    return await lab
      .node(from)
      .run([process.execPath, '-e', TCP_CLIENT, target, String(port), String(bytes)], { timeoutMs: 20_000 });
  } finally {
    server.kill('SIGKILL');
    await server.exited;
  }
}
