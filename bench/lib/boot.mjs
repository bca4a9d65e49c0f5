// Boot time and RSS after boot: `wrtkit run` with 0/1/10/50 installed plugins on each
// engine, against the same engine running a bare module, all interleaved round by round.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { engineArgv } from './engines.mjs';
import { pluginName } from './fixtures.mjs';
import { runToExit, runUntilReady } from './proc.mjs';
import { median, range, relativeSpread } from './stats.mjs';

/**
 * A router root as the integration tests lay one out (core/test/integration/
 * host-bundle.test.ts): /etc/config/wrtkit points plugin_dir, state_dir and
 * control_socket into the root; each plugin gets a small /etc/config/<name>. One root
 * per engine and plugin count, reused across runs (state files persist between runs as
 * they do between reboots).
 */
function routerRoot(base, engine, pluginDir, count) {
  const root = path.join(base, `${engine}-${count}`);
  const config = path.join(root, 'etc/config');
  fs.mkdirSync(config, { recursive: true });
  fs.writeFileSync(
    path.join(config, 'wrtkit'),
    [
      "config wrtkit 'main'",
      `\toption plugin_dir '${pluginDir}'`,
      `\toption state_dir '${root}/state'`,
      `\toption control_socket '${root}/run/control.sock'`,
      '',
    ].join('\n'),
  );
  for (let i = 0; i < count; i++) {
    const name = pluginName(i);
    fs.writeFileSync(
      path.join(config, name),
      [
        "config synthetic 'main'",
        "\toption enabled '1'",
        `\toption interval '${1000 + i}'`,
        `\toption label '${name}'`,
        "\tlist interfaces 'eth0'",
        "\tlist interfaces 'wan'",
        '',
      ].join('\n'),
    );
  }
  return config;
}

/**
 * One configuration to time. `kind`: idle (the bare engine, ready marker + RSS), empty
 * (a truly empty module, to its exit), host (wrtkit run with `plugins` plugins).
 */
function configurations(engines, counts, fixtures, rootBase) {
  const out = [];
  for (const engine of engines) {
    out.push({ engine, kind: 'idle', argv: engineArgv(engine, fixtures.baselines.idle[engine]), ready: /^ready$/ });
    out.push({ engine, kind: 'empty', argv: engineArgv(engine, fixtures.baselines.empty) });
    for (const n of counts) {
      const configDir = routerRoot(rootBase, engine, fixtures.pluginDirs[n], n);
      out.push({
        engine,
        kind: 'host',
        plugins: n,
        argv: engineArgv(engine, fixtures.host, ['run', '--config-dir', configDir]),
        // The host's own `ready` log line (Host.start): every plugin set up, boot and
        // ready hooks done. Its counts are checked so a broken fixture cannot pass as fast.
        ready: / wrtkit: ready plugins=\d+ failed=\d+/,
      });
    }
  }
  return out;
}

const keyOf = (c) => (c.kind === 'host' ? `${c.engine}:host:${c.plugins}` : `${c.engine}:${c.kind}`);

export async function benchBoot({ engines, counts, runs, fixtures, log }) {
  const rootBase = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-bench-'));
  const configs = configurations(engines, counts, fixtures, rootBase);
  const samples = new Map(configs.map((c) => [keyOf(c), []]));
  try {
    // One warm-up pass: the first start of each binary and bundle pays for the page cache.
    for (const c of configs) await runOnce(c);
    for (let round = 0; round < runs; round++) {
      // Interleaved: every round runs every configuration once, in an order rotated by
      // one each round, so slow stretches of a noisy machine spread over all of them.
      const order = configs.map((_, i) => configs[(i + round) % configs.length]);
      for (const c of order) samples.get(keyOf(c)).push(await runOnce(c));
      log(`  boot round ${round + 1}/${runs}`);
    }
  } finally {
    fs.rmSync(rootBase, { recursive: true, force: true });
  }
  return summarize(engines, counts, runs, samples);
}

async function runOnce(c) {
  if (c.kind === 'empty') return runToExit(c.argv);
  const r = await runUntilReady(c.argv, c.ready);
  if (c.kind === 'host') {
    const m = /ready plugins=(\d+) failed=(\d+)/.exec(r.readyLine);
    if (!m || Number(m[1]) !== c.plugins || Number(m[2]) !== 0) {
      throw new Error(`host on ${c.engine} with ${c.plugins} plugins: unexpected "${r.readyLine}"; log:\n${r.lines.join('\n')}`);
    }
  }
  // Only the figures are kept; the log lines were needed for the check above.
  return { readyMs: r.readyMs, firstLineMs: r.firstLineMs, rssKiB: r.rssKiB, stopMs: r.stopMs };
}

function summarize(engines, counts, runs, samples) {
  const rows = [];
  for (const engine of engines) {
    const idle = samples.get(`${engine}:idle`);
    const empty = samples.get(`${engine}:empty`);
    const base = { ms: median(idle.map((s) => s.readyMs)), rssKiB: median(idle.map((s) => s.rssKiB)) };
    rows.push({
      engine,
      what: 'bare',
      ms: base.ms,
      msRange: range(idle.map((s) => s.readyMs)),
      spread: relativeSpread(idle.map((s) => s.readyMs)),
      ratio: 1,
      rssKiB: base.rssKiB,
      rssRatio: 1,
      emptyExitMs: median(empty.map((s) => s.ms)),
    });
    for (const n of counts) {
      const host = samples.get(`${engine}:host:${n}`);
      const ms = host.map((s) => s.readyMs);
      rows.push({
        engine,
        what: 'host',
        plugins: n,
        ms: median(ms),
        msRange: range(ms),
        spread: relativeSpread(ms),
        // The ratio is taken within each round (host and bare ran a second or two
        // apart, under the same load), then the median of those.
        ratio: median(host.map((s, i) => s.readyMs / idle[i].readyMs)),
        firstLineMs: median(host.map((s) => s.firstLineMs)),
        rssKiB: median(host.map((s) => s.rssKiB)),
        rssRatio: median(host.map((s) => s.rssKiB)) / base.rssKiB,
        stopMs: median(host.map((s) => s.stopMs)),
      });
    }
  }
  return { runs, rows, samples: Object.fromEntries(samples) };
}
