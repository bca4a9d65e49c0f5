/**
 * Platform on QuickJS (`qjs` 2025-04-26 or newer): the engine OpenWrt 25.12 ships on
 * every arch. Built on qjs's `std` and `os` modules only.
 *
 * `std` and `os` are imported dynamically inside createQjsPlatform(): the host ships as
 * one bundle for both engines, and a static import would be hoisted to the top of that
 * bundle, where Node cannot resolve it.
 *
 * QuickJS has no sockets and no fsync. Both come from the native C module (core/native),
 * loaded from $WRTKIT_NATIVE or /usr/lib/wrtkit/wrtkit-native.so when it is installed
 * (./native.ts, ./sockets.ts). Without it `sockets` is undefined and atomic writes use
 * O_DSYNC instead of fsync.
 */
import { ErrorCodes, WrtkitError } from '../../errors.js';
import type {
  ChildProcess,
  DirEntry,
  FileKind,
  FileStat,
  FileSystem,
  Platform,
  ProcessResult,
  RunOptions,
  SignalName,
  Signals,
  TimerHandle,
} from '../platform.js';
import { LineSplitter } from '../lines.js';
import { Utf8StreamDecoder, utf8Encode } from '../../util/utf8.js';
import { loadNative, nativeErrnoNames } from './native.js';
import { createQjsSockets } from './sockets.js';

type Std = typeof import('std');
type Os = typeof import('os');

/** Signal numbers qjs does not export; these are the same on every Linux arch. */
const SIGHUP = 1;
const SIGKILL = 9;

/** Errno numbers shared by all Linux arches (1..34) plus the generic ABI's higher ones. */
const ERRNO_COMMON: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  9: 'EBADF',
  10: 'ECHILD',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  18: 'EXDEV',
  20: 'ENOTDIR',
  21: 'EISDIR',
  22: 'EINVAL',
  23: 'ENFILE',
  24: 'EMFILE',
  26: 'ETXTBSY',
  27: 'EFBIG',
  28: 'ENOSPC',
  30: 'EROFS',
  32: 'EPIPE',
};
const ERRNO_GENERIC: Record<number, string> = { 36: 'ENAMETOOLONG', 38: 'ENOSYS', 39: 'ENOTEMPTY', 40: 'ELOOP', 122: 'EDQUOT' };
const ERRNO_MIPS: Record<number, string> = { 78: 'ENAMETOOLONG', 89: 'ENOSYS', 90: 'ELOOP', 93: 'ENOTEMPTY', 1133: 'EDQUOT' };
const ENOENT = 2;
const EINTR = 4;
const EIO = 5;
const EAGAIN = 11;
const EEXIST = 17;
const EISDIR = 21;

/** qjs has no fsync; O_DSYNC makes each write durable instead. Its value is per arch. */
const O_DSYNC_GENERIC = 0o10000;
const O_DSYNC_MIPS = 0x10;
const EM_MIPS = 8;

/** Pipe reads per wake-up. */
const READ_CHUNK = 65536;
/** PIPE_BUF: a pipe reported writable takes this much without blocking (fds are blocking in qjs). */
const WRITE_CHUNK = 4096;
/** SIGTERM, then SIGKILL this long after, when a time limit ends a process. */
const KILL_GRACE_MS = 2000;
/**
 * After the process exits, wait at most this long for EOF on its output pipes. A
 * grandchild that inherited them (a shell's background job) would otherwise keep the
 * result pending for as long as it lives.
 */
const DRAIN_AFTER_EXIT_MS = 1000;
/** SIGCHLD wakes us on exit; this poll covers a lost or coalesced signal. */
const REAP_POLL_MS = 100;
/**
 * The kernel page size, for /proc/self/statm. 4096 on every OpenWrt target we build for
 * (some MIPS kernels can use 16K pages; the figure is then 4x too small).
 */
const PAGE_SIZE = 4096;

/**
 * True when the ELF header (first 20 bytes) describes a MIPS binary. e_machine is a
 * 16-bit field at offset 18 in the file's own byte order (EI_DATA at offset 5: 1 little,
 * 2 big endian).
 */
export function elfIsMips(header: Uint8Array): boolean {
  if (header.length < 20 || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) {
    return false;
  }
  const lo = header[18] as number;
  const hi = header[19] as number;
  const machine = header[5] === 2 ? (lo << 8) | hi : lo | (hi << 8);
  return machine === EM_MIPS;
}

