/**
 * The portal resolver with a real dnsmasq inside a lab router (its own network
 * namespace): a client behind a bridge port asks for the portal's name and any other
 * name, over IPv4 and IPv6, A and AAAA, and always gets the router's address on that
 * bridge. dnsmasq is restarted after `kill -9`, and stop() leaves nothing running.
 */
import { SystemClock } from '@wrtkit/core';
import { createNodePlatform } from '@wrtkit/core/platform/node';
import type { PluginProcesses } from '@wrtkit/sdk';
import { labSupported } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { routerAddresses } from '../../src/dns/addresses.js';
import { PortalResolver } from '../../src/dns/resolver.js';
import { type LogEntry, recordingLogger } from '../portal/helpers.js';

const support = labSupported();
const dnsmasq = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v dnsmasq || ls /usr/sbin/dnsmasq'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
})();
const skip = !support.ok ? support.reason : !dnsmasq ? 'dnsmasq is not installed' : undefined;
if (skip) console.warn(`portal resolver lab test skipped: ${skip}`);

// A DNS client for the client node: builds the queries by hand (RFC 1035), one UDP
// socket, prints [{ name, type, rcode, answers: [{ type, ttl, address }] }] as JSON.
const DNS_CLIENT = `
const dgram = require('node:dgram');
const [server, port, list] = process.argv.slice(1);
const queries = JSON.parse(list);
const TYPES = { A: 1, AAAA: 28 };
function build(id, name, type) {
  const bytes = [id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of name.split('.')) bytes.push(label.length, ...Buffer.from(label, 'ascii'));
  bytes.push(0, 0, TYPES[type], 0, 1);
  return Buffer.from(bytes);
}
function skipName(buf, off) {
  for (;;) {
    const len = buf[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += len + 1;
  }
}
function parse(buf) {
  const rcode = buf[3] & 15, qd = buf.readUInt16BE(4), an = buf.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = skipName(buf, off) + 4;
  const answers = [];
  for (let i = 0; i < an; i++) {
    off = skipName(buf, off);
    const type = buf.readUInt16BE(off), ttl = buf.readUInt32BE(off + 4), len = buf.readUInt16BE(off + 8);
    const rd = buf.subarray(off + 10, off + 10 + len);
    off += 10 + len;
    if (type === 1) answers.push({ type: 'A', ttl, address: [...rd].join('.') });
    if (type === 28) {
      const groups = [];
      for (let j = 0; j < 16; j += 2) groups.push(rd.readUInt16BE(j).toString(16));
      answers.push({ type: 'AAAA', ttl, address: new URL('http://[' + groups.join(':') + ']/').hostname.slice(1, -1) });
    }
  }
  return { id: buf.readUInt16BE(0), rcode, answers };
}
const socket = dgram.createSocket(server.includes(':') ? 'udp6' : 'udp4');
const results = [];
let next = 0;
function ask() {
  if (next === queries.length) { socket.close(); console.log(JSON.stringify(results)); return; }
  const [name, type] = queries[next];
  const id = 1000 + next;
  const timer = setTimeout(() => { console.error('timeout ' + name + ' ' + type); process.exit(2); }, 2000);
  socket.once('message', (msg) => {
    clearTimeout(timer);
    const r = parse(msg);
    results.push({ name, type, rcode: r.rcode, answers: r.answers });
    next++;
    ask();
  });
  socket.send(build(id, name, type), Number(port), server);
}
socket.on('error', (e) => { console.error(e.message); process.exit(2); });
ask();
`;

const QUERIES = [
  ['thisnode.info', 'A'],
  ['thisnode.info', 'AAAA'],
  ['example.org', 'A'],
  ['example.org', 'AAAA'],
  ['connectivitycheck.gstatic.com', 'A'],
];

