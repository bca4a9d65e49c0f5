#!/usr/bin/env node
// firmware-build: how long `wrtkit build <site file>` takes, step by step, against
// bundling alone in the same run, and how big what it makes is. Figures, not tests:
// nothing here passes or fails on speed. See docs/performance.md#firmware-build.
//
// Each round, in a temp dir with a temp usign key (both removed at the end, on error and
// on Ctrl-C):
//   full build  node firmware-build/bin/firmware.mjs build <site> --out <tmp>/full-<i> --key <tmp key>
//               (the command a builder types: it bundles its own CLI with esbuild first)
//   baseline    node scripts/build.mjs --out <tmp>/bundles-<i> --quiet <the site's plugin dirs>
//               (the host and the same plugins bundled, minified, nothing else)
// in alternating order (a warm file cache favours neither). Step times come from the
// build's progress on stderr: a step runs from its `[i/n] …` line to its `done in X s`
// line, timed as the lines arrive (stderr is a pipe: Node writes it synchronously on
// Linux); "start" is spawn → the first step (esbuild of the CLI, site file checked),
// "end" the last step → exit (summary table). Medians over the rounds, min–max beside.
// Sizes from the last round: every bundle minified and gzip -9 (node:zlib), every .ipk
// of the feed and its largest file. The manifest.json outputs of all rounds are compared
// (reproducibility: every round must give the same bytes).
//
//   node bench/firmware/build.mjs [--rounds 3] [--site firmware-build/site.example.yaml]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { parse as parseYaml } from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(repoRoot, 'firmware-build/bin/firmware.mjs');
const BUNDLER = path.join(repoRoot, 'scripts/build.mjs');

const USAGE = `usage: node bench/firmware/build.mjs [--rounds N] [--site FILE]

Times the full firmware build of a site file (default firmware-build/site.example.yaml:
four plugins) step by step, N rounds (default 3), against bundling the same plugins
alone (node scripts/build.mjs) in the same run; prints bundle sizes (minified, gzip -9)
and .ipk sizes. Everything goes to a temp dir that is removed at the end.`;

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const log = (text) => process.stderr.write(`${text}\n`);
const rounds = Number(option('rounds', 3));
const site = path.resolve(option('site', path.join(repoRoot, 'firmware-build/site.example.yaml')));
if (!Number.isInteger(rounds) || rounds < 1) {
  log('bench: --rounds must be a whole number ≥ 1');
  process.exit(2);
}
if (!fs.existsSync(site)) {
  log(`bench: no site file ${site}`);
  process.exit(2);
}

// ---- temp dir, removed whatever happens ------------------------------------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-bench-firmware-'));
const children = new Set();
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) child.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

// ---- helpers ------------------------------------------------------------------------------

/** Runs node with args; every stderr line with the ms (since spawn) it arrived at. */
function runNode(args, env = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - t0) / 1e6;
    const child = spawn(process.execPath, args, { cwd: tmp, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const lines = [];
    let partial = '';
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      const at = since();
      const parts = (partial + chunk).split('\n');
      partial = parts.pop();
      for (const text of parts) lines.push({ at, text });
    });
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      const ms = since();
      if (partial) lines.push({ at: ms, text: partial });
      if (code !== 0) {
        const command = args.map((a) => (path.isAbsolute(a) ? path.relative(repoRoot, a) : a)).join(' ');
        reject(new Error(`node ${command} exited ${code}:\n${lines.map((l) => l.text).join('\n')}`));
        return;
      }
      resolve({ ms, lines, stdout });
    });
  });
}

