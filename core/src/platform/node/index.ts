/**
 * Platform on Node.js (development, CI and the lab).
 *
 * Node's modules are imported dynamically inside createNodePlatform(): the host ships as
 * one bundle for both engines, and a static `import 'node:fs'` would be hoisted to the
 * top of that bundle, where QuickJS cannot resolve it.
 */
import { ErrorCodes, WrtkitError } from '../../errors.js';
import type {
  ChildProcess,
  DirEntry,
  FileKind,
  FileStat,
  Platform,
  ProcessResult,
  RunOptions,
  SignalName,
  TimerHandle,
} from '../platform.js';
import { LineSplitter } from '../lines.js';
import { createNodeSockets } from './sockets.js';

type NodeFs = typeof import('node:fs');
type NodePath = typeof import('node:path');
type NodeChild = typeof import('node:child_process');
type NodeNet = typeof import('node:net');
type NodeDgram = typeof import('node:dgram');
type NodeOs = typeof import('node:os');

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
};

function ioError(fsError: unknown, op: string, path: string): WrtkitError {
  const errno = (fsError as { code?: string }).code ?? 'EIO';
  return new WrtkitError(ErrorCodes.IO, `${op} ${path}: ${errno}`, {
    cause: fsError,
    details: { errno, path, op },
  });
}

function kindOf(stat: import('node:fs').Stats | import('node:fs').Dirent): FileKind {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symlink';
  return 'other';
}