describe.skipIf(skip !== undefined)(`portal resolver: a real dnsmasq in a lab router${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const lab = useLab({
    nodes: { client: {}, router: {} },
    links: [{ a: 'client', b: 'router', addresses: { client: ['10.1.0.2/24', 'fd01::2/64'] } }],
    bridges: [{ node: 'router', name: 'br-lan', ports: ['client'], addresses: ['10.1.0.1/24', 'fd01::1/64'] }],
  });

  async function ask(server: string, queries = QUERIES) {
    const deadline = Date.now() + 8000;
    for (;;) {
      const r = await lab()
        .node('client')
        .run([process.execPath, '-e', DNS_CLIENT, server, '59053', JSON.stringify(queries)], { timeoutMs: 10_000 });
      if (r.exitCode === 0)
        return JSON.parse(r.stdout) as Array<{
          name: string;
          type: string;
          rcode: number;
          answers: Array<{ type: string; ttl: number; address: string }>;
        }>;
      if (Date.now() > deadline) throw new Error(`DNS query to ${server} failed: ${r.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200)); // dnsmasq still starting
    }
  }

  it('answers every name with the router, over IPv4 and IPv6; restarts after kill -9; stops clean', async () => {
    const platform = await createNodePlatform([]);
    const router = lab().node('router');
    const inRouter = (argv: readonly string[]) => ['ip', 'netns', 'exec', router.netns, ...argv];
    const processes: PluginProcesses = {
      run: (argv, options) => platform.processes.run(inRouter(argv), options),
      spawn: (argv, options) => platform.processes.spawn(inRouter(argv), options),
    };
    const logs: LogEntry[] = [];
    const resolver = new PortalResolver(
      processes,
      platform.fs,
      new SystemClock(platform.timers),
      recordingLogger(logs),
      lab().tempDir('dns'),
    );
    try {
      // the catch interface is a bridge port: the address is the bridge's
      const addresses = await routerAddresses(processes, ['eth-client']);
      expect(addresses).toEqual({ ipv4: '10.1.0.1', ipv6: 'fd01::1' });
      const settings = { port: 59053, portalDomain: 'thisnode.info', ...addresses };
      resolver.start(settings);

      const expected = [
        { name: 'thisnode.info', type: 'A', rcode: 0, answers: [{ type: 'A', ttl: 0, address: '10.1.0.1' }] },
        { name: 'thisnode.info', type: 'AAAA', rcode: 0, answers: [{ type: 'AAAA', ttl: 0, address: 'fd01::1' }] },
        { name: 'example.org', type: 'A', rcode: 0, answers: [{ type: 'A', ttl: 0, address: '10.1.0.1' }] },
        { name: 'example.org', type: 'AAAA', rcode: 0, answers: [{ type: 'AAAA', ttl: 0, address: 'fd01::1' }] },
        { name: 'connectivitycheck.gstatic.com', type: 'A', rcode: 0, answers: [{ type: 'A', ttl: 0, address: '10.1.0.1' }] },
      ];
      expect(await ask('10.1.0.1')).toEqual(expected);
      expect(await ask('fd01::1')).toEqual(expected);

      // kill -9: back after the first backoff step (1 s)
      const first = resolver.pid as number;
      expect(first).toBeGreaterThan(0);
      process.kill(first, 'SIGKILL');
      const deadline = Date.now() + 5000;
      while ((resolver.pid === undefined || resolver.pid === first) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(resolver.pid).toBeGreaterThan(0);
      expect(resolver.pid).not.toBe(first);
      expect(await ask('10.1.0.1', [['example.org', 'A']])).toEqual([expected[2]]);
      expect(logs.some((l) => l.message === 'portal resolver: dnsmasq exited')).toBe(true);

      // the same settings again: no restart
      const second = resolver.pid;
      expect(resolver.update({ ...settings })).toBe(false);
      expect(resolver.pid).toBe(second);
    } finally {
      await resolver.stop();
    }
    expect(resolver.pid).toBeUndefined();
    expect(router.pids()).toEqual([]);
  });
});
