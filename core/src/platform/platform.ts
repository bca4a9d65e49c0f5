/**
 * The Platform is the only way core and plugins reach the operating system. Two engines
 * implement it: Node.js (development, CI, the lab) and QuickJS `qjs` (the router, where
 * OpenWrt 25.12 ships no Node). Keeping the seam narrow is what lets one bundle run on
 * both. File operations are synchronous on purpose: the files we touch are small
 * (UCI, state), and QuickJS's file API is synchronous anyway.
 */
export interface Platform {
  /** Which engine runs us. */
  readonly engine: 'node' | 'qjs';
  readonly fs: FileSystem;
  readonly processes: Processes;
  readonly timers: Timers;
  readonly signals: Signals;
  readonly env: Environment;
  readonly stdio: StandardIO;
  /** Unix stream sockets; absent where the engine has none (qjs without core/native). */
  readonly sockets?: UnixSockets;
  /** Arguments after the script name. */
  readonly args: readonly string[];
  /** Loads an ES module by absolute path (plugin bundles). */
  importModule(path: string): Promise<unknown>;
  /** Ends the process once pending output is flushed; callers return right after. */
  exit(code: number): void;
  /** Resident set size in bytes, where the engine can tell. */
  memoryRss(): number | undefined;
}

export type FileKind = 'file' | 'directory' | 'symlink' | 'other';

export interface FileStat {
  kind: FileKind;
  size: number;
  mtimeMs: number;
}

export interface DirEntry {
  name: string;
  kind: FileKind;
}

export interface FileSystem {
  /** The file's text (UTF-8); throws WRTKIT_ERR_IO (details.errno) when unreadable. */
  readText(path: string): string;
  /** The file's text, or undefined when the file does not exist. */
  tryReadText(path: string): string | undefined;
  /**
   * Replaces the file's content atomically: write a temporary file beside it, make it
   * durable, rename it over the target. A reader sees the old or the new content,
   * never a mix, even across a power cut.
   */
  writeAtomic(path: string, text: string, options?: { mode?: number }): void;
  /** Appends text (logs, CSV); creates the file when missing. Not atomic. */
  appendText(path: string, text: string): void;
  stat(path: string): FileStat | undefined;
  exists(path: string): boolean;
  /** Entries of a directory sorted by name, without `.` and `..`; [] when missing. */
  list(path: string): DirEntry[];
  /** Creates the directory and its parents; no error when it exists. */
  mkdirp(path: string, mode?: number): void;
  /** Removes a file or an empty directory; no error when missing. */
  remove(path: string): void;
  rename(from: string, to: string): void;
}

export interface RunOptions {
  /** Kill the process (SIGTERM, then SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /** Text written to the process's stdin, which is then closed. */
  input?: string;
  /** Extra environment variables (merged over the current environment). */
  env?: Record<string, string>;
  cwd?: string;
  /** Called for every complete stdout line as it arrives (without the newline). */
  onStdoutLine?: (line: string) => void;
  /** Called for every complete stderr line as it arrives. */
  onStderrLine?: (line: string) => void;
}

export interface ProcessResult {
  argv: readonly string[];
  /** Exit status, or null when a signal ended the process. */
  exitCode: number | null;
  /** Number of the signal that ended the process, or null. */
  signal: number | null;
  stdout: string;
  stderr: string;
  /** True when the time limit ended the process. */
  timedOut: boolean;
  durationMs: number;
}

export interface ChildProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Settles when the process has exited and its output is drained. */
  readonly exited: Promise<ProcessResult>;
  kill(signal?: 'SIGTERM' | 'SIGKILL' | 'SIGINT' | 'SIGHUP'): void;
}

export interface Processes {
  /**
   * Starts a program from an argv array (never a shell string) and resolves when it
   * ends. A program that cannot be started rejects with WRTKIT_ERR_PROCESS_SPAWN; a
   * non-zero exit is a normal result, not a rejection.
   */
  run(argv: readonly string[], options?: RunOptions): Promise<ProcessResult>;
  /** As run, but returns at once with a handle (daemons the host supervises). */
  spawn(argv: readonly string[], options?: RunOptions): ChildProcess;
  /** The absolute path of a program on PATH, or undefined. */
  which(program: string): string | undefined;
}

export interface TimerHandle {
  readonly __timer: unique symbol;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch (wall clock; may jump). */
  wallMs(): number;
}

export type SignalName = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGUSR1' | 'SIGUSR2';

export interface Signals {
  /** Handles a signal; returns a function that stops handling it. */
  on(signal: SignalName, handler: () => void): () => void;
}

export interface Environment {
  get(name: string): string | undefined;
  all(): Record<string, string>;
}

export interface StandardIO {
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  /** Reads all of stdin (for `uci import`, `uci batch`). */
  readStdin(): Promise<string>;
}

/** A byte-stream connection (control socket now, ubus later). */
export interface Connection {
  write(data: Uint8Array): void;
  onData(handler: (chunk: Uint8Array) => void): void;
  onClose(handler: () => void): void;
  close(): void;
}

export interface SocketServer {
  readonly path: string;
  close(): Promise<void>;
}

export interface UnixSockets {
  /** Listens on a unix stream socket, replacing a stale socket file. */
  listen(path: string, onConnection: (connection: Connection) => void): Promise<SocketServer>;
  /** Connects; rejects with WRTKIT_ERR_CONTROL_UNAVAILABLE when nobody listens. */
  connect(path: string): Promise<Connection>;
}
