/**
 * Platform conformance suite: the same checks, with real effects (files, processes,
 * signals, timers), against every Platform implementation. A plain module without
 * vitest, so the qjs test can bundle it and run it inside QuickJS itself.
 */
import type { Connection, Platform, Sockets } from '../../src/platform/platform.js';
import { utf8Decode, utf8Encode } from '../../src/util/utf8.js';

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

function socketsOf(p: Platform): Sockets {
  assert(p.sockets, 'platform.sockets is undefined (qjs needs core/native: set WRTKIT_NATIVE)');
  return p.sockets;
}

interface Collected {
  readonly length: number;
  readonly closed: boolean;
  bytes(): Uint8Array;
  text(): string;
}

/** Gathers everything a connection receives, and whether it closed. */
function collect(c: Connection): Collected {
  const chunks: Uint8Array[] = [];
  let length = 0;
  let closed = false;
  c.onData((chunk) => {
    chunks.push(chunk);
    length += chunk.length;
  });
  c.onClose(() => (closed = true));
  const bytes = (): Uint8Array => {
    const out = new Uint8Array(length);
    let off = 0;
    for (const chunk of chunks) {
      out.set(chunk, off);
      off += chunk.length;
    }
    return out;
  };
  return {
    get length() {
      return length;
    },
    get closed() {
      return closed;
    },
    bytes,
    text: () => utf8Decode(bytes()),
  };
}

