/**
 * Platform conformance suite: the same checks, with real effects (files, processes,
 * signals, timers), against every Platform implementation. A plain module without
 * vitest, so the qjs test can bundle it and run it inside QuickJS itself.
 */
import type { Platform } from '../../src/platform/platform.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
  ms?: number;
}

/**
 * Async checks start with `await null`: QuickJS 2025-04-26 ends the process on any
 * promise that is rejected before a handler is attached, and an async function that
 * throws before its first await returns exactly such a promise. After the first await,
 * a failed assertion rejects a promise the runner already awaits, and is reported.
 */
type Check = (p: Platform, dir: string) => Promise<void> | void;

class CheckFailed extends Error {}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

function assertEqual(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new CheckFailed(`${what}: expected ${e}, got ${a}`);
}

/** Runs fn and returns what it threw, failing the check when it did not throw. */
async function thrown(fn: () => unknown, what: string): Promise<{ code?: string; details?: Record<string, unknown> }> {
  try {
    await fn();
  } catch (e) {
    return e as { code?: string; details?: Record<string, unknown> };
  }
  throw new CheckFailed(`${what}: expected an error`);
}

function sleep(p: Platform, ms: number): Promise<void> {
  return new Promise((resolve) => p.timers.setTimeout(resolve, ms));
}

async function waitFor(p: Platform, cond: () => boolean, ms: number): Promise<boolean> {
  const until = p.timers.monotonicMs() + ms;
  while (!cond()) {
    if (p.timers.monotonicMs() > until) return false;
    await sleep(p, 10);
  }
  return true;
}

