// The lab for pirania.test.ts: pirania-nftables' portal lab (two clients on the router's
// br-lan, an "internet" node; portal-lab.ts) with ONE wrtkit host on the router running
// both real plugins — pirania-nftables (the nftables gate, the portal, dnsmasq) and
// offload (which runs the real offloadd, tc on the bridge ports and the uplink) — plus an
// fw4-like ruleset, a TCP echo server on the internet and a paced TCP client that
// reports how many bytes went out and came back, as it goes.
//
//   client1 ─ eth-client1 ┐
//                         ├ br-lan [router: wrtkit host: pirania-nftables + offload → offloadd] eth-internet ── internet
//   client2 ─ eth-client2 ┘
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HostEngine, Lab, LabHost, LabProcess } from '@wrtkit/sdk/lab';
import { piraniaConfig } from '../../../pirania-nftables/test/lab/portal-lab.js';
import { type Bundles, type OffloadPaths, REPO, offloadConfig } from './offload-lab.js';

/** The router's devices the datapath attaches to: the bridge's ports (where client packets really arrive) and the uplink. */
export const OFFLOAD_INTERFACES = ['eth-client1', 'eth-client2', 'eth-internet'];

/**
 * What OpenWrt's fw4 does for forwarded traffic, reduced: accept established, masquerade
 * IPv4 out of the uplink (so the offloaded flows carry SNAT, as on a real router). Its
 * `accept` does not override pirania's `drop`: each table's base chain decides on its own.
 */
export const FW4_RULES = [
  'table inet fw4 {',
  '  chain forward {',
  '    type filter hook forward priority filter;',
  '    ct state established,related accept;',
  '  }',
  '  chain srcnat {',
  '    type nat hook postrouting priority srcnat;',
  '    meta nfproto ipv4 oifname "eth-internet" masquerade;',
  '  }',
  '}',
].join('\n');

/** The host with both plugins, freshly built (unminified) into a dir of the test's own. */
export function buildBundles(label: string): Bundles {
  const out = join(REPO, '.cache/offload-test', `pirania-${label}`);
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      join(REPO, 'scripts/build.mjs'),
      '--out',
      out,
      '--quiet',
      '--no-minify',
      join(REPO, 'plugins/offload'),
      join(REPO, 'plugins/pirania-nftables'),
    ],
    { stdio: 'inherit' },
  );
  return { hostBundle: join(out, 'wrtkit.js'), pluginDir: join(out, 'plugins') };
}

/**
 * Starts the host on the router with /etc/config/offload (offloadd, tc on OFFLOAD_INTERFACES)
 * and /etc/config/pirania (portal-lab's: the bridge ports are caught), and waits until both
 * plugins are up and the portal listens.
 */
export async function startRouterHost(
  lab: Lab,
  root: string,
  bundles: Bundles,
  paths: OffloadPaths,
  engine: HostEngine = 'node',
): Promise<LabHost> {
  mkdirSync(join(root, 'pirania'), { recursive: true });
  const host = await lab.startHost('router', {
    root,
    engine,
    ...bundles,
    // offloadd by name from the build dir (permissions.exec allows the name); nft, dnsmasq from the system
    env: { PATH: `${paths.daemonDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    config: {
      wrtkit: "config wrtkit 'main'\n\toption log_level 'debug'\n",
      offload: offloadConfig(paths, OFFLOAD_INTERFACES),
      pirania: piraniaConfig(root),
    },
  });
  await host.waitForLog(/ready plugins=2 failed=0/, { timeoutMs: 30_000 });
  await host.waitForLog(/portal up/, { timeoutMs: 20_000 });
  return host;
}

/**
 * TCP client: streams 16 KiB every 4 ms to host:port for ms milliseconds (paced, so the
 * connection lives long enough to be offloaded), reads the echo, and prints
 * `CONNECTED <local port>`, then `PROGRESS <sent> <received>` at once and every 100 ms (sent: handed
 * to the socket; received: echo bytes back). It never gives up on its own: a stalled
 * connection keeps printing the same `received`.
 */
export const PROGRESS_CLIENT = `
const net = require('net');
const [host, port, ms] = process.argv.slice(1);
let sent = 0, received = 0;
const s = net.connect({ host, port: Number(port) }, () => {
  console.log('CONNECTED ' + s.localPort);
  const report = () => console.log('PROGRESS ' + sent + ' ' + received);
  report();
  setInterval(report, 100);
  const end = Date.now() + Number(ms);
  const tick = () => {
    if (Date.now() >= end) return;
    const buf = Buffer.alloc(16384, sent & 255);
    sent += buf.length;
    if (s.write(buf)) setTimeout(tick, 4); else s.once('drain', () => setTimeout(tick, 4));
  };
  tick();
});
s.on('data', (c) => { received += c.length; });
s.on('error', (e) => console.log('ERROR ' + e.message));
`;

export interface Progress {
  sent: number;
  received: number;
}

/** The client's latest PROGRESS line. */
export function progressOf(proc: LabProcess): Progress {
  const last = proc.matching(/^PROGRESS \d+ \d+$/).at(-1);
  if (!last) throw new Error(`no PROGRESS from the client yet; output:\n${proc.output}`);
  const [, sent, received] = last.split(' ');
  return { sent: Number(sent), received: Number(received) };
}
