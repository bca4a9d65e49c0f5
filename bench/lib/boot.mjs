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
 * (a truly empty module, to its exit), bundle (`wrtkit version`, to its exit: the host
 * bundle parsed and evaluated, the platform loaded, no Host), host (`wrtkit run` with
 * `plugins` plugins, to its ready line).
 */
function configurations(engines, counts, fixtures, rootBase) {
  const out = [];
  for (const engine of engines) {
    out.push({ engine, kind: 'idle', argv: engineArgv(engine, fixtures.baselines.idle[engine]), ready: /^ready$/ });
    out.push({ engine, kind: 'empty', argv: engineArgv(engine, fixtures.baselines.empty) });
    out.push({ engine, kind: 'bundle', argv: engineArgv(engine, fixtures.host, ['version']) });
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

/** Fisher–Yates with a small seeded generator (mulberry32). */
function shuffled(items, seed) {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const keyOf = (c) => (c.kind === 'host' ? `${c.engine}:host:${c.plugins}` : `${c.engine}:${c.kind}`);

export async function benchBoot({ engines, counts, runs, fixtures, log }) {
  const rootBase = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-bench-'));
  const configs = configurations(engines, counts, fixtures, rootBase);
  const samples = new Map(configs.map((c) => [keyOf(c), []]));
  // Ctrl-C reaches the children too (same process group); leave no router roots behind.
  const onInterrupt = () => {
    fs.rmSync(rootBase, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    // One warm-up pass: the first start of each binary and bundle pays for the page cache.
    for (const c of configs) await runOnce(c);
    for (let round = 0; round < runs; round++) {
      // Interleaved: every round runs every configuration once, in a fresh (seeded, so
      // repeatable) order, so slow stretches of a noisy machine spread over all of them.
      const order = shuffled(configs, round + 1);
      for (const c of order) samples.get(keyOf(c)).push(await runOnce(c));
      log(`  boot round ${round + 1}/${runs}`);
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    fs.rmSync(rootBase, { recursive: true, force: true });
  }
  return summarize(engines, counts, runs, samples);
}

async function runOnce(c) {
  // The bundle-only split is timed to exit, not to a log line: a line written while the
  // child goes on computing reaches us only when the scheduler lets us run, which on 2
  // busy cores can be many ms late. (The host's first log line, written before it loads
  // its plugins, drifted later with more plugins for that reason.) The `ready` line is
  // fine: after it the host composes once, briefly, and goes idle.
  if (c.kind === 'empty' || c.kind === 'bundle') return runToExit(c.argv);
  const r = await runUntilReady(c.argv, c.ready);
  if (c.kind === 'host') {
    const m = /ready plugins=(\d+) failed=(\d+)/.exec(r.readyLine);
    if (!m || Number(m[1]) !== c.plugins || Number(m[2]) !== 0) {
      throw new Error(`host on ${c.engine} with ${c.plugins} plugins: unexpected "${r.readyLine}"; log:\n${r.lines.join('\n')}`);
    }
  }
  // Only the figures are kept; the log lines were needed for the check above.
  return { readyMs: r.readyMs, rssKiB: r.rssKiB, stopMs: r.stopMs };
}

function summarize(engines, counts, runs, samples) {
  const rows = [];
  for (const engine of engines) {
    const idle = samples.get(`${engine}:idle`);
    const empty = samples.get(`${engine}:empty`);
    const bundle = samples.get(`${engine}:bundle`);
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
      bundleExitMs: median(bundle.map((s) => s.ms)),
      // Loading the host bundle, without the per-round pairing: both are exit times.
      bundleOverEmptyMs: median(bundle.map((s, i) => s.ms - empty[i].ms)),
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
        rssKiB: median(host.map((s) => s.rssKiB)),
        rssRatio: median(host.map((s) => s.rssKiB)) / base.rssKiB,
        stopMs: median(host.map((s) => s.stopMs)),
      });
    }
  }
  return { runs, rows, derived: derive(engines, rows), samples: Object.fromEntries(samples) };
}

/**
 * Where the time goes, from the medians: the host's fixed cost (no plugins) over the
 * bare engine, how much of it is loading the bundle at all (`wrtkit version` over the
 * empty module, both timed to exit), and what each further plugin adds (the slope from
 * the smallest to the largest N > 0, in time and in RSS).
 */
function derive(engines, rows) {
  const out = [];
  for (const engine of engines) {
    const bare = rows.find((r) => r.engine === engine && r.what === 'bare');
    const hosts = rows.filter((r) => r.engine === engine && r.what === 'host');
    const none = hosts.find((r) => r.plugins === 0);
    const some = hosts.filter((r) => r.plugins > 0);
    const lo = some[0];
    const hi = some.at(-1);
    const span = hi && lo && hi.plugins > lo.plugins ? hi.plugins - lo.plugins : undefined;
    out.push({
      engine,
      emptyExitMs: bare.emptyExitMs,
      bundleExitMs: bare.bundleExitMs,
      hostFixedMs: none ? none.ms - bare.ms : undefined,
      bundleMs: bare.bundleOverEmptyMs,
      maxPlugins: hi?.plugins,
      perPluginMs: span ? (hi.ms - lo.ms) / span : undefined,
      perPluginKiB: span ? (hi.rssKiB - lo.rssKiB) / span : NaN,
    });
  }
  return out;
}
