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
  /**
   * Sockets; absent where the engine has none: qjs without the native module
   * (core/native, /usr/lib/wrtkit/wrtkit-native.so or $WRTKIT_NATIVE).
   */
  readonly sockets?: Sockets;
  /** Arguments after the script name. */
  readonly args: readonly string[];
  /** Loads an ES module by absolute path (plugin bundles). */
  importModule(path: string): Promise<unknown>;
  /** Ends the process once pending output is flushed; callers return right after. */
  exit(code: number): void;
  /** Resident set size in bytes, where the engine can tell. */
  memoryRss(): number | undefined;
  /**
   * Bytes from the kernel's cryptographic random source (/dev/urandom): for secrets a
   * guess must not find, such as voucher codes. Math.random is not one.
   */
  randomBytes(length: number): Uint8Array;
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

/**
 * A byte-stream connection (unix or TCP). Bytes arrive in order, in chunks of any size.
 *
 * `write` never blocks and never drops or reorders bytes: what the kernel does not take
 * at once is queued and sent as the socket drains (the data is copied, so the caller may
 * reuse its buffer). Writes after `close()`, or after the peer went away, are dropped.
 * `close()` sends what is still queued, then closes. `onClose` handlers run once, when
 * the peer closed, the connection failed, or our own close completed.
 */
export interface Connection {
  /** TCP only: the peer's endpoint (IPv4-mapped IPv6 addresses are given as IPv4). */
  readonly remote?: InetAddress;
  /** TCP only: our endpoint, e.g. the address a redirected packet was sent to. */
  readonly local?: InetAddress;
  write(data: Uint8Array): void;
  onData(handler: (chunk: Uint8Array) => void): void;
  onClose(handler: () => void): void;
  close(): void;
}

/** A listening unix stream socket. */
export interface SocketServer {
  readonly path: string;
  /** Stops accepting and removes the socket file; open connections stay open. */
  close(): Promise<void>;
}

/** A listening TCP socket. */
export interface TcpServer {
  /** The address bound (as given, e.g. `127.0.0.1` or `::`). */
  readonly address: string;
  /** The port bound; the one the kernel chose when 0 was asked for. */
  readonly port: number;
  /** Stops accepting; open connections stay open. */
  close(): Promise<void>;
}

/** An IP endpoint: a numeric address (`127.0.0.1`, `::1`) and a port. */
export interface InetAddress {
  address: string;
  port: number;
}

/** Where a datagram goes or came from: a socket path (unix) or an IP endpoint (udp). */
export type DatagramAddress = string | InetAddress;

export interface DatagramOptions {
  family: 'unix' | 'udp4' | 'udp6';
  /**
   * unix: the path to bind (a stale socket file is replaced, a live one refused); without
   * it the socket gets an anonymous address and can still receive replies.
   * udp: the address and port to bind; without it the wildcard address and a port the
   * kernel chooses.
   */
  bind?: string | InetAddress;
}

/**
 * A datagram socket (unix or UDP). Messages keep their boundaries; sends keep their
 * order (a send the kernel cannot take at once is queued, not dropped).
 */
export interface DatagramSocket {
  /** Resolves once the kernel took the datagram; rejects with WRTKIT_ERR_IO (details.errno). */
  send(data: Uint8Array, to: DatagramAddress): Promise<void>;
  /** `from` is a path ('' for an unnamed unix sender) or an IP endpoint. */
  onMessage(handler: (data: Uint8Array, from: DatagramAddress) => void): void;
  /** The bound address: a path (unix; '' or an abstract name when unbound) or an IP endpoint. */
  address(): DatagramAddress;
  /** Closes the socket; a bound unix socket's file is removed. */
  close(): void;
}

export interface NetlinkOptions {
  /** The netlink protocol, e.g. 0 for NETLINK_ROUTE (the same number on every arch). */
  protocol: number;
  /** Multicast group bitmask to join at bind time (RTMGRP_LINK = 1, RTMGRP_IPV4_IFADDR = 0x10, ...). */
  groups?: number;
}

/**
 * A netlink socket. Each message handed to `onMessage` is one datagram from the kernel,
 * which may hold several netlink messages (nlmsghdr, host byte order).
 */
export interface NetlinkSocket {
  /** The port id the kernel gave this socket (nl_pid); requests carry it, replies go to it. */
  readonly portId: number;
  /** Sends a request to the kernel (nl_pid 0). */
  send(data: Uint8Array): Promise<void>;
  onMessage(handler: (data: Uint8Array) => void): void;
  /**
   * Called when the kernel dropped messages because we read too slowly (ENOBUFS): state
   * learned from events may be stale and should be dumped again.
   */
  onOverrun(handler: () => void): void;
  close(): void;
}

/**
 * Sockets. Addresses are numeric: qjs has no resolver (`localhost` is accepted as
 * 127.0.0.1); Node also resolves host names for connectTcp.
 *
 * On Node, unix datagram and netlink sockets need a native addon Node does not ship:
 * `openDatagram({ family: 'unix' })` and `openNetlink` reject with
 * WRTKIT_ERR_UNSUPPORTED there. On qjs every kind is available with the native module.
 */
export interface Sockets {
  /** Listens on a unix stream socket, replacing a stale socket file; the file is mode 0600. */
  listen(path: string, onConnection: (connection: Connection) => void): Promise<SocketServer>;
  /** Connects; rejects with WRTKIT_ERR_CONTROL_UNAVAILABLE when nobody listens. */
  connect(path: string): Promise<Connection>;
  /**
   * Connects over TCP; rejects with WRTKIT_ERR_IO (details.errno, e.g. ECONNREFUSED, or
   * ETIMEDOUT when `timeoutMs` passed first: the attempt is then abandoned, its socket
   * closed, so a probe of a blackholed address leaves nothing behind).
   */
  connectTcp(host: string, port: number, options?: { timeoutMs?: number }): Promise<Connection>;
  /** Listens on TCP (port 0: the kernel chooses; see TcpServer.port). */
  listenTcp(host: string, port: number, onConnection: (connection: Connection) => void): Promise<TcpServer>;
  openDatagram(options: DatagramOptions): Promise<DatagramSocket>;
  openNetlink(options: NetlinkOptions): Promise<NetlinkSocket>;
}
