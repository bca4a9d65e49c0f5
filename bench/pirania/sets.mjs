#!/usr/bin/env node
// pirania-nftables: what it costs to put 10,000 authorized MACs into the gate, as ONE
// `nft -f -` transaction (what NftGate does: reconcile, refill) against one `nft add
// element` process per MAC (what a script-based portal does), plus the fast path of one
// authorization into a set that already holds 10,000, next to a no-op nft transaction as
// the baseline (the floor of any nft process). Everything runs inside a lab namespace of
// its own (root needed), timed by a runner inside that namespace, and is torn down.
//
//   node bench/pirania/sets.mjs [--rounds 5] [--macs 10000] [--per-element 1000|all]
//
// --per-element 1000 (default): 1,000 processes on a small set and 1,000 on a set of
// macs−1,000 elements; the total for all MACs is extrapolated from their mean (printed as
// such). --per-element all: really runs one process per MAC.
import fs from 'node:fs';
import path from 'node:path';
import { median, range } from '../lib/stats.mjs';
import { authorizations, fmtMs, fmtRatio, header, loadBenchLib, log, macs, requireLab, runJobs } from './lib.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const rounds = Number(option('rounds', 5));
const total = Number(option('macs', 10_000));
const perElement = option('per-element', '1000');
const window = perElement === 'all' ? total : Math.min(Number(perElement), total);

log('bench: building the generator and the lab into .cache/bench');
const lib = await loadBenchLib();
requireLab(lib, ['nft']);

const config = {
  catchInterfaces: ['br-lan'],
  catchBridgedInterfaces: ['wlan0-ap'],
  allowlistIpv4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
  allowlistIpv6: ['fc00::/7', 'fe80::/64'],
  portalPort: 59080,
  dnsPort: 59053,
};

const lab = await lib.createLab({ nodes: { router: {} } });
try {
  const dir = lab.tempDir('pirania-sets');
  const now = Date.now();
  const expiresAt = now / 1000 + 3600;
  const all = macs(total);
  const file = (name, text) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const full = (list) => lib.fullRuleset(config, authorizations(list, expiresAt), now);
  const addElement = (mac) => ['nft', 'add', 'element', 'inet', lib.TABLE, lib.SET_AUTH_MACS, `{ ${mac} timeout 1h }`];
  const nftF = ['nft', '-f', '-'];

  const jobs = [];
  const fullEmpty = file('full-0.nft', full([]));
  jobs.push({ name: 'setup', argv: nftF, input: fullEmpty });
  const noop = file('noop.nft', `add table inet ${lib.TABLE}\n`);
  const reconcile = file('full-all.nft', full(all));
  const refill = file('refill-all.nft', lib.refillScript(authorizations(all, expiresAt), now));
  const extra = macs(rounds * 10, 1 << 24); // fresh MACs for the fast path, never in the set before
  for (let r = 0; r < rounds; r++) {
    jobs.push({ name: 'noop', argv: nftF, input: noop, times: 10 });
    jobs.push({ name: 'reconcile', argv: nftF, input: reconcile });
    jobs.push({ name: 'refill', argv: nftF, input: refill });
    for (const mac of extra.slice(r * 10, r * 10 + 10)) {
      const f = file(`authorize-${mac.replaceAll(':', '')}.nft`, lib.authorizeScript(authorizations([mac], expiresAt), now));
      jobs.push({ name: 'authorize', argv: nftF, input: f });
    }
  }
  // one process per MAC: on an empty set, and (unless all are done) on a nearly full one
  jobs.push({ name: 'setup', argv: nftF, input: fullEmpty });
  jobs.push({ name: 'perElementSmall', argvs: all.slice(0, window).map(addElement) });
  if (window < total) {
    jobs.push({ name: 'setup', argv: nftF, input: file('full-rest.nft', full(all.slice(0, total - window))) });
    jobs.push({ name: 'perElementLarge', argvs: all.slice(total - window).map(addElement) });
  }
  const jobsFile = file('jobs.json', JSON.stringify(jobs));
  log(`bench: ${rounds} rounds of transactions, then ${window < total ? `2 × ${window}` : total} nft add element processes`);
  const t = await runJobs(lab.node('router'), jobsFile);

  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const mean = (xs) => sum(xs) / xs.length;
  const per = [...t.perElementSmall, ...(t.perElementLarge ?? [])];
  const perElementTotal = window < total ? mean(per) * total : sum(per);
  const tx = median(t.reconcile);
  const base = median(t.noop);
  const n = total.toLocaleString('en');
  const row = (label, values, note = '') => {
    const { min, max } = range(values);
    return `${label.padEnd(56)} ${fmtMs(median(values)).padStart(9)}   ${`${fmtMs(min)}–${fmtMs(max)}`.padEnd(19)} ${note}`;
  };
  const lines = [
    header(`pirania-nftables: applying ${n} authorized MACs`),
    '',
    `${''.padEnd(56)} ${'median'.padStart(9)}   ${'min–max'.padEnd(19)}`,
    row('nft -f, a no-op transaction (baseline)', t.noop),
    row(`authorize 1 MAC, set holds ${n} (fast path)`, t.authorize, `${fmtRatio(median(t.authorize) / base)} baseline`),
    row(`reconcile: both tables + ${n} MACs, 1 transaction`, t.reconcile, `${fmtRatio(tx / base)} baseline`),
    row(`refill: flush + ${n} MACs, 1 transaction`, t.refill, `${fmtRatio(median(t.refill) / base)} baseline`),
    row(`nft add element, 1 process, set of 0–${window.toLocaleString('en')}`, t.perElementSmall),
    ...(t.perElementLarge
      ? [row(`nft add element, 1 process, set of ${(total - window).toLocaleString('en')}–${n}`, t.perElementLarge)]
      : []),
    `${`${n} × nft add element${window < total ? ' (extrapolated: mean × ' + n + ')' : ' (measured)'}`.padEnd(56)} ${fmtMs(perElementTotal).padStart(9)}`,
    '',
    `one transaction vs one process per MAC: ${fmtRatio(perElementTotal / tx)} faster (${fmtMs(tx)} vs ${fmtMs(perElementTotal)}${window < total ? ', extrapolated from ' + (2 * window).toLocaleString('en') + ' processes' : ''})`,
    `samples: ${t.noop.length} no-op, ${t.authorize.length} authorize, ${t.reconcile.length} reconcile, ${t.refill.length} refill, ${per.length} add element`,
  ];
  console.log(lines.join('\n'));
} finally {
  await lab.destroy();
}
