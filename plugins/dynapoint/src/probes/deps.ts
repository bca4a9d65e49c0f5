/**
 * What the probes need from the plugin context, as narrow interfaces: the plugin passes
 * `ctx.processes`, `ctx.clock`, `ctx.platform.sockets`, `ctx.platform.fs`; unit tests pass
 * fakes. Each is a structural subset of the SDK's type, so the real ones fit as they are.
 */
import type { RunOptions } from '@wrtkit/sdk';

/** PluginProcesses' run (curl, uclient-fetch, wget and ping must be in permissions.exec). */
export interface ProbeProcesses {
  run(
    argv: readonly string[],
    options?: RunOptions,
  ): Promise<{ exitCode: number | null; stdout: string; stderr: string; timedOut?: boolean }>;
}

/** The Clock's timer and monotonic time. */
export interface ProbeClock {
  monotonic(): number;
  /** Returns a function that cancels the timer. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export interface ProbeConnection {
  write(data: Uint8Array): void;
  onData(handler: (chunk: Uint8Array) => void): void;
  onClose(handler: () => void): void;
  close(): void;
}

export interface ProbeEndpoint {
  address: string;
  port: number;
}

export interface ProbeDatagram {
  send(data: Uint8Array, to: ProbeEndpoint): Promise<void>;
  onMessage(handler: (data: Uint8Array, from: string | ProbeEndpoint) => void): void;
  close(): void;
}

/** The platform's Sockets, TCP connect and UDP (numeric addresses only: qjs has no resolver). */
export interface ProbeSockets {
  connectTcp(host: string, port: number, options?: { timeoutMs?: number }): Promise<ProbeConnection>;
  openDatagram(options: { family: 'udp4' | 'udp6'; bind?: ProbeEndpoint }): Promise<ProbeDatagram>;
}

/** The platform's file system, for /etc/resolv.conf and /etc/hosts. */
export interface ProbeFiles {
  tryReadText(path: string): string | undefined;
}

/** errno name of a platform error (WRTKIT_ERR_IO carries details.errno), if any. */
export function errnoOf(error: unknown): string | undefined {
  const details = (error as { details?: { errno?: unknown } } | null | undefined)?.details;
  return typeof details?.errno === 'string' ? details.errno : undefined;
}

/** The error code of a platform error (`WRTKIT_ERR_PROCESS_SPAWN`, …), if any. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An error's message, without the `Error: ` prefix String() would add. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Words for a failed connect or send, as a probe reports them. */
export function networkDetail(error: unknown): string {
  const errno = errnoOf(error);
  switch (errno) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNRESET':
      return 'reset';
    default:
      return `failed: ${errno ?? messageOf(error)}`;
  }
}
