/**
 * The native module (core/native, `wrtkit-native.so`): what QuickJS's `os` module lacks
 * for the host, namely sockets and fsync. This file declares its shape and loads it.
 *
 * Conventions of the C side (core/native/native.h): calls take and give plain file
 * descriptors; a failed system call returns a negative errno; misuse (wrong argument
 * types, a range outside the buffer) throws. Errno and socket constants come from the
 * module, because they differ per architecture (MIPS).
 */

/** An address as the native module reads and writes it; which fields depend on family. */
export interface NativeAddress {
  family: number;
  /** AF_UNIX: a path, '' for an unnamed socket, a leading "\0" for an abstract name. */
  path?: string;
  /** AF_INET/AF_INET6: a numeric address. */
  address?: string;
  port?: number;
  scopeId?: number;
  /** AF_NETLINK: the port id (0 is the kernel) and the multicast group bitmask. */
  pid?: number;
  groups?: number;
}

export interface WrtkitNative {
  /** Interface version of the module; see NATIVE_VERSION. */
  readonly VERSION: number;

  socket(domain: number, type: number, protocol?: number): number;
  bind(fd: number, address: NativeAddress): number;
  connect(fd: number, address: NativeAddress): number;
  listen(fd: number, backlog?: number): number;
  accept(fd: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  setsockopt(fd: number, level: number, name: number, value: number): number;
  getsockopt(fd: number, level: number, name: number): number;
  getsockname(fd: number): [NativeAddress | null, number];
  getpeername(fd: number): [NativeAddress | null, number];
  send(fd: number, buffer: ArrayBuffer, offset: number, length: number, flags?: number): number;
  recv(fd: number, buffer: ArrayBuffer, offset: number, length: number, flags?: number): number;
  sendto(fd: number, buffer: ArrayBuffer, offset: number, length: number, address: NativeAddress, flags?: number): number;
  recvfrom(fd: number, buffer: ArrayBuffer, offset: number, length: number, flags?: number): [number, NativeAddress | null];
  fsync(fd: number): number;
  fsyncDir(path: string): number;
  chmod(path: string, mode: number): number;

  readonly AF_UNIX: number;
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly AF_NETLINK: number;
  readonly SOCK_STREAM: number;
  readonly SOCK_DGRAM: number;
  readonly SOCK_RAW: number;
  readonly SOL_SOCKET: number;
  readonly SO_REUSEADDR: number;
  readonly SO_ERROR: number;
  readonly MSG_PEEK: number;
  readonly MSG_TRUNC: number;
  readonly EAGAIN: number;
  readonly EINTR: number;
  readonly EINVAL: number;
  readonly EINPROGRESS: number;
  readonly EALREADY: number;
  readonly EISCONN: number;
  readonly ENOBUFS: number;
  readonly EMFILE: number;
  readonly ENFILE: number;
  readonly ENOMEM: number;
  readonly ETIMEDOUT: number;
  /** Every other constant (AF_*, SOCK_*, SO_*, RTMGRP_*, RTM_*, E*): see core/native/constants.c. */
  readonly [name: string]: unknown;
}

/** The module interface this code is written against (WN_VERSION in core/native/native.h). */
export const NATIVE_VERSION = 1;

/** Where the OpenWrt package wrtkit-native installs the module. */
export const NATIVE_MODULE_PATH = '/usr/lib/wrtkit/wrtkit-native.so';

export interface NativeLoadEnvironment {
  getenv(name: string): string | undefined;
  exists(path: string): boolean;
  importModule(path: string): Promise<unknown>;
  warn(message: string): void;
}

/**
 * Loads the native module from $WRTKIT_NATIVE, else from NATIVE_MODULE_PATH. Resolves
 * undefined when it is not installed (the host then runs without sockets and says so),
 * and when WRTKIT_NATIVE is set but empty (switched off). A module that is there but
 * does not load, or has another interface version, is reported through `warn` and not
 * used: a broken optional module must not keep the host from starting.
 */
export async function loadNative(env: NativeLoadEnvironment): Promise<WrtkitNative | undefined> {
  const configured = env.getenv('WRTKIT_NATIVE');
  if (configured === '') return undefined;
  const path = configured ?? NATIVE_MODULE_PATH;
  if (!env.exists(path)) {
    if (configured !== undefined) env.warn(`WRTKIT_NATIVE=${path}: no such file; running without sockets`);
    return undefined;
  }
  let mod: WrtkitNative;
  try {
    mod = (await env.importModule(path)) as WrtkitNative;
  } catch (e) {
    env.warn(`cannot load ${path}: ${e instanceof Error ? e.message : String(e)}; running without sockets`);
    return undefined;
  }
  if (mod.VERSION !== NATIVE_VERSION) {
    env.warn(`${path} has interface version ${String(mod.VERSION)}, this host needs ${NATIVE_VERSION}; running without sockets`);
    return undefined;
  }
  return mod;
}

/** Errno names by number, from the module's E* constants (the running arch's values). */
export function nativeErrnoNames(native: WrtkitNative): Record<number, string> {
  const names: Record<number, string> = {};
  for (const [name, value] of Object.entries(native)) {
    // EWOULDBLOCK is EAGAIN on Linux: keep the common name.
    if (/^E[A-Z0-9]+$/.test(name) && name !== 'EWOULDBLOCK' && typeof value === 'number') names[value] = name;
  }
  return names;
}
