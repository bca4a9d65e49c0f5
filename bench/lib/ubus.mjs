// ubus figures: blobmsg against JSON, and call round trips through our broker against raw
// request/response over the same unix sockets. Runs the bundled bench/ubus.ts on each
// engine (qjs with the native socket module, as on the router), one engine at a time, and
// collects its JSON. Two layouts for the calls:
//  - one process: broker, object server and client in one engine process (what a call
//    costs in CPU, every hop included, with no scheduler between the parties);
//  - in both layouts, the same call with pre-encoded ubus messages on both ends (nothing
//    decoded or encoded there): the broker's share of a call;
//  - separate processes: broker, object server and client each in its own process, as on
//    a router (ubusd, the host, a CLI or another daemon); the raw baselines the same way
//    (server + client, and server + relay + client). Each variant's client is a fresh
//    process per pass; ratios are taken within a pass.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundle, repoRoot } from '../../scripts/rollup-plugins.js';
import { engineArgv } from './engines.mjs';
import { benchDir } from './fixtures.mjs';
import { median } from './stats.mjs';

// An inherited NODE_OPTIONS (a test runner, a debugger) would change what node does.
const baseEnv = { ...process.env };
delete baseEnv.NODE_OPTIONS;

/** Bundles bench/ubus.ts and builds the native module qjs needs for sockets. */
export async function buildUbusBench() {
  const file = path.join(benchDir, 'ubus.js');
  await bundle(path.join(repoRoot, 'bench/ubus.ts'), file, { minify: true });
  let native;
  try {
    execFileSync('make', ['-s', '-C', path.join(repoRoot, 'core/native')], { stdio: ['ignore', 'ignore', 'pipe'] });
    native = path.join(repoRoot, '.cache/native/wrtkit-native.so');
  } catch (error) {
    console.warn(`core/native did not build; qjs socket figures skipped: ${String(error.stderr ?? error.message).trim()}`);
  }
  return { file, native };
}

function envFor(engine, native) {
  return engine === 'qjs' ? { ...baseEnv, WRTKIT_NATIVE: native ?? '' } : baseEnv;
}

function runJson(engine, bench, args, timeout = 180_000) {
  const [cmd, ...argv] = engineArgv(engine, bench.file, args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout, env: envFor(engine, bench.native) });
  if (r.status !== 0) throw new Error(`ubus bench ${args[0]} on ${engine} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Starts a serving role and resolves once it says "ready" on stderr. */
function startRole(engine, bench, args) {
  const [cmd, ...argv] = engineArgv(engine, bench.file, args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: envFor(engine, bench.native) });
  let stderr = '';
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} on ${engine}: not ready; stderr:\n${stderr}`)), 30_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk.toString('utf8');
      if (/^ready$/m.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} on ${engine} exited (${code}) before ready; stderr:\n${stderr}`));
    });
  });
  return {
    ready,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs a client process against already running roles; its JSON. */
function runClient(engine, bench, kind, socket, callOptions) {
  return new Promise((resolve, reject) => {
    const [cmd, ...argv] = engineArgv(engine, bench.file, ['client', kind, socket, ...callOptions]);
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: envFor(engine, bench.native) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout));
      else reject(new Error(`client ${kind} on ${engine} failed (${code}):\n${stderr}`));
    });
  });
}

async function separateProcesses(engine, bench, callOptions, passes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-bench-ubus-'));
  const sock = (name) => path.join(dir, `${name}.sock`);
  const roles = [];
  const start = async (args) => {
    const role = startRole(engine, bench, args);
    roles.push(role);
    await role.ready;
  };
  try {
    await start(['broker', sock('ubus')]);
    await start(['object', sock('ubus')]);
    await start(['frame-object', sock('ubus')]);
    await start(['raw-server', sock('raw')]);
    await start(['relay', sock('relay'), sock('raw')]);
    // One client process per variant and pass, the variants in a rotating order each pass
    // (so a slow stretch of the machine falls on all of them), one round each.
    const variants = [
      ['ubusById', 'ubus-id', sock('ubus')],
      ['ubusByPath', 'ubus-path', sock('ubus')],
      ['frames', 'frames', sock('ubus')],
      ['rawDirect', 'raw', sock('raw')],
      ['rawRelayed', 'raw', sock('relay')],
    ];
    const samples = Object.fromEntries(variants.map(([key]) => [key, []]));
    for (let pass = 0; pass < passes; pass++) {
      for (let i = 0; i < variants.length; i++) {
        const [key, kind, socket] = variants[(i + pass) % variants.length];
        const r = await runClient(engine, bench, kind, socket, [...callOptions, '--rounds', '1']);
        samples[key].push(Object.values(r.ns)[0]);
      }
    }
    return samples;
  } finally {
    for (const role of roles.reverse()) await role.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Per-round ratios a/b (both measured in the same round), median. */
function ratioOf(a, b) {
  return median(a.map((x, i) => x / b[i]));
}

export async function benchUbus({ engines, bench, codecTargetMs, codecRounds, callTargetMs, callRounds, log }) {
  const codec = {};
  const calls = {};
  const callOptions = ['--target-ms', String(callTargetMs)];
  for (const engine of engines) {
    log(`bench: ubus codec on ${engine}`);
    const c = runJson(engine, bench, ['codec', '--target-ms', String(codecTargetMs), '--rounds', String(codecRounds)]);
    codec[engine] = c.results.map((r) => ({
      ...r,
      ratio: ratioOf(r.samples.blobRoundTrip, r.samples.jsonRoundTrip),
    }));
    if (engine === 'qjs' && !bench.native) continue;
    log(`bench: ubus calls on ${engine}, one process`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-bench-ubus-'));
    let one;
    try {
      one = runJson(engine, bench, ['calls', dir, ...callOptions, '--rounds', String(callRounds)]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    log(`bench: ubus calls on ${engine}, separate processes`);
    const separate = await separateProcesses(engine, bench, callOptions, callRounds);
    calls[engine] = {
      sizes: one.sizes,
      oneProcess: {
        ns: one.ns,
        ratio: {
          ubusById: ratioOf(one.samples.ubusById, one.samples.rawRelayed),
          ubusByPath: ratioOf(one.samples.ubusByPath, one.samples.rawRelayed),
          frames: ratioOf(one.samples.frames, one.samples.rawRelayed),
          rawDirect: ratioOf(one.samples.rawDirect, one.samples.rawRelayed),
          rawRelayed: 1,
        },
        samples: one.samples,
      },
      separate: {
        ns: Object.fromEntries(Object.entries(separate).map(([k, v]) => [k, median(v)])),
        ratio: Object.fromEntries(Object.entries(separate).map(([k, v]) => [k, ratioOf(v, separate.rawRelayed)])),
        samples: separate,
      },
    };
  }
  return { codec, calls, settings: { codecTargetMs, codecRounds, callTargetMs, callRounds } };
}