/** The steps of a build from its progress lines: name, ms (as the lines arrived), the build's own "done in". */
function stepsOf(run) {
  const steps = [];
  let open;
  for (const { at, text } of run.lines) {
    const start = /^\[(\d+)\/(\d+)\] ([^:]+):/.exec(text);
    if (start) {
      open = { name: start[3], startMs: at };
      continue;
    }
    const done = /^\s+done in ([\d.]+) s/.exec(text);
    if (done && open) {
      steps.push({ name: open.name, startMs: open.startMs, ms: at - open.startMs, saidMs: Number(done[1]) * 1000 });
      open = undefined;
    }
  }
  if (steps.length === 0) throw new Error(`no progress lines in the build's stderr:\n${run.lines.map((l) => l.text).join('\n')}`);
  const last = steps.at(-1);
  return {
    start: steps[0].startMs,
    steps,
    end: run.ms - (last.startMs + last.ms),
  };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const spread = (values) => `${sec(Math.min(...values))}–${sec(Math.max(...values))}`.replace(/ s–/, '–');

/** Right-aligns every column but the first (and those in `left`). */
function table(header, rows, left = new Set([0])) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((cell, i) => (left.has(i) ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Every regular file of a ustar archive (the ipk's outer tar and its data.tar), name → bytes. */
function untar(buffer) {
  const files = new Map();
  for (let off = 0; off + 512 <= buffer.length;) {
    const header = buffer.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, length) => header.toString('latin1', start, start + length).replace(/\0.*$/s, '');
    const name = (field(345, 155) ? `${field(345, 155)}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    if (type === '0' || type === '') files.set(name.replace(/^\.\//, ''), buffer.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** The files an .ipk installs, path → size. */
function ipkFiles(file) {
  const outer = untar(zlib.gunzipSync(fs.readFileSync(file)));
  const data = outer.get('data.tar.gz');
  if (!data) return new Map();
  return new Map([...untar(zlib.gunzipSync(data))].map(([name, bytes]) => [name, bytes.length]));
}

function listFiles(dir, base = dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? listFiles(path.join(dir, d.name), base) : [path.relative(base, path.join(dir, d.name))]))
    .sort();
}

/** The plugin directories the site chooses (by `wrtkit.name`, as firmware-build looks them up). */
function sitePluginDirs(file) {
  const data = parseYaml(fs.readFileSync(file, 'utf8'));
  const chosen = Object.keys(data?.plugins ?? {});
  const byName = new Map();
  for (const parent of ['plugins', 'examples/plugins']) {
    const dir = path.join(repoRoot, parent);
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const pkg = path.join(dir, name, 'package.json');
      if (!fs.existsSync(pkg)) continue;
      const wrtkit = JSON.parse(fs.readFileSync(pkg, 'utf8')).wrtkit;
      if (wrtkit?.name) byName.set(wrtkit.name, path.join(dir, name));
    }
  }
  const missing = chosen.filter((name) => !byName.has(name));
  if (missing.length) throw new Error(`${file}: no plugin directory for ${missing.join(', ')}`);
  return chosen.sort().map((name) => byName.get(name));
}

// ---- the run --------------------------------------------------------------------------------

const cpus = os.cpus();
const startedAt = new Date();
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const machineLine = `${cpus.length} × ${cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown cpu'}, Linux ${os.release()}, node ${process.version}`;
const loadAtStart = load();

const pluginDirs = sitePluginDirs(site);
log(`bench: ${rounds} round(s) in ${tmp}; plugins: ${pluginDirs.map((d) => path.relative(repoRoot, d)).join(', ')}`);

await runNode([CLI, 'keys', 'new', '--out', path.join(tmp, 'keys')]);
const secret = path.join(
  tmp,
  'keys',
  fs.readdirSync(path.join(tmp, 'keys')).find((f) => f.endsWith('.sec')),
);

const full = [];
const baseline = [];
for (let i = 0; i < rounds; i++) {
  const fullRun = async () => {
    const out = path.join(tmp, `full-${i}`);
    const run = await runNode([CLI, 'build', site, '--out', out, '--key', secret]);
    full.push({ out, ms: run.ms, ...stepsOf(run) });
    log(`  round ${i + 1}: full build ${sec(run.ms)}`);
  };
  const baselineRun = async () => {
    const run = await runNode([BUNDLER, '--out', path.join(tmp, `bundles-${i}`), '--quiet', ...pluginDirs]);
    baseline.push(run.ms);
    log(`  round ${i + 1}: bundles alone ${sec(run.ms)}`);
  };
  if (i % 2 === 0) {
    await baselineRun();
    await fullRun();
  } else {
    await fullRun();
    await baselineRun();
  }
}

// ---- the report -----------------------------------------------------------------------------

const out = [];
out.push(`firmware-build bench, ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}: ${machineLine}`);
out.push(`load average at start ${loadAtStart}, at end ${load()}; site ${path.relative(repoRoot, site) || site}`);
out.push('');
out.push(
  `Wall time of \`firmware.mjs build\` per step (median of ${rounds} round${rounds === 1 ? '' : 's'}, min–max); as the progress lines arrived`,
);
const names = full[0].steps.map((s) => s.name);
const stepRows = [['start: esbuild of the CLI, site file checked', full.map((r) => r.start)]];
for (const name of names) stepRows.push([name, full.map((r) => r.steps.find((s) => s.name === name)?.ms ?? 0)]);
stepRows.push(['end: summary, exit', full.map((r) => r.end)]);
const total = full.map((r) => r.ms);
const medTotal = median(total);
out.push(
  table(
    ['step', 'median', 'min–max', 'share'],
    [
      ...stepRows.map(([name, values]) => [
        name,
        sec(median(values)),
        spread(values),
        `${((median(values) / medTotal) * 100).toFixed(0)} %`,
      ]),
      ['full build (wall)', sec(medTotal), spread(total), '100 %'],
    ],
  ),
);
const bundleStep = full.map((r) => r.steps.find((s) => s.name === 'bundles')?.ms ?? NaN);
const ratios = full.map((r, i) => r.ms / baseline[i]);
out.push('');
out.push(
  `Baseline, same run: \`node scripts/build.mjs --out <tmp> --quiet\` + the same ${pluginDirs.length} plugin dirs: ` +
    `${sec(median(baseline))} median (${spread(baseline)})`,
);
out.push(
  `Full build ÷ bundles alone: ${median(ratios).toFixed(2)}× (median of per-round ratios; ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); ` +
    `the build's own bundles step is ${sec(median(bundleStep))}, ${(median(bundleStep) / median(baseline)).toFixed(2)}× bundling alone`,
);

const last = full.at(-1).out;
const bundleDir = path.join(last, 'bundles');
const bundleRows = listFiles(bundleDir)
  .filter((f) => f.endsWith('.js'))
  .map((f) => {
    const bytes = fs.readFileSync(path.join(bundleDir, f));
    return { f, size: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
  });
out.push('');
out.push('Bundles (bundles/ of the last round; minified as the build makes them, gzip -9 by node:zlib)');
out.push(
  table(
    ['bundle', 'minified', 'gzip -9'],
    [
      ...bundleRows.map((r) => [r.f, kib(r.size), kib(r.gzip)]),
      ['all', kib(bundleRows.reduce((s, r) => s + r.size, 0)), kib(bundleRows.reduce((s, r) => s + r.gzip, 0))],
    ],
  ),
);

const feedDir = path.join(last, 'feed');
const ipks = fs.existsSync(feedDir)
  ? fs
      .readdirSync(feedDir)
      .filter((f) => f.endsWith('.ipk'))
      .sort()
  : [];
if (ipks.length) {
  const rows = ipks
    .map((f) => {
      const files = ipkFiles(path.join(feedDir, f));
      const unpacked = [...files.values()].reduce((s, n) => s + n, 0);
      const [bigName, bigSize] = [...files].reduce((a, b) => (b[1] > a[1] ? b : a), ['', 0]);
      return [f.replace(/_.*$/, ''), kib(fs.statSync(path.join(feedDir, f)).size), kib(unpacked), kib(bigSize), bigName];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const ipkTotal = ipks.reduce((s, f) => s + fs.statSync(path.join(feedDir, f)).size, 0);
  out.push('');
  out.push('Packages (feed/ of the last round): the .ipk as served, its files unpacked, its largest file');
  out.push(
    table(['package', '.ipk', 'unpacked', 'largest', 'file'], [...rows, ['all', kib(ipkTotal), '', '', '']], new Set([0, 4])),
  );
} else {
  out.push('');
  out.push('Packages: no .ipk in feed/ (an apk release without --openwrt-sdk builds none)');
}

const manifests = full.map((r) => JSON.parse(fs.readFileSync(path.join(r.out, 'manifest.json'), 'utf8')));
const differing = new Set();
for (const m of manifests.slice(1))
  for (const file of new Set([...Object.keys(manifests[0].outputs), ...Object.keys(m.outputs)]))
    if (manifests[0].outputs[file] !== m.outputs[file]) differing.add(file);
out.push('');
out.push(
  rounds < 2
    ? 'Reproducibility: one round, nothing to compare (--rounds 2 or more)'
    : differing.size === 0
      ? `Reproducibility: the ${Object.keys(manifests[0].outputs).length} outputs in manifest.json are byte-identical in all ${rounds} rounds (SOURCE_DATE_EPOCH ${manifests[0].source_date_epoch})`
      : `Reproducibility: ${differing.size} output(s) differ between rounds: ${[...differing].slice(0, 10).join(', ')}`,
);

console.log(out.join('\n'));
cleanup();
if (differing.size > 0) process.exitCode = 1;