/** Pseudo-random bytes: a misplaced or repeated block does not go unnoticed. */
function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The first offset where a and b differ, or -1 when they are equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Netlink is in host byte order (big endian on some MIPS routers). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Splits one netlink datagram into its messages (nlmsghdr: len, type, flags, seq, pid). */
function parseNetlink(data: Uint8Array): Array<{ type: number; seq: number; pid: number; bytes: Uint8Array }> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Array<{ type: number; seq: number; pid: number; bytes: Uint8Array }> = [];
  let off = 0;
  while (off + 16 <= data.length) {
    const len = view.getUint32(off, LITTLE_ENDIAN);
    if (len < 16 || off + len > data.length) break;
    out.push({
      type: view.getUint16(off + 4, LITTLE_ENDIAN),
      seq: view.getUint32(off + 8, LITTLE_ENDIAN),
      pid: view.getUint32(off + 12, LITTLE_ENDIAN),
      bytes: data.subarray(off, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

/** A netlink request: a header and `payload` zero bytes (e.g. an empty ifinfomsg). */
function netlinkRequest(type: number, flags: number, seq: number, payload: number): Uint8Array {
  const bytes = new Uint8Array(16 + payload);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, LITTLE_ENDIAN);
  view.setUint16(4, type, LITTLE_ENDIAN);
  view.setUint16(6, flags, LITTLE_ENDIAN);
  view.setUint32(8, seq, LITTLE_ENDIAN);
  view.setUint32(12, 0, LITTLE_ENDIAN);
  return bytes;
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
      // The ignored TERM is inherited across exec: sleep itself ignores it. The limit leaves
      // the shell time to set its trap even on a loaded machine (with 100 ms, a slow start
      // let SIGTERM arrive first).
      const r = await p.processes.run(['sh', '-c', 'trap "" TERM; exec sleep 10'], { timeoutMs: 1000 });
      assertEqual([r.timedOut, r.exitCode, r.signal], [true, null, 9], 'result');
      assert(r.durationMs >= 3000 && r.durationMs < 6000, `killed after ${r.durationMs.toFixed(0)} ms`);
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
  [
    'sockets: unix stream echo, both directions, socket file 0600',
    async (p, dir) => {
      await null;
      const s = socketsOf(p);
      const path = `${dir}/echo.sock`;
      const server = await s.listen(path, (c) => {
        c.write(utf8Encode('hello from the server\n'));
        c.onData((chunk) => c.write(chunk));
      });
      try {
        assertEqual(p.fs.stat(path)?.kind, 'other', 'socket file kind');
        assertEqual((await p.processes.run(['stat', '-c', '%a', path])).stdout.trim(), '600', 'socket file mode');
        const client = await s.connect(path);
        const got = collect(client);
        client.write(utf8Encode('ping ü\n'));
        const want = 'hello from the server\nping ü\n';
        assert(await waitFor(p, () => got.text() === want, 3000), `client got ${JSON.stringify(got.text())}`);
        client.close();
      } finally {
        await server.close();
      }
      assert(!p.fs.exists(path), 'socket file removed by close');
    },
  ],
  [
    'sockets: 4 MiB through a unix socket and back, byte-exact (backpressure)',
    async (p, dir) => {
      await null;
      const s = socketsOf(p);
      const server = await s.listen(`${dir}/bulk.sock`, (c) => c.onData((chunk) => c.write(chunk)));
      try {
        const size = 4 * 1024 * 1024;
        const data = pattern(size);
        const expected = data.slice();
        const client = await s.connect(`${dir}/bulk.sock`);
        const received = new Uint8Array(size);
        let length = 0;
        let overflow = false;
        client.onData((chunk) => {
          if (length + chunk.length > size) overflow = true;
          else received.set(chunk, length);
          length += chunk.length;
        });
        // Half in one write, far more than a socket buffer holds; the rest in uneven
        // pieces, some after a pause in which the kernel drains part of what is queued:
        // a write that went straight to the kernel then would overtake the queue.
        let off = size / 2;
        client.write(data.subarray(0, off));
        for (let k = 0; off < size; k++) {
          const n = Math.min(size - off, 700 + (off % 9000));
          client.write(data.subarray(off, off + n));
          off += n;
          if (k % 32 === 31) await sleep(p, 1);
        }
        data.fill(0); // written bytes were copied: the caller may reuse its buffer
        const done = await waitFor(p, () => length >= size, 30_000);
        assert(done && !overflow, `received ${length} of ${size} bytes`);
        const bad = firstDifference(received, expected);
        assert(bad < 0, `bytes differ from offset ${bad}`);
        client.close();
      } finally {
        await server.close();
      }
    },
  ],
  [
    'sockets: many small writes arrive complete and in order',
    async (p, dir) => {
      await null;
      const s = socketsOf(p);
      let serverGot: Collected | undefined;
      const server = await s.listen(`${dir}/small.sock`, (c) => {
        serverGot = collect(c);
      });
      try {
        const client = await s.connect(`${dir}/small.sock`);
        const parts: string[] = [];
        for (let i = 0; i < 20_000; i++) parts.push(`${i},`);
        for (const part of parts) client.write(utf8Encode(part));
        const want = parts.join('');
        const done = await waitFor(p, () => (serverGot?.length ?? 0) >= want.length, 20_000);
        assert(done, `server got ${serverGot?.length ?? 0} of ${want.length} bytes`);
        assert(serverGot?.text() === want, 'bytes in the order they were written');
        client.close();
      } finally {
        await server.close();
      }
    },
  ],
  [
    'sockets: a peer closing is seen on both sides, data before close arrives',
    async (p, dir) => {
      await null;
      const s = socketsOf(p);
      const path = `${dir}/close.sock`;
      const serverClosed: boolean[] = [];
      let byeOnConnect = false;
      const server = await s.listen(path, (c) => {
        const index = serverClosed.length;
        serverClosed.push(false);
        c.onClose(() => (serverClosed[index] = true));
        if (byeOnConnect) {
          c.write(utf8Encode('bye'));
          c.close();
        }
      });
      try {
        // The client closes: the server sees it, the client's own onClose runs too.
        const first = await s.connect(path);
        let firstClosed = 0;
        first.onClose(() => firstClosed++);
        assert(await waitFor(p, () => serverClosed.length === 1, 2000), 'server accepted');
        first.close();
        first.close(); // twice: harmless
        assert(await waitFor(p, () => serverClosed[0] === true, 3000), 'server saw the client close');
        assert(await waitFor(p, () => firstClosed === 1, 3000), `client onClose ran ${firstClosed} times`);
        // The server writes and closes at once: the client gets the bytes, then the close.
        byeOnConnect = true;
        const second = await s.connect(path);
        const got = collect(second);
        assert(await waitFor(p, () => got.closed, 3000), 'client saw the server close');
        assertEqual(got.text(), 'bye', 'bytes written before the close');
        second.write(utf8Encode('into the void')); // after the peer left: dropped, no error
      } finally {
        await server.close();
      }
    },
  ],
  [
    'sockets: connect without a listener rejects WRTKIT_ERR_CONTROL_UNAVAILABLE; stale files replaced',
    async (p, dir) => {
      await null;
      const s = socketsOf(p);
      const missing = await thrown(() => s.connect(`${dir}/nobody.sock`), 'connect to a missing path');
      assertEqual([missing.code, missing.details?.errno], ['WRTKIT_ERR_CONTROL_UNAVAILABLE', 'ENOENT'], 'missing path');
      // A stale socket file: the server's file moved aside, then the server closed.
      const live = `${dir}/live.sock`;
      const stale = `${dir}/stale.sock`;
      const first = await s.listen(live, () => undefined);
      p.fs.rename(live, stale);
      await first.close();
      const refused = await thrown(() => s.connect(stale), 'connect to a stale socket file');
      assertEqual([refused.code, refused.details?.errno], ['WRTKIT_ERR_CONTROL_UNAVAILABLE', 'ECONNREFUSED'], 'stale file');
      const again = await s.listen(stale, () => undefined);
      try {
        const busy = await thrown(() => s.listen(stale, () => undefined), 'listen on a live socket');
        assertEqual([busy.code, busy.details?.errno], ['WRTKIT_ERR_IO', 'EADDRINUSE'], 'live socket refused');
        const c = await s.connect(stale);
        c.close();
      } finally {
        await again.close();
      }
    },
  ],
  [
    'sockets: TCP echo on 127.0.0.1 with port 0; refused port rejects WRTKIT_ERR_IO',
    async (p) => {
      await null;
      const s = socketsOf(p);
      const server = await s.listenTcp('127.0.0.1', 0, (c) => c.onData((chunk) => c.write(chunk)));
      let port = 0;
      try {
        port = server.port;
        assert(port > 0 && port < 65536, `bound port ${port}`);
        assertEqual(server.address, '127.0.0.1', 'bound address');
        const client = await s.connectTcp('127.0.0.1', port);
        const got = collect(client);
        const big = pattern(300_000);
        client.write(utf8Encode('tcp ping\n'));
        client.write(big);
        const want = 9 + big.length;
        assert(await waitFor(p, () => got.length >= want, 10_000), `echoed ${got.length} of ${want} bytes`);
        const bytes = got.bytes();
        assertEqual(utf8Decode(bytes.subarray(0, 9)), 'tcp ping\n', 'first bytes');
        assert(firstDifference(bytes.subarray(9), big) < 0, 'bulk bytes echoed exactly');
        client.close();
      } finally {
        await server.close();
      }
      const refused = await thrown(() => s.connectTcp('127.0.0.1', port), 'connect to a closed port');
      assertEqual([refused.code, refused.details?.errno], ['WRTKIT_ERR_IO', 'ECONNREFUSED'], 'refused');
    },
  ],
  [
    'sockets: UDP send and receive on 127.0.0.1',
    async (p) => {
      await null;
      const s = socketsOf(p);
      const a = await s.openDatagram({ family: 'udp4', bind: { address: '127.0.0.1', port: 0 } });
      const b = await s.openDatagram({ family: 'udp4', bind: { address: '127.0.0.1', port: 0 } });
      try {
        const aAddr = a.address() as { address: string; port: number };
        const bAddr = b.address() as { address: string; port: number };
        assert(aAddr.address === '127.0.0.1' && aAddr.port > 0 && bAddr.port > 0, `addresses ${JSON.stringify([aAddr, bAddr])}`);
        const atB: Array<[string, unknown]> = [];
        const atA: string[] = [];
        b.onMessage((data, from) => {
          atB.push([utf8Decode(data), from]);
          if (data.length < 100) b.send(utf8Encode(`re: ${utf8Decode(data)}`), from).catch(() => undefined);
        });
        a.onMessage((data) => atA.push(utf8Decode(data)));
        await a.send(utf8Encode('one'), bAddr);
        await a.send(utf8Encode('two'), bAddr);
        assert(await waitFor(p, () => atA.length >= 2, 3000), `replies ${JSON.stringify(atA)}`);
        assertEqual(
          atB,
          [
            ['one', aAddr],
            ['two', aAddr],
          ],
          'datagrams and their sender',
        );
        assertEqual(atA, ['re: one', 're: two'], 'replies');
        const big = pattern(30_000);
        const sizes: number[] = [];
        let same = false;
        b.onMessage((data) => {
          sizes.push(data.length);
          if (data.length === big.length) same = firstDifference(data, big) < 0;
        });
        await a.send(big, bAddr);
        assert(await waitFor(p, () => sizes.includes(big.length), 3000), `sizes ${JSON.stringify(sizes)}`);
        assert(same, 'a 30000-byte datagram arrives whole');
        const bad = await thrown(() => a.send(utf8Encode('x'), '/not/an/inet/address'), 'send to a path');
        assertEqual(bad.code, 'WRTKIT_ERR_INVALID_ARGUMENT', 'UDP to a path');
      } finally {
        a.close();
        b.close();
      }
    },
  ],
  [
    'sockets: unix datagram pair (qjs; WRTKIT_ERR_UNSUPPORTED on Node)',
    async (p, dir) => {
      await null;
      const s = socketsOf(p);
      const aPath = `${dir}/a.dgram`;
      const bPath = `${dir}/b.dgram`;
      if (p.engine === 'node') {
        const err = await thrown(() => s.openDatagram({ family: 'unix', bind: aPath }), 'unix datagram on Node');
        assertEqual(err.code, 'WRTKIT_ERR_UNSUPPORTED', 'code');
        return;
      }
      const a = await s.openDatagram({ family: 'unix', bind: aPath });
      const b = await s.openDatagram({ family: 'unix', bind: bPath });
      const anonymous = await s.openDatagram({ family: 'unix' });
      try {
        assertEqual([a.address(), b.address()], [aPath, bPath], 'bound paths');
        const atB: Array<[string, unknown]> = [];
        const atA: string[] = [];
        const atAnon: string[] = [];
        b.onMessage((data, from) => {
          atB.push([utf8Decode(data), from]);
          if (data.length < 100) b.send(utf8Encode(`re: ${utf8Decode(data)}`), from).catch(() => undefined);
        });
        a.onMessage((data) => atA.push(utf8Decode(data)));
        anonymous.onMessage((data) => atAnon.push(utf8Decode(data)));
        await a.send(utf8Encode('one'), bPath);
        await a.send(utf8Encode('two'), bPath);
        await anonymous.send(utf8Encode('anon'), bPath);
        assert(await waitFor(p, () => atA.length >= 2 && atAnon.length >= 1, 3000), `replies ${JSON.stringify([atA, atAnon])}`);
        assertEqual(
          atB.slice(0, 2),
          [
            ['one', aPath],
            ['two', aPath],
          ],
          'datagrams and their sender',
        );
        assertEqual([atA, atAnon], [['re: one', 're: two'], ['re: anon']], 'replies, also to an unbound sender');
        // Larger than one read buffer (64 KiB): the datagram is sized before it is read.
        const big = pattern(100_000);
        let whole = false;
        a.onMessage((data) => {
          if (data.length === big.length) whole = firstDifference(data, big) < 0;
        });
        await b.send(big, aPath);
        assert(await waitFor(p, () => whole, 3000), 'a 100000-byte datagram arrives whole');
        const missing = await thrown(() => a.send(utf8Encode('x'), `${dir}/nobody.dgram`), 'send to a missing path');
        assertEqual([missing.code, missing.details?.errno], ['WRTKIT_ERR_IO', 'ENOENT'], 'missing peer');
        const busy = await thrown(() => s.openDatagram({ family: 'unix', bind: aPath }), 'bind to a live path');
        assertEqual(busy.details?.errno, 'EADDRINUSE', 'live path refused');
      } finally {
        a.close();
        b.close();
        anonymous.close();
      }
      assert(!p.fs.exists(aPath) && !p.fs.exists(bPath), 'socket files removed by close');
    },
  ],
  [
    'sockets: netlink route socket sees RTM_NEWLINK/RTM_NEWADDR (qjs, root; WRTKIT_ERR_UNSUPPORTED on Node)',
    async (p) => {
      await null;
      const s = socketsOf(p);
      const RTMGRP_LINK = 0x1;
      const RTMGRP_IPV4_IFADDR = 0x10;
      if (p.engine === 'node') {
        const err = await thrown(() => s.openNetlink({ protocol: 0, groups: RTMGRP_LINK }), 'netlink on Node');
        assertEqual(err.code, 'WRTKIT_ERR_UNSUPPORTED', 'code');
        return;
      }
      const uid = (await p.processes.run(['id', '-u'])).stdout.trim();
      assert(uid === '0', `this check creates a network interface and needs root (uid ${uid}); CI runs as root`);
      const nl = await s.openNetlink({ protocol: 0, groups: RTMGRP_LINK | RTMGRP_IPV4_IFADDR });
      const messages: Array<{ type: number; seq: number; pid: number; bytes: Uint8Array }> = [];
      nl.onMessage((data) => messages.push(...parseNetlink(data)));
      const name = `wrtknl${Math.floor(p.timers.wallMs()) % 100_000}`;
      let created = false;
      try {
        assert(nl.portId > 0, `port id ${nl.portId}`);
        // A request: dump all links. The answer comes to our port id and ends with NLMSG_DONE.
        await nl.send(netlinkRequest(18 /* RTM_GETLINK */, 0x301 /* NLM_F_REQUEST | NLM_F_DUMP */, 4242, 16));
        assert(
          await waitFor(p, () => messages.some((m) => m.type === 3 /* NLMSG_DONE */ && m.seq === 4242), 3000),
          'dump answered with NLMSG_DONE',
        );
        assert(
          messages.some((m) => m.type === 16 && m.seq === 4242 && m.pid === nl.portId),
          'dump replies addressed to us',
        );
        // Events: an interface of our own (dummy where the kernel has it), then an address on it.
        for (const kind of [['dummy'], ['bridge'], ['veth', 'peer', 'name', `${name}p`]]) {
          const r = await p.processes.run(['ip', 'link', 'add', name, 'type', ...kind]);
          if (r.exitCode === 0) {
            created = true;
            break;
          }
        }
        assert(created, `could not create a test interface ${name} (dummy, bridge, veth)`);
        const addr = await p.processes.run(['ip', 'addr', 'add', '198.18.77.1/32', 'dev', name]);
        assertEqual(addr.exitCode, 0, `ip addr add: ${addr.stderr}`);
        const mentions = (m: { bytes: Uint8Array }): boolean => indexOfBytes(m.bytes, utf8Encode(`${name}\0`)) >= 0;
        const got = await waitFor(
          p,
          () => messages.some((m) => m.type === 16 && mentions(m)) && messages.some((m) => m.type === 20 && mentions(m)),
          3000,
        );
        assert(got, `events for ${name}: ${JSON.stringify(messages.filter((m) => m.seq !== 4242).map((m) => m.type))}`);
      } finally {
        nl.close();
        if (created) await p.processes.run(['ip', 'link', 'del', name]);
      }
    },
  ],
];

/** Names of the checks, in the order they run (for per-check test cases). */
export function platformCheckNames(): string[] {
  return checks.map(([name]) => name);
}

/**
 * Runs the checks in `tmpDir` (an empty, writable directory) and reports each; `only`
 * picks some by name (qjs without the native module runs the non-socket ones).
 */
export async function runPlatformConformance(
  platform: Platform,
  tmpDir: string,
  only: (name: string) => boolean = () => true,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let i = 0;
  for (const [name, check] of checks) {
    const dir = `${tmpDir}/${String(++i).padStart(2, '0')}`;
    if (!only(name)) continue;
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
