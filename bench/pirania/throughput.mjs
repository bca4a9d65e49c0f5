#!/usr/bin/env node
// pirania-nftables: forwarding throughput of an authorized client through the gate with
// 10 and with 10,000 MACs in pirania-auth-macs (a hash set: the lookup should not care),
// and without any pirania tables as the baseline. iperf3 TCP from a client through a
// router to a server, all lab namespaces of its own (root needed), torn down afterwards.
// Configurations alternate within each round, in a rotating order, so drift on a shared
// machine spreads over all of them; medians over rounds.
//
//   node bench/pirania/throughput.mjs [--rounds 3] [--seconds 3] [--macs 10000]
import { median, range } from '../lib/stats.mjs';
import { authorizations, fmtRatio, header, loadBenchLib, log, macs, requireLab } from './lib.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const rounds = Number(option('rounds', 3));
const seconds = Number(option('seconds', 3));
const many = Number(option('macs', 10_000));

log('bench: building the generator and the lab into .cache/bench');
const lib = await loadBenchLib();
requireLab(lib, ['nft', 'iperf3']);

const CLIENT_MAC = '02:13:00:00:00:11';
const SERVER = '198.51.100.2';

const lab = await lib.createLab({
  nodes: { client: {}, router: { forwarding: true }, server: {} },
  links: [
    { a: 'client', b: 'router', mac: { client: CLIENT_MAC }, addresses: { client: ['10.13.0.11/16'], router: ['10.13.0.1/16'] } },
    { a: 'router', b: 'server', addresses: { router: ['198.51.100.1/24'], server: ['198.51.100.2/24'] } },
  ],
  routes: { client: ['default via 10.13.0.1'], server: ['10.13.0.0/16 via 198.51.100.1'] },
});
try {
  const router = lab.node('router');
  const config = {
    catchInterfaces: [router.ifname('client')],
    catchBridgedInterfaces: [],
    allowlistIpv4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
    allowlistIpv6: ['fc00::/7', 'fe80::/64'],
    portalPort: 59080,
    dnsPort: 59053,
  };
  const now = Date.now();
  const expiresAt = now / 1000 + 3600;
  const gateWith = (others) => lib.fullRuleset(config, authorizations([...macs(others), CLIENT_MAC], expiresAt), now);
  const configs = [
    { name: 'baseline', label: 'no pirania tables (baseline)', script: lib.removeScript() },
    { name: 'few', label: 'gate, 10 MACs in pirania-auth-macs', script: gateWith(9) },
    { name: 'many', label: `gate, ${many.toLocaleString('en')} MACs in pirania-auth-macs`, script: gateWith(many - 1) },
  ];
  const apply = (script) => router.exec(['nft', '-f', '-'], { input: script });

  const server = lab.node('server').spawn(['iperf3', '-s', '--forceflush']);
  await server.waitFor(/Server listening/);
  const iperf = async (extra = []) => {
    const r = await lab
      .node('client')
      .run(['iperf3', '-c', SERVER, '-t', String(seconds), '-J', ...extra], { timeoutMs: (seconds + 15) * 1000 });
    let json;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      throw new Error(`iperf3 printed no JSON (${r.exitCode}): ${r.stderr}`);
    }
    if (json.error) throw new Error(`iperf3: ${json.error}`);
    return json.end.sum_received.bits_per_second;
  };

  // sanity: the gate really gates (the client's MAC missing: no connection), then lets it through
  await apply(lib.fullRuleset(config, authorizations(macs(many), expiresAt), now));
  const blocked = await lab
    .node('client')
    .run(['iperf3', '-c', SERVER, '-t', '1', '--connect-timeout', '700'], { timeoutMs: 10_000 });
  if (blocked.exitCode === 0) throw new Error('sanity: an unauthorized client got through the gate');

  const results = Object.fromEntries(configs.map((c) => [c.name, []]));
  log(`bench: ${rounds} rounds × ${configs.length} configurations × ${seconds} s of iperf3`);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < configs.length; k++) {
      const c = configs[(k + r) % configs.length];
      await apply(c.script);
      results[c.name].push(await iperf());
    }
  }
  await apply(lib.removeScript());

  const gbit = (bps) => `${(bps / 1e9).toFixed(2)} Gbit/s`;
  const base = median(results.baseline);
  const lines = [
    header(`pirania-nftables: forwarding throughput of an authorized client (iperf3 TCP, ${seconds} s × ${rounds} rounds)`),
    '',
    `${''.padEnd(44)} ${'median'.padStart(13)}   ${'min–max'.padEnd(27)} vs baseline`,
    ...configs.map((c) => {
      const { min, max } = range(results[c.name]);
      return `${c.label.padEnd(44)} ${gbit(median(results[c.name])).padStart(13)}   ${`${(min / 1e9).toFixed(2)}–${gbit(max)}`.padEnd(27)} ${fmtRatio(median(results[c.name]) / base)}`;
    }),
    '',
    `${many.toLocaleString('en')} vs 10 MACs: ${fmtRatio(median(results.many) / median(results.few))} (1 = the set size costs nothing)`,
  ];
  console.log(lines.join('\n'));
} finally {
  await lab.destroy();
}