export async function createNodePlatform(argv: readonly string[] = process.argv.slice(2)): Promise<Platform> {
  const fs: NodeFs = await import('node:fs');
  const path: NodePath = await import('node:path');
  const child: NodeChild = await import('node:child_process');
  const net: NodeNet = await import('node:net');
  const dgram: NodeDgram = await import('node:dgram');
  const os: NodeOs = await import('node:os');
  const url = await import('node:url');
  const crypto = await import('node:crypto');

  const fileSystem: Platform['fs'] = {
    readText(file) {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw ioError(e, 'read', file);
      }
    },
    tryReadText(file) {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return undefined;
        throw ioError(e, 'read', file);
      }
    },
    writeAtomic(file, text, options = {}) {
      const dir = path.dirname(file);
      const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
      let fd: number | undefined;
      try {
        fd = fs.openSync(tmp, 'w', options.mode ?? 0o644);
        fs.writeSync(fd, text);
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fd = undefined;
        fs.renameSync(tmp, file);
        // Make the rename itself durable: fsync the directory that holds the entry.
        const dfd = fs.openSync(dir, 'r');
        try {
          fs.fsyncSync(dfd);
        } finally {
          fs.closeSync(dfd);
        }
      } catch (e) {
        if (fd !== undefined) fs.closeSync(fd);
        try {
          fs.unlinkSync(tmp);
        } catch {
          // the temporary file may not exist; nothing to clean
        }
        throw ioError(e, 'write', file);
      }
    },
    appendText(file, text) {
      try {
        fs.appendFileSync(file, text);
      } catch (e) {
        throw ioError(e, 'append', file);
      }
    },
    stat(file): FileStat | undefined {
      try {
        const st = fs.lstatSync(file);
        return { kind: kindOf(st), size: st.size, mtimeMs: st.mtimeMs };
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return undefined;
        throw ioError(e, 'stat', file);
      }
    },
    exists(file) {
      return fs.existsSync(file);
    },
    list(dir): DirEntry[] {
      try {
        return fs
          .readdirSync(dir, { withFileTypes: true })
          .map((d) => ({ name: d.name, kind: kindOf(d) }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return [];
        throw ioError(e, 'list', dir);
      }
    },
    mkdirp(dir, mode = 0o755) {
      try {
        fs.mkdirSync(dir, { recursive: true, mode });
      } catch (e) {
        throw ioError(e, 'mkdir', dir);
      }
    },
    remove(file) {
      try {
        fs.rmSync(file, { force: true });
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_FS_EISDIR' || (e as { code?: string }).code === 'EISDIR') {
          try {
            fs.rmdirSync(file);
            return;
          } catch (e2) {
            throw ioError(e2, 'remove', file);
          }
        }
        throw ioError(e, 'remove', file);
      }
    },
    rename(from, to) {
      try {
        fs.renameSync(from, to);
      } catch (e) {
        throw ioError(e, 'rename', from);
      }
    },
  };

  function which(program: string): string | undefined {
    if (program.includes('/')) return fs.existsSync(program) ? program : undefined;
    for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
      if (!dir) continue;
      const candidate = path.join(dir, program);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here; keep looking
      }
    }
    return undefined;
  }

  function spawn(argv: readonly string[], options: RunOptions = {}): ChildProcess {
    if (argv.length === 0 || !argv[0]) {
      throw new WrtkitError(ErrorCodes.PROCESS_SPAWN, 'cannot start a process from an empty argv');
    }
    const started = performance.now();
    const proc = child.spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const outLines = new LineSplitter((line) => options.onStdoutLine?.(line));
    const errLines = new LineSplitter((line) => options.onStderrLine?.(line));
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (options.onStdoutLine) outLines.push(chunk);
    });
    proc.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (options.onStderrLine) errLines.push(chunk);
    });
    proc.stdin.on('error', () => {
      // the child may exit without reading its input (EPIPE); its exit status tells
    });
    if (options.input !== undefined) proc.stdin.end(options.input);
    else proc.stdin.end();

    let killTimer: NodeJS.Timeout | undefined;
    let hardKillTimer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      killTimer = setTimeout(() => {
        timedOut = true;
        proc.kill('SIGTERM');
        hardKillTimer = setTimeout(() => proc.kill('SIGKILL'), 2000);
        hardKillTimer.unref();
      }, options.timeoutMs);
    }

    const exited = new Promise<ProcessResult>((resolve, reject) => {
      proc.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(killTimer);
        clearTimeout(hardKillTimer);
        reject(
          new WrtkitError(ErrorCodes.PROCESS_SPAWN, `cannot start ${argv[0]}: ${err.code ?? err.message}`, {
            cause: err,
            details: { argv: [...argv], errno: err.code },
          }),
        );
      });
      proc.on('close', (code, signal) => {
        clearTimeout(killTimer);
        clearTimeout(hardKillTimer);
        outLines.end();
        errLines.end();
        resolve({
          argv: [...argv],
          exitCode: code,
          signal: signal ? (SIGNAL_NUMBERS[signal] ?? os.constants.signals[signal] ?? -1) : null,
          stdout,
          stderr,
          timedOut,
          durationMs: performance.now() - started,
        });
      });
    });
    return {
      get pid() {
        return proc.pid ?? -1;
      },
      argv: [...argv],
      exited,
      kill(signal = 'SIGTERM') {
        proc.kill(signal);
      },
    };
  }

  const sockets = createNodeSockets({ fs, path, net, dgram });

  return {
    engine: 'node',
    fs: fileSystem,
    processes: {
      run: (argv, options) => spawn(argv, options).exited,
      spawn,
      which,
    },
    timers: {
      setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
      clearTimeout: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
      monotonicMs: () => performance.now(),
      wallMs: () => Date.now(),
    },
    signals: {
      on(signal: SignalName, handler) {
        process.on(signal, handler);
        return () => {
          process.off(signal, handler);
        };
      },
    },
    env: {
      get: (name) => process.env[name],
      all: () => Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
    },
    stdio: {
      writeStdout: (text) => {
        process.stdout.write(text);
      },
      writeStderr: (text) => {
        process.stderr.write(text);
      },
      readStdin: async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      },
    },
    sockets,
    args: argv,
    importModule: (file) => import(url.pathToFileURL(file).href),
    exit(code) {
      // stdout/stderr are asynchronous pipes on Node: let them drain before leaving.
      process.exitCode = code;
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
    memoryRss: () => process.memoryUsage().rss,
    randomBytes: (length) => new Uint8Array(crypto.randomBytes(length)),
  };
}
