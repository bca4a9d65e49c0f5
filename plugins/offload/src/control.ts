/**
 * The client of offloadd's control socket (native/offloadd/README.md, "Control
 * protocol"): a unix stream socket, one JSON request per line, exactly one response line
 * each, in order. Requests carry ids; each has a time limit. The connection is opened on
 * the first request and opened again after it closed (the daemon restarted): a request
 * made while the daemon is not listening (yet) retries the connect until its time limit.
 */
import { ErrorCodes, WrtkitError } from '@wrtkit/sdk';
import type { Cancel, Clock, Logger } from '@wrtkit/sdk';

/** A byte-stream connection (ctx.platform.sockets.connect's Connection). */
export interface ControlConnection {
  write(data: Uint8Array): void;
  onData(handler: (chunk: Uint8Array) => void): void;
  onClose(handler: () => void): void;
  close(): void;
}

export type Connect = (path: string) => Promise<ControlConnection>;

export interface ControlReply {
  id: number | null;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

/** The daemon answered a request with `ok: false`. */
export class DaemonError extends WrtkitError {
  constructor(
    readonly cmd: string,
    readonly daemonCode: string,
    message: string,
  ) {
    super(
      daemonCode === 'bad_args' || daemonCode === 'no_such_interface' ? ErrorCodes.INVALID_ARGUMENT : ErrorCodes.IO,
      `offloadd ${cmd}: ${daemonCode}: ${message}`,
      { details: { cmd, code: daemonCode } },
    );
  }
}

/** Below the host's default hook time limit (10 s): a tap waiting on a request ends in time. */
export const REQUEST_TIMEOUT_MS = 5000;
export const CONNECT_RETRY_MS = 100;

interface Pending {
  cmd: string;
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  cancel: Cancel;
}

export class ControlClient {
  private connection: ControlConnection | undefined;
  private connecting: Promise<ControlConnection> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer: number[] = [];
  private closed = false;

  constructor(
    private readonly connect: Connect,
    private readonly path: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.connection !== undefined;
  }

  /**
   * Sends `{id, cmd, args}` and resolves with the result; rejects with a DaemonError when
   * the daemon refused it, and
   * WRTKIT_ERR_CONTROL_UNAVAILABLE when the daemon could not be reached, went away or did
   * not answer in time.
   */
  request<T = Record<string, unknown>>(cmd: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(unavailable(cmd, 'the control client is closed'));
    const id = this.nextId++;
    const deadline = this.clock.monotonic() + this.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const cancel = this.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(unavailable(cmd, `no answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { cmd, resolve: resolve as (r: Record<string, unknown>) => void, reject, cancel });
      this.open(deadline).then(
        (connection) => {
          if (!this.pending.has(id)) return;
          connection.write(encodeLine(JSON.stringify(args ? { id, cmd, args } : { id, cmd })));
        },
        (error: unknown) => this.settle(id, undefined, unavailable(cmd, String(error))),
      );
    });
  }

  /** Closes the connection; pending requests fail. Later requests open a new one unless `final`. */
  close(final = false): void {
    if (final) this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    this.failAll('the connection was closed');
    connection?.close();
  }

  private open(deadline: number): Promise<ControlConnection> {
    if (this.connection) return Promise.resolve(this.connection);
    this.connecting ??= this.dial(deadline).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async dial(deadline: number): Promise<ControlConnection> {
    for (;;) {
      try {
        const connection = await this.connect(this.path);
        if (this.closed) {
          connection.close();
          throw new Error('the control client is closed');
        }
        this.connection = connection;
        this.buffer = [];
        connection.onData((chunk) => this.data(connection, chunk));
        connection.onClose(() => {
          if (this.connection !== connection) return;
          this.connection = undefined;
          this.failAll('offloadd closed the connection');
        });
        this.log.debug('offloadd control connected', { path: this.path });
        return connection;
      } catch (error) {
        if (this.closed || this.clock.monotonic() + CONNECT_RETRY_MS > deadline) throw error;
        await this.clock.sleep(CONNECT_RETRY_MS);
      }
    }
  }

  private data(connection: ControlConnection, chunk: Uint8Array): void {
    if (connection !== this.connection) return;
    for (const byte of chunk) {
      if (byte !== 0x0a) {
        this.buffer.push(byte);
        continue;
      }
      const line = decodeUtf8(this.buffer);
      this.buffer = [];
      if (line.trim() !== '') this.line(line);
    }
  }

  private line(line: string): void {
    let reply: ControlReply;
    try {
      reply = JSON.parse(line) as ControlReply;
    } catch {
      this.log.warn('offloadd sent a line that is not JSON', { line: line.slice(0, 200) });
      return;
    }
    if (typeof reply.id !== 'number' || !this.pending.has(reply.id)) {
      this.log.debug('offloadd: unmatched reply', { line: line.slice(0, 200) });
      return;
    }
    const entry = this.pending.get(reply.id);
    if (reply.ok) this.settle(reply.id, reply.result ?? {});
    else
      this.settle(
        reply.id,
        undefined,
        new DaemonError(entry?.cmd ?? '?', reply.error?.code ?? 'internal', reply.error?.message ?? 'failed'),
      );
  }

  private settle(id: number, result: Record<string, unknown> | undefined, error?: Error): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    entry.cancel();
    if (error) entry.reject(error);
    else entry.resolve(result ?? {});
  }

  private failAll(why: string): void {
    for (const [id, entry] of [...this.pending]) this.settle(id, undefined, unavailable(entry.cmd, why));
  }
}

function unavailable(cmd: string, why: string): WrtkitError {
  return new WrtkitError(ErrorCodes.CONTROL_UNAVAILABLE, `offloadd ${cmd}: ${why}`);
}

/** UTF-8 (QuickJS has no TextEncoder): the request line and its newline. */
export function encodeLine(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  out.push(0x0a);
  return Uint8Array.from(out);
}

/** UTF-8 bytes to text (an invalid sequence becomes U+FFFD). */
export function decodeUtf8(bytes: readonly number[]): string {
  let text = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    if (b < 0x80) {
      text += String.fromCharCode(b);
      i++;
      continue;
    }
    const need = b >= 0xf0 && b < 0xf8 ? 3 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xc0 && b < 0xe0 ? 1 : 0;
    let c = b & (0x3f >> need);
    let k = 1;
    for (; need > 0 && k <= need; k++) {
      const cont = bytes[i + k];
      if (cont === undefined || (cont & 0xc0) !== 0x80) break;
      c = (c << 6) | (cont & 63);
    }
    if (need === 0 || k <= need) {
      text += '\ufffd';
      i++;
      continue;
    }
    text += String.fromCodePoint(c);
    i += need + 1;
  }
  return text;
}