/** Decodes a waitpid() status word (same layout on every Linux arch). */
export function decodeWaitStatus(status: number): { exitCode: number | null; signal: number | null } {
  const termSig = status & 0x7f;
  if (termSig === 0) return { exitCode: (status >> 8) & 0xff, signal: null };
  return { exitCode: null, signal: termSig };
}

function dirname(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return trimmed.slice(0, i);
}

function basename(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

export async function createQjsPlatform(): Promise<Platform> {
  const std: Std = await import('std');
  const os: Os = await import('os');

  const native = await loadNative({
    getenv: (name) => std.getenv(name) ?? undefined,
    exists: (path) => os.stat(path)[1] === 0,
    importModule: (path) => import(path),
    warn: (message) => {
      std.err.puts(`wrtkit: ${message}\n`);
      std.err.flush();
    },
  });

  const isMips = detectMips();
  const O_DSYNC = isMips ? O_DSYNC_MIPS : O_DSYNC_GENERIC;
  const errnoNames: Record<number, string> = {
    ...ERRNO_COMMON,
    ...(isMips ? ERRNO_MIPS : ERRNO_GENERIC),
    // The native module's numbers come from the target's own headers.
    ...(native ? nativeErrnoNames(native) : {}),
  };
  // std.Error holds the host's own values for the names it knows: trust those most.
  for (const name of Object.getOwnPropertyNames(std.Error)) {
    const value = std.Error[name];
    if (typeof value === 'number') errnoNames[value] = name;
  }

  function detectMips(): boolean {
    const f = std.open('/proc/self/exe', 'rb');
    if (!f) return false;
    try {
      const buf = new ArrayBuffer(20);
      const n = f.read(buf, 0, 20);
      return n === 20 && elfIsMips(new Uint8Array(buf));
    } finally {
      f.close();
    }
  }

  function errnoName(errno: number): string {
    return errnoNames[errno] ?? `E${errno}`;
  }

  function ioError(errno: number, op: string, path: string): WrtkitError {
    const name = errnoName(errno);
    return new WrtkitError(ErrorCodes.IO, `${op} ${path}: ${name}`, { details: { errno: name, path, op } });
  }

  function kindOfMode(mode: number): FileKind {
    const fmt = mode & os.S_IFMT;
    if (fmt === os.S_IFREG) return 'file';
    if (fmt === os.S_IFDIR) return 'directory';
    if (fmt === os.S_IFLNK) return 'symlink';
    return 'other';
  }

  function isDirectory(path: string): boolean {
    const [st, err] = os.stat(path);
    return err === 0 && st !== null && (st.mode & os.S_IFMT) === os.S_IFDIR;
  }

  /** Writes every byte, retrying short writes; returns 0 or an errno. */
  function writeAll(fd: number, bytes: Uint8Array): number {
    let off = 0;
    while (off < bytes.length) {
      const n = os.write(fd, bytes.buffer as ArrayBuffer, bytes.byteOffset + off, bytes.length - off);
      if (n < 0) {
        if (n === -EINTR) continue;
        return -n;
      }
      if (n === 0) return EIO;
      off += n;
    }
    return 0;
  }

  function readFile(path: string, op: string): string | number {
    const errObj: { errno?: number } = {};
    const f = std.open(path, 'r', errObj);
    if (!f) return errObj.errno ?? EIO;
    try {
      // fopen() succeeds on a directory; reading it would quietly give ''.
      if (isDirectory(path)) return EISDIR;
      const text = f.readAsString();
      if (f.error()) throw ioError(EIO, op, path);
      return text;
    } finally {
      f.close();
    }
  }

  const fileSystem: FileSystem = {
    readText(path) {
      const r = readFile(path, 'read');
      if (typeof r === 'number') throw ioError(r, 'read', path);
      return r;
    },
    tryReadText(path) {
      const r = readFile(path, 'read');
      if (r === ENOENT) return undefined;
      if (typeof r === 'number') throw ioError(r, 'read', path);
      return r;
    },
    writeAtomic(path, text, options = {}) {
      const bytes = utf8Encode(text);
      const tmp = joinPath(dirname(path), `.${basename(path)}.${os.getpid()}.tmp`);
      // A temp file left by a crash would keep its old mode: open() only applies the
      // mode when it creates the file.
      os.remove(tmp);
      // With the native module: one fsync after the writes, and an fsync of the directory
      // after the rename. Without it, O_DSYNC makes every write durable as it happens,
      // and the rename is left to the file system: on the flash file systems OpenWrt uses
      // (UBIFS, JFFS2, overlay) renames are ordered after the data they point to.
      const flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (native ? 0 : O_DSYNC);
      const fd = os.open(tmp, flags, options.mode ?? 0o644);
      if (fd < 0) throw ioError(-fd, 'write', path);
      let errno = writeAll(fd, bytes);
      if (errno === 0 && native) {
        const synced = native.fsync(fd);
        if (synced < 0) errno = -synced;
      }
      const closed = os.close(fd);
      if (errno === 0 && closed < 0) errno = -closed;
      if (errno === 0) {
        const renamed = os.rename(tmp, path);
        if (renamed < 0) errno = -renamed;
      }
      if (errno === 0 && native) {
        // Makes the rename itself durable. EINVAL: this file system cannot fsync a
        // directory; the rename stands all the same.
        const dirSynced = native.fsyncDir(dirname(path));
        if (dirSynced < 0 && dirSynced !== -native.EINVAL) throw ioError(-dirSynced, 'write', path);
      }
      if (errno !== 0) {
        os.remove(tmp);
        throw ioError(errno, 'write', path);
      }
    },
    appendText(path, text) {
      const fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644);
      if (fd < 0) throw ioError(-fd, 'append', path);
      let errno = writeAll(fd, utf8Encode(text));
      const closed = os.close(fd);
      if (errno === 0 && closed < 0) errno = -closed;
      if (errno !== 0) throw ioError(errno, 'append', path);
    },
    stat(path): FileStat | undefined {
      const [st, err] = os.lstat(path);
      if (err === ENOENT) return undefined;
      if (err !== 0 || !st) throw ioError(err || EIO, 'stat', path);
      return { kind: kindOfMode(st.mode), size: st.size, mtimeMs: st.mtime };
    },
    exists(path) {
      return os.stat(path)[1] === 0;
    },
    list(dir): DirEntry[] {
      const [names, err] = os.readdir(dir);
      if (err === ENOENT) return [];
      if (err !== 0) throw ioError(err, 'list', dir);
      const entries: DirEntry[] = [];
      for (const name of names) {
        if (name === '.' || name === '..') continue;
        const [st] = os.lstat(joinPath(dir, name));
        entries.push({ name, kind: st ? kindOfMode(st.mode) : 'other' });
      }
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    mkdirp(dir, mode = 0o755) {
      const make = (d: string): void => {
        const [st, err] = os.stat(d);
        if (err === 0 && st) {
          if ((st.mode & os.S_IFMT) === os.S_IFDIR) return;
          throw ioError(EEXIST, 'mkdir', dir);
        }
        if (err !== ENOENT) throw ioError(err, 'mkdir', dir);
        const parent = dirname(d);
        if (parent !== d) make(parent);
        const r = os.mkdir(d, mode);
        // Another process may have made it meanwhile.
        if (r < 0 && !(r === -EEXIST && isDirectory(d))) throw ioError(-r, 'mkdir', dir);
      };
      make(dir);
    },
    remove(path) {
      // remove(3): unlink for files, rmdir for (empty) directories.
      const r = os.remove(path);
      if (r < 0 && r !== -ENOENT) throw ioError(-r, 'remove', path);
    },
    rename(from, to) {
      const r = os.rename(from, to);
      if (r < 0) throw ioError(-r, 'rename', from);
    },
  };

  // ---- signals -------------------------------------------------------------------
  // os.signal keeps one handler per signal: dispatch to any number of subscribers here.
  // Subscriptions are objects so the same function may be added twice, as on Node.
  const subscribers = new Map<number, Array<{ fn: () => void }>>();

  function subscribe(sig: number, fn: () => void): () => void {
    let list = subscribers.get(sig);
    if (!list) {
      const created: Array<{ fn: () => void }> = [];
      list = created;
      subscribers.set(sig, created);
      os.signal(sig, () => {
        for (const sub of [...created]) {
          try {
            sub.fn();
          } catch (e) {
            // One failing handler must not keep the others from running.
            std.err.puts(`wrtkit: signal ${sig} handler failed: ${e instanceof Error ? e.message : String(e)}\n`);
            std.err.flush();
          }
        }
      });
    }
    const entry = { fn };
    list.push(entry);
    return () => {
      const current = subscribers.get(sig);
      if (!current) return;
      const i = current.indexOf(entry);
      if (i < 0) return;
      current.splice(i, 1);
      if (current.length === 0) {
        subscribers.delete(sig);
        os.signal(sig, null); // default action again, as on Node without listeners
      }
    };
  }

  const SIGNALS: Record<SignalName, number> = {
    SIGTERM: os.SIGTERM,
    SIGINT: os.SIGINT,
    SIGHUP,
    SIGUSR1: os.SIGUSR1,
    SIGUSR2: os.SIGUSR2,
  };

  const signals: Signals = {
    on(signal, handler) {
      const sig = SIGNALS[signal];
      if (sig === undefined) throw new WrtkitError(ErrorCodes.UNSUPPORTED, `unknown signal ${String(signal)}`);
      return subscribe(sig, handler);
    },
  };

  // Writing input to a child that exited must give EPIPE, not kill the host. A handled
  // signal (unlike SIG_IGN) is reset to default on exec, so children keep normal SIGPIPE.
  // Node does the same (it ignores SIGPIPE).
  subscribe(os.SIGPIPE, () => {});

  // ---- processes -----------------------------------------------------------------
  const readBuffer = new ArrayBuffer(READ_CHUNK);
  const children = new Map<number, (status: number | null) => void>();
  let unsubscribeChld: (() => void) | undefined;
  let reapTimer: import('os').TimerId | undefined;

  function reap(): void {
    for (const [pid, onExit] of [...children]) {
      let ret: number;
      let status: number;
      try {
        [ret, status] = os.waitpid(pid, os.WNOHANG);
      } catch {
        continue; // some qjs builds throw instead of returning -errno; try again later
      }
      if (ret === pid) {
        children.delete(pid);
        onExit(status);
      } else if (ret < 0 && ret !== -EINTR) {
        // ECHILD: reaped by someone else; the status is lost.
        children.delete(pid);
        onExit(null);
      }
    }
    if (children.size === 0) {
      if (reapTimer !== undefined) os.clearTimeout(reapTimer);
      reapTimer = undefined;
      unsubscribeChld?.();
      unsubscribeChld = undefined;
    }
  }

  function schedulePoll(): void {
    if (reapTimer !== undefined || children.size === 0) return;
    reapTimer = os.setTimeout(() => {
      reapTimer = undefined;
      reap();
      schedulePoll();
    }, REAP_POLL_MS);
  }

  function isExecutableFile(path: string): boolean {
    const [st, err] = os.stat(path);
    return err === 0 && st !== null && (st.mode & os.S_IFMT) === os.S_IFREG && (st.mode & 0o111) !== 0;
  }

  function which(program: string, pathVar?: string): string | undefined {
    if (program.includes('/')) return isExecutableFile(program) ? program : undefined;
    for (const dir of (pathVar ?? std.getenv('PATH') ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
      if (!dir) continue;
      const candidate = joinPath(dir, program);
      if (isExecutableFile(candidate)) return candidate;
    }
    return undefined;
  }

  function spawnError(argv: readonly string[], errno: string, why?: string): WrtkitError {
    return new WrtkitError(ErrorCodes.PROCESS_SPAWN, `cannot start ${argv[0]}: ${why ?? errno}`, {
      details: { argv: [...argv], errno },
    });
  }

  /**
   * A handle whose `exited` rejects. Rejected on a later microtask, not with
   * Promise.reject(): qjs 2025-04-26 ends the process on a promise that is rejected
   * before anyone could attach a handler, even when the caller awaits it at once.
   */
  function failedChild(argv: readonly string[], error: WrtkitError): ChildProcess {
    const exited = new Promise<ProcessResult>((_resolve, reject) => {
      void Promise.resolve().then(() => reject(error));
    });
    return { pid: -1, argv: [...argv], exited, kill() {} };
  }

  function spawn(argv: readonly string[], options: RunOptions = {}): ChildProcess {
    if (argv.length === 0 || !argv[0]) {
      throw new WrtkitError(ErrorCodes.PROCESS_SPAWN, 'cannot start a process from an empty argv');
    }
    const args = [...argv];
    const started = os.now();
    const env = options.env ? { ...std.getenviron(), ...options.env } : undefined;

    // os.exec forks before it execs, so a failed exec only shows as the child's exit
    // status 127. Resolve the program and check the cwd first, so the usual failures
    // (not installed, bad cwd) reject with a clear errno and never fork.
    const program = which(args[0] as string, env?.PATH);
    if (!program) return failedChild(args, spawnError(args, 'ENOENT'));
    if (options.cwd !== undefined && !isDirectory(options.cwd)) {
      return failedChild(args, spawnError(args, 'ENOENT', `cwd ${options.cwd} is not a directory`));
    }

    const inPipe = os.pipe();
    const outPipe = os.pipe();
    const errPipe = os.pipe();
    const closeAll = (): void => {
      for (const p of [inPipe, outPipe, errPipe]) if (p) for (const fd of p) os.close(fd);
    };
    if (!inPipe || !outPipe || !errPipe) {
      closeAll();
      return failedChild(args, spawnError(args, 'EMFILE'));
    }

    // Subscribe before forking: a SIGCHLD that came before the handler would be lost.
    unsubscribeChld ??= subscribe(os.SIGCHLD, reap);
    let pid: number;
    try {
      pid = os.exec(args, {
        block: false,
        usePath: true,
        file: program,
        cwd: options.cwd,
        env,
        stdin: inPipe[0],
        stdout: outPipe[1],
        stderr: errPipe[1],
      });
    } catch (e) {
      closeAll();
      if (children.size === 0) reap();
      return failedChild(args, spawnError(args, 'EAGAIN', `fork failed: ${e instanceof Error ? e.message : String(e)}`));
    }
    // The child holds its own copies; ours must go so EOF can arrive.
    os.close(inPipe[0]);
    os.close(outPipe[1]);
    os.close(errPipe[1]);

    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let status: number | null | undefined; // undefined while running
    let openStreams = 2;
    let killTimer: import('os').TimerId | undefined;
    let hardKillTimer: import('os').TimerId | undefined;
    let drainTimer: import('os').TimerId | undefined;
    // A throwing line callback must not break the bookkeeping of this child (it runs
    // inside qjs's read handler); report it and go on.
    const guarded = (fn: (line: string) => void) => (line: string) => {
      try {
        fn(line);
      } catch (e) {
        std.err.puts(`wrtkit: line handler for ${args[0]} failed: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    };
    const outLines = options.onStdoutLine ? new LineSplitter(guarded(options.onStdoutLine)) : undefined;
    const errLines = options.onStderrLine ? new LineSplitter(guarded(options.onStderrLine)) : undefined;
    const streamClosers: Array<() => void> = [];
    let stopStdin: (() => void) | undefined;

    let settle!: (result: ProcessResult) => void;
    let fail!: (error: WrtkitError) => void;
    const exited = new Promise<ProcessResult>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });

    const finish = (): void => {
      if (status === undefined || openStreams > 0) return;
      if (drainTimer !== undefined) os.clearTimeout(drainTimer);
      outLines?.end();
      errLines?.end();
      const { exitCode, signal } = status === null ? { exitCode: null, signal: null } : decodeWaitStatus(status);
      // Backstop for exec failures after the fork (EACCES, ENOEXEC, a script whose
      // interpreter is missing): qjs's child exits 127 without a word. A program that
      // itself exits 127 silently is misreported; shells print "not found" first.
      if (exitCode === 127 && stdout === '' && stderr === '' && !timedOut) {
        fail(spawnError(args, 'ENOEXEC', `exec failed (exit status 127, no output)`));
        return;
      }
      settle({ argv: args, exitCode, signal, stdout, stderr, timedOut, durationMs: os.now() - started });
    };

    const readStream = (fd: number, onText: (text: string) => void): void => {
      const decoder = new Utf8StreamDecoder();
      let open = true;
      const close = (): void => {
        if (!open) return;
        open = false;
        os.setReadHandler(fd, null);
        os.close(fd);
        const tail = decoder.end();
        if (tail) onText(tail);
        openStreams--;
        finish();
      };
      streamClosers.push(close);
      os.setReadHandler(fd, () => {
        const n = os.read(fd, readBuffer, 0, READ_CHUNK);
        if (n > 0) {
          const text = decoder.write(new Uint8Array(readBuffer, 0, n));
          if (text) onText(text);
        } else if (n === 0 || (n !== -EINTR && n !== -EAGAIN)) close();
      });
    };
    readStream(outPipe[0], (text) => {
      stdout += text;
      outLines?.push(text);
    });
    readStream(errPipe[0], (text) => {
      stderr += text;
      errLines?.push(text);
    });

    const stdinFd = inPipe[1];
    const input = options.input !== undefined ? utf8Encode(options.input) : undefined;
    if (input && input.length > 0) {
      let off = 0;
      stopStdin = () => {
        stopStdin = undefined;
        os.setWriteHandler(stdinFd, null);
        os.close(stdinFd);
      };
      // Written as the pipe drains, so a child that writes much before it reads cannot
      // deadlock against us.
      os.setWriteHandler(stdinFd, () => {
        const n = os.write(stdinFd, input.buffer as ArrayBuffer, off, Math.min(WRITE_CHUNK, input.length - off));
        if (n > 0) off += n;
        // EPIPE: the child does not read its input; its exit status tells the rest.
        if (off >= input.length || (n < 0 && n !== -EINTR && n !== -EAGAIN)) stopStdin?.();
      });
    } else {
      os.close(stdinFd);
    }

    const onExit = (st: number | null): void => {
      status = st;
      if (killTimer !== undefined) os.clearTimeout(killTimer);
      if (hardKillTimer !== undefined) os.clearTimeout(hardKillTimer);
      stopStdin?.();
      if (openStreams > 0) {
        drainTimer = os.setTimeout(() => {
          for (const close of [...streamClosers]) close();
        }, DRAIN_AFTER_EXIT_MS);
      }
      finish();
    };
    children.set(pid, onExit);
    schedulePoll();

    const sendSignal = (sig: number): void => {
      if (status === undefined) os.kill(pid, sig);
    };
    if (options.timeoutMs !== undefined) {
      killTimer = os.setTimeout(
        () => {
          killTimer = undefined;
          if (status !== undefined) return;
          timedOut = true;
          sendSignal(os.SIGTERM);
          hardKillTimer = os.setTimeout(() => sendSignal(SIGKILL), KILL_GRACE_MS);
        },
        Math.max(0, options.timeoutMs),
      );
    }

    const killSignals = { SIGTERM: os.SIGTERM, SIGKILL, SIGINT: os.SIGINT, SIGHUP };
    return {
      pid,
      argv: args,
      exited,
      kill(signal = 'SIGTERM') {
        sendSignal(killSignals[signal]);
      },
    };
  }

  function readStatm(): number | undefined {
    // Not std.loadFile: it sizes the buffer from the file size, which is 0 in /proc.
    const f = std.open('/proc/self/statm', 'r');
    if (!f) return undefined;
    let text: string;
    try {
      text = f.readAsString();
    } finally {
      f.close();
    }
    const resident = Number(text.split(' ')[1]);
    return Number.isFinite(resident) ? resident * PAGE_SIZE : undefined;
  }

  function randomBytes(length: number): Uint8Array {
    const f = std.open('/dev/urandom', 'rb');
    if (!f) throw new WrtkitError(ErrorCodes.IO, 'cannot open /dev/urandom', { details: { path: '/dev/urandom' } });
    try {
      const bytes = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = f.read(bytes.buffer, got, length - got);
        if (n <= 0) throw new WrtkitError(ErrorCodes.IO, 'short read from /dev/urandom', { details: { path: '/dev/urandom' } });
        got += n;
      }
      return bytes;
    } finally {
      f.close();
    }
  }

  function absolute(path: string): string {
    if (path.startsWith('/')) return path;
    const [cwd] = os.getcwd();
    return joinPath(cwd, path.replace(/^\.\//, ''));
  }

  const args = typeof scriptArgs !== 'undefined' ? scriptArgs.slice(1) : [];

  return {
    engine: 'qjs',
    fs: fileSystem,
    processes: {
      run: (argv, options) => spawn(argv, options).exited,
      spawn,
      which: (program) => which(program),
    },
    timers: {
      setTimeout: (fn, ms) => os.setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
      clearTimeout: (handle) => os.clearTimeout(handle as unknown as import('os').TimerId),
      monotonicMs: () => os.now(),
      wallMs: () => Date.now(),
    },
    signals,
    sockets: native
      ? createQjsSockets({
          os,
          native,
          errnoName,
          mkdirp: (path) => fileSystem.mkdirp(path),
          report(what, error) {
            std.err.puts(`wrtkit: socket ${what} failed: ${error instanceof Error ? error.message : String(error)}\n`);
            std.err.flush();
          },
        })
      : undefined,
    env: {
      get: (name) => std.getenv(name) ?? undefined,
      all: () => ({ ...std.getenviron() }),
    },
    stdio: {
      writeStdout(text) {
        std.out.puts(text);
        std.out.flush();
      },
      writeStderr(text) {
        std.err.puts(text);
        std.err.flush();
      },
      // Blocking read: stdin is a file or pipe for `uci import`/`uci batch`, read once
      // before anything else runs.
      readStdin: () => Promise.resolve(std.in.readAsString()),
    },
    args,
    importModule: (path) => import(absolute(path)),
    exit(code) {
      std.out.flush();
      std.err.flush();
      std.exit(code);
    },
    memoryRss: readStatm,
    randomBytes,
  };
}