const checks: Array<[string, Check]> = [
  [
    'engine is named',
    (p) => {
      assert(p.engine === 'node' || p.engine === 'qjs', `engine ${String(p.engine)}`);
      assert(Array.isArray(p.args), 'args is an array');
    },
  ],
  [
    'fs.writeAtomic: content, mode, overwrite, no temporary file left',
    async (p, dir) => {
      await null;
      const d = `${dir}/atomic`;
      p.fs.mkdirp(d);
      const file = `${d}/state.json`;
      const text = '{"grüße":"😀"}\n';
      p.fs.writeAtomic(file, text, { mode: 0o640 });
      assertEqual(p.fs.readText(file), text, 'content');
      assertEqual(p.fs.stat(file)?.size, 19, 'size in bytes');
      const mode = await p.processes.run(['stat', '-c', '%a', file]);
      assertEqual(mode.stdout.trim(), '640', 'mode');
      p.fs.writeAtomic(file, 'second');
      assertEqual(p.fs.readText(file), 'second', 'overwritten content');
      assertEqual(
        p.fs.list(d).map((e) => e.name),
        ['state.json'],
        'directory entries',
      );
    },
  ],
  [
    'fs.writeAtomic: failure is WRTKIT_ERR_IO and leaves nothing behind',
    async (p, dir) => {
      await null;
      const err = await thrown(() => p.fs.writeAtomic(`${dir}/no/such/dir/file`, 'x'), 'write into a missing directory');
      assertEqual(err.code, 'WRTKIT_ERR_IO', 'code');
      assertEqual(err.details?.errno, 'ENOENT', 'errno');
      p.fs.mkdirp(`${dir}/ro`);
      p.fs.mkdirp(`${dir}/ro/target`); // renaming a file over a directory fails
      const err2 = await thrown(() => p.fs.writeAtomic(`${dir}/ro/target`, 'x'), 'rename over a directory');
      assertEqual(err2.code, 'WRTKIT_ERR_IO', 'code');
      assertEqual(err2.details?.errno, 'EISDIR', 'errno');
      assertEqual(
        p.fs.list(`${dir}/ro`).map((e) => e.name),
        ['target'],
        'entries after a failed write',
      );
    },
  ],
  [
    'fs.readText/tryReadText: missing file and directory',
    async (p, dir) => {
      await null;
      const err = await thrown(() => p.fs.readText(`${dir}/missing`), 'readText of a missing file');
      assertEqual(err.code, 'WRTKIT_ERR_IO', 'code');
      assertEqual(err.details?.errno, 'ENOENT', 'errno');
      assertEqual(p.fs.tryReadText(`${dir}/missing`), undefined, 'tryReadText of a missing file');
      const err2 = await thrown(() => p.fs.readText(dir), 'readText of a directory');
      assertEqual(err2.details?.errno, 'EISDIR', 'errno');
      p.fs.writeAtomic(`${dir}/empty`, '');
      assertEqual(p.fs.tryReadText(`${dir}/empty`), '', 'empty file');
    },
  ],
  [
    'fs.appendText creates and appends',
    (p, dir) => {
      const file = `${dir}/log.csv`;
      p.fs.appendText(file, 'a,1\n');
      p.fs.appendText(file, 'b,ü\n');
      assertEqual(p.fs.readText(file), 'a,1\nb,ü\n', 'content');
    },
  ],
  [
    'fs.stat/exists: kinds, size, mtime, missing',
    async (p, dir) => {
      await null;
      const file = `${dir}/stat-me`;
      p.fs.writeAtomic(file, '12345');
      const st = p.fs.stat(file);
      assert(st, 'stat of a file');
      assertEqual([st.kind, st.size], ['file', 5], 'kind and size');
      assert(Math.abs(st.mtimeMs - p.timers.wallMs()) < 60_000, `mtime ${st.mtimeMs} near now`);
      assertEqual(p.fs.stat(dir)?.kind, 'directory', 'directory kind');
      await p.processes.run(['ln', '-s', file, `${dir}/link`]);
      assertEqual(p.fs.stat(`${dir}/link`)?.kind, 'symlink', 'symlink kind (not followed)');
      assertEqual(p.fs.stat(`${dir}/nothing`), undefined, 'missing');
      assert(p.fs.exists(file) && p.fs.exists(dir) && !p.fs.exists(`${dir}/nothing`), 'exists');
    },
  ],
  [
    'fs.list: sorted by name, kinds, missing directory',
    (p, dir) => {
      const d = `${dir}/listing`;
      p.fs.mkdirp(`${d}/sub`);
      for (const name of ['b', 'a', 'C', '.hidden', 'ä']) p.fs.writeAtomic(`${d}/${name}`, name);
      assertEqual(
        p.fs.list(d),
        [
          { name: '.hidden', kind: 'file' },
          { name: 'C', kind: 'file' },
          { name: 'a', kind: 'file' },
          { name: 'b', kind: 'file' },
          { name: 'sub', kind: 'directory' },
          { name: 'ä', kind: 'file' },
        ],
        'entries',
      );
      assertEqual(p.fs.list(`${dir}/no-such-dir`), [], 'missing directory');
    },
  ],
  [
    'fs.mkdirp/remove/rename',
    async (p, dir) => {
      await null;
      const deep = `${dir}/m/n/o`;
      p.fs.mkdirp(deep);
      p.fs.mkdirp(deep); // exists already: fine
      assertEqual(p.fs.stat(deep)?.kind, 'directory', 'created');
      p.fs.writeAtomic(`${deep}/f`, 'x');
      p.fs.rename(`${deep}/f`, `${deep}/g`);
      assert(!p.fs.exists(`${deep}/f`) && p.fs.readText(`${deep}/g`) === 'x', 'renamed');
      const err = await thrown(() => p.fs.rename(`${deep}/nope`, `${deep}/h`), 'rename of a missing file');
      assertEqual(err.details?.errno, 'ENOENT', 'rename errno');
      p.fs.remove(`${deep}/g`);
      p.fs.remove(`${deep}/g`); // missing: fine
      p.fs.remove(deep); // empty directory
      assert(!p.fs.exists(deep), 'removed');
      const err2 = await thrown(() => p.fs.remove(`${dir}/m`), 'remove of a non-empty directory');
      assertEqual(err2.code, 'WRTKIT_ERR_IO', 'code');
    },
  ],
  [
    'run: argv passed literally, no shell',
    async (p) => {
      await null;
      const args = ['a b', "it's", '"q"', '$HOME', '*', '; echo no', '', '`id`', 'ü😀'];
      const r = await p.processes.run(['printf', '%s|', ...args]);
      assertEqual(r.stdout, args.join('|') + '|', 'stdout');
      assertEqual([r.exitCode, r.signal, r.timedOut], [0, null, false], 'status');
      assertEqual(r.argv, ['printf', '%s|', ...args], 'argv in the result');
      assert(r.durationMs >= 0, 'duration');
    },
  ],
  [
    'run: exit codes and stderr are results, not errors',
    async (p) => {
      await null;
      const r = await p.processes.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
      assertEqual([r.exitCode, r.signal, r.stdout, r.stderr], [3, null, 'out\n', 'err\n'], 'result');
      assertEqual((await p.processes.run(['true'])).exitCode, 0, 'true');
      assertEqual((await p.processes.run(['false'])).exitCode, 1, 'false');
    },
  ],
  [
    'run: stdin input, small and larger than a pipe',
    async (p) => {
      await null;
      const small = await p.processes.run(['cat'], { input: 'hello\nwörld\n' });
      assertEqual(small.stdout, 'hello\nwörld\n', 'small input');
      const big = 'line of input text ü\n'.repeat(20_000); // ~440 KB, many pipe buffers
      const r = await p.processes.run(['cat'], { input: big });
      assert(r.stdout === big, `big input echoed (${r.stdout.length} of ${big.length} chars)`);
      const none = await p.processes.run(['cat']);
      assertEqual(none.stdout, '', 'no input: stdin is closed');
    },
  ],
  [
    'run: input to a child that does not read it',
    async (p) => {
      await null;
      const r = await p.processes.run(['true'], { input: 'x'.repeat(1_000_000) });
      assertEqual(r.exitCode, 0, 'exit code');
    },
  ],
  [
    'run: stdout lines stream before the process ends',
    async (p) => {
      await null;
      const start = p.timers.monotonicMs();
      const seen: Array<[string, number]> = [];
      const errs: string[] = [];
      const r = await p.processes.run(['sh', '-c', 'echo a; echo e1 >&2; sleep 0.3; printf "b\\nc"'], {
        onStdoutLine: (line) => seen.push([line, p.timers.monotonicMs() - start]),
        onStderrLine: (line) => errs.push(line),
      });
      assertEqual(
        seen.map(([l]) => l),
        ['a', 'b', 'c'],
        'lines (the last one without newline)',
      );
      assertEqual(errs, ['e1'], 'stderr lines');
      const first = seen[0]?.[1] ?? Infinity;
      assert(first < 250, `first line after ${first.toFixed(0)} ms, before the 300 ms sleep ended`);
      assert(r.durationMs >= 290, `duration ${r.durationMs.toFixed(0)} ms`);
    },
  ],
  [
    'run: UTF-8 output split across reads',
    async (p) => {
      await null;
      const text = 'grüße 😀 '.repeat(5000);
      const r = await p.processes.run(['cat'], { input: text });
      assert(r.stdout === text, 'multi-byte characters survive chunking');
    },
  ],
  [
    'run: time limit sends SIGTERM',
    async (p) => {
      await null;
      const r = await p.processes.run(['sleep', '10'], { timeoutMs: 200 });
      assertEqual([r.timedOut, r.exitCode, r.signal], [true, null, 15], 'result');
      assert(r.durationMs < 1500, `killed after ${r.durationMs.toFixed(0)} ms`);
    },
  ],
  [
    'run: time limit escalates to SIGKILL after 2 s',
    async (p) => {
      await null;
      // The ignored TERM is inherited across exec: sleep itself ignores it.
      const r = await p.processes.run(['sh', '-c', 'trap "" TERM; exec sleep 10'], { timeoutMs: 100 });
      assertEqual([r.timedOut, r.exitCode, r.signal], [true, null, 9], 'result');
      assert(r.durationMs >= 2000 && r.durationMs < 4000, `killed after ${r.durationMs.toFixed(0)} ms`);
    },
  ],
  [
    'run: a missing program rejects with WRTKIT_ERR_PROCESS_SPAWN',
    async (p) => {
      await null;
      const err = await thrown(() => p.processes.run(['wrtkit-no-such-program', 'x']), 'missing program');
      assertEqual(err.code, 'WRTKIT_ERR_PROCESS_SPAWN', 'code');
      const err2 = await thrown(() => p.processes.run(['/no/such/path/prog']), 'missing absolute path');
      assertEqual(err2.code, 'WRTKIT_ERR_PROCESS_SPAWN', 'code');
    },
  ],
  [
    'run: exec failure after resolution rejects with WRTKIT_ERR_PROCESS_SPAWN',
    async (p, dir) => {
      await null;
      // Executable, but its interpreter does not exist: execve() fails with ENOENT.
      const script = `${dir}/bad-interpreter`;
      p.fs.writeAtomic(script, '#!/no/such/interpreter\necho hi\n', { mode: 0o755 });
      const err = await thrown(() => p.processes.run([script]), 'bad interpreter');
      assertEqual(err.code, 'WRTKIT_ERR_PROCESS_SPAWN', 'code');
    },
  ],
  [
    'run: env merged over the current environment, cwd',
    async (p, dir) => {
      await null;
      const r = await p.processes.run(['sh', '-c', 'printf "%s|%s" "$WRTKIT_CONFORMANCE" "${PATH:+path}"'], {
        env: { WRTKIT_CONFORMANCE: 'v a$l "q"' },
      });
      assertEqual(r.stdout, 'v a$l "q"|path', 'child environment');
      const cwd = await p.processes.run(['pwd', '-P'], { cwd: dir });
      const real = await p.processes.run(['realpath', dir]);
      assertEqual(cwd.stdout, real.stdout, 'cwd');
      const err = await thrown(() => p.processes.run(['true'], { cwd: `${dir}/no-such-dir` }), 'missing cwd');
      assertEqual(err.code, 'WRTKIT_ERR_PROCESS_SPAWN', 'code');
    },
  ],
  [
    'spawn: handle with pid, kill, concurrent children',
    async (p) => {
      await null;
      const child = p.processes.spawn(['sleep', '10']);
      assert(child.pid > 0, `pid ${child.pid}`);
      await sleep(p, 50);
      child.kill();
      const r = await child.exited;
      assertEqual([r.exitCode, r.signal, r.timedOut], [null, 15, false], 'killed');
      const runs = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => p.processes.run(['sh', '-c', `sleep 0.${n}; echo ${n}; exit ${n}`])),
      );
      assertEqual(
        runs.map((x) => [x.stdout, x.exitCode]),
        [1, 2, 3, 4, 5].map((n) => [`${n}\n`, n]),
        'concurrent results',
      );
    },
  ],
  [
    'which: PATH lookup',
    (p) => {
      const sh = p.processes.which('sh');
      assert(sh?.startsWith('/') && sh.endsWith('/sh'), `which sh = ${sh}`);
      assertEqual(p.processes.which('wrtkit-no-such-program'), undefined, 'missing program');
    },
  ],
  [
    'timers: order, clearTimeout, clocks',
    async (p) => {
      await null;
      const order: number[] = [];
      const t0 = p.timers.monotonicMs();
      await new Promise<void>((resolve) => {
        p.timers.setTimeout(() => order.push(30), 30);
        p.timers.setTimeout(() => order.push(10), 10);
        const cancelled = p.timers.setTimeout(() => order.push(-1), 20);
        p.timers.setTimeout(() => order.push(20), 20);
        p.timers.clearTimeout(cancelled);
        p.timers.setTimeout(resolve, 60);
      });
      assertEqual(order, [10, 20, 30], 'firing order');
      const elapsed = p.timers.monotonicMs() - t0;
      assert(elapsed >= 55, `monotonic clock advanced ${elapsed.toFixed(1)} ms over a 60 ms timer`);
      const a = p.timers.monotonicMs();
      const b = p.timers.monotonicMs();
      assert(b >= a, 'monotonic never goes back');
      assert(Math.abs(p.timers.wallMs() - Date.now()) < 1000 && p.timers.wallMs() > 1.6e12, 'wall clock');
    },
  ],
  [
    'signals: several handlers run, unsubscribe works',
    async (p) => {
      await null;
      const calls: string[] = [];
      const offA = p.signals.on('SIGUSR1', () => calls.push('a'));
      const offB = p.signals.on('SIGUSR1', () => calls.push('b'));
      const offC = p.signals.on('SIGUSR1', () => calls.push('c'));
      offC();
      offC(); // twice: harmless
      await p.processes.run(['sh', '-c', 'kill -USR1 $PPID']);
      const got = await waitFor(p, () => calls.length >= 2, 2000);
      assert(got, `handlers ran: ${JSON.stringify(calls)}`);
      offB();
      await p.processes.run(['sh', '-c', 'kill -USR1 $PPID']);
      await waitFor(p, () => calls.length >= 3, 2000);
      await sleep(p, 50);
      offA();
      assertEqual([...calls].sort(), ['a', 'a', 'b'], 'calls');
    },
  ],
  [
    'env: get and all',
    (p) => {
      const path = p.env.get('PATH');
      assert(typeof path === 'string' && path.length > 0, 'PATH');
      assertEqual(p.env.all().PATH, path, 'all().PATH');
      assertEqual(p.env.get('WRTKIT_SURELY_UNSET_VARIABLE'), undefined, 'unset variable');
    },
  ],
  [
    'importModule loads an ES module by absolute path',
    async (p, dir) => {
      await null;
      const file = `${dir}/plugin-${Math.floor(p.timers.wallMs())}.mjs`;
      p.fs.writeAtomic(file, 'export const answer = 42;\nexport default "ok";\n');
      const mod = (await p.importModule(file)) as { answer?: number; default?: string };
      assertEqual([mod.answer, mod.default], [42, 'ok'], 'exports');
    },
  ],
  [
    'memoryRss reports resident memory',
    (p) => {
      const rss = p.memoryRss();
      assert(rss === undefined || (rss > 1_000_000 && rss < 8e9), `rss ${rss}`);
      assert(rss !== undefined, 'both engines can tell');
    },
  ],
];

/** Names of the checks, in the order they run (for per-check test cases). */
export function platformCheckNames(): string[] {
  return checks.map(([name]) => name);
}

/** Runs every check in `tmpDir` (an empty, writable directory) and reports each. */
export async function runPlatformConformance(platform: Platform, tmpDir: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let i = 0;
  for (const [name, check] of checks) {
    const dir = `${tmpDir}/${String(++i).padStart(2, '0')}`;
    const start = platform.timers.monotonicMs();
    try {
      platform.fs.mkdirp(dir);
      await check(platform, dir);
      results.push({ name, ok: true, ms: Math.round(platform.timers.monotonicMs() - start) });
    } catch (e) {
      const err = e as { code?: string; message?: string };
      const error = e instanceof CheckFailed ? err.message : `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`;
      results.push({ name, ok: false, error, ms: Math.round(platform.timers.monotonicMs() - start) });
    }
  }
  return results;
}
