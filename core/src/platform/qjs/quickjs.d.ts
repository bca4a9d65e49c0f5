/**
 * Ambient types for the parts of QuickJS 2025-04-26's `std` and `os` modules the qjs
 * platform uses. Only what we call is declared, so the compiler flags anything else.
 * Conventions of the C library: most `os` calls return a negative errno on failure,
 * `os.stat`/`os.lstat`/`os.readdir` return `[result, errno]`.
 */
declare module 'std' {
  export interface FILE {
    puts(text: string): void;
    flush(): void;
    close(): number;
    readAsString(maxSize?: number): string;
    read(buffer: ArrayBuffer, position: number, length: number): number;
    error(): boolean;
  }
  export const out: FILE;
  export const err: FILE;
  // `in` is a reserved word: declare it under another name and export it as `in`.
  const stdin: FILE;
  export { stdin as in };
  /** Opens a file; on failure returns null and sets errorObj.errno. */
  export function open(filename: string, flags: string, errorObj?: { errno?: number }): FILE | null;
  export function getenv(name: string): string | undefined;
  export function getenviron(): Record<string, string>;
  export function exit(code: number): never;
  export function strerror(errno: number): string;
  export const Error: Readonly<Record<string, number>>;
}

declare module 'os' {
  export interface Stat {
    dev: number;
    ino: number;
    mode: number;
    nlink: number;
    uid: number;
    gid: number;
    rdev: number;
    size: number;
    blocks: number;
    /** Milliseconds since the epoch. */
    atime: number;
    mtime: number;
    ctime: number;
  }
  export interface ExecOptions {
    block?: boolean;
    usePath?: boolean;
    file?: string;
    cwd?: string;
    stdin?: number;
    stdout?: number;
    stderr?: number;
    /** Replaces the whole environment of the child. */
    env?: Record<string, string>;
  }
  export type TimerId = number & { readonly __qjsTimer: unique symbol };

  export const O_RDONLY: number;
  export const O_WRONLY: number;
  export const O_RDWR: number;
  export const O_CREAT: number;
  export const O_EXCL: number;
  export const O_TRUNC: number;
  export const O_APPEND: number;
  export const S_IFMT: number;
  export const S_IFREG: number;
  export const S_IFDIR: number;
  export const S_IFLNK: number;
  export const WNOHANG: number;
  export const SIGINT: number;
  export const SIGTERM: number;
  export const SIGUSR1: number;
  export const SIGUSR2: number;
  export const SIGCHLD: number;
  export const SIGPIPE: number;

  export function open(filename: string, flags: number, mode?: number): number;
  export function close(fd: number): number;
  export function read(fd: number, buffer: ArrayBuffer, offset: number, length: number): number;
  export function write(fd: number, buffer: ArrayBuffer, offset: number, length: number): number;
  export function remove(filename: string): number;
  export function rename(oldname: string, newname: string): number;
  export function mkdir(path: string, mode?: number): number;
  export function stat(path: string): [Stat | null, number];
  export function lstat(path: string): [Stat | null, number];
  export function readdir(path: string): [string[], number];
  export function getpid(): number;
  export function getcwd(): [string, number];
  export function pipe(): [number, number] | null;
  export function exec(args: readonly string[], options?: ExecOptions): number;
  export function waitpid(pid: number, options?: number): [number, number];
  export function kill(pid: number, sig: number): number;
  /** A function handles the signal; null restores the default; undefined ignores it. */
  export function signal(sig: number, handler: (() => void) | null | undefined): void;
  export function setReadHandler(fd: number, handler: (() => void) | null): void;
  export function setWriteHandler(fd: number, handler: (() => void) | null): void;
  export function setTimeout(fn: () => void, ms: number): TimerId;
  export function clearTimeout(id: TimerId): void;
  /** Monotonic milliseconds with sub-millisecond precision. */
  export function now(): number;
}

/** The script's arguments; the script name first. */
declare const scriptArgs: readonly string[] | undefined;
