// Fakes for the probe layer's dependencies: processes that answer by program, TCP
// connections and UDP sockets driven by the test, and DNS replies built by hand.
import type { RunOptions } from '@wrtkit/sdk';
import type { ProbeConnection, ProbeDatagram, ProbeEndpoint, ProbeProcesses, ProbeSockets } from '../../src/probes/deps.js';

export interface RunCall {
  argv: readonly string[];
  options: RunOptions | undefined;
}

export type RunReply =
  { exitCode: number | null; stdout?: string; stderr?: string; timedOut?: boolean } | 'missing' | 'forbidden' | 'hang';

/** Processes answering per program (argv[0]); every call is recorded. */
export function fakeProcesses(replies: Record<string, RunReply | ((argv: readonly string[]) => RunReply)>) {
  const calls: RunCall[] = [];
  const processes: ProbeProcesses = {
    run(argv, options) {
      calls.push({ argv: [...argv], options });
      const entry = replies[argv[0] as string] ?? 'missing';
      const reply = typeof entry === 'function' ? entry(argv) : entry;
      if (reply === 'hang') return new Promise(() => {});
      if (reply === 'missing')
        return Promise.reject(
          Object.assign(new Error(`cannot start ${argv[0]}: ENOENT`), {
            code: 'WRTKIT_ERR_PROCESS_SPAWN',
            details: { errno: 'ENOENT' },
          }),
        );
      if (reply === 'forbidden')
        return Promise.reject(Object.assign(new Error('may not run'), { code: 'WRTKIT_ERR_PERMISSION' }));
      return Promise.resolve({
        exitCode: reply.exitCode,
        stdout: reply.stdout ?? '',
        stderr: reply.stderr ?? '',
        timedOut: reply.timedOut ?? false,
      });
    },
  };
  return { processes, calls };
}

export function ioError(errno: string): Error {
  return Object.assign(new Error(`io: ${errno}`), { code: 'WRTKIT_ERR_IO', details: { errno } });
}

export const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
export const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);

/** A TCP connection the test drives: what the prober wrote, and replies to push back. */
export class FakeConnection implements ProbeConnection {
  readonly written: Uint8Array[] = [];
  closed = false;
  private readonly dataHandlers: Array<(chunk: Uint8Array) => void> = [];
  private readonly closeHandlers: Array<() => void> = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly onRequest?: (c: FakeConnection, request: string) => void,
  ) {}

  write(data: Uint8Array): void {
    this.written.push(Uint8Array.from(data));
    this.onRequest?.(this, text(data));
  }
  onData(handler: (chunk: Uint8Array) => void): void {
    this.dataHandlers.push(handler);
  }
  onClose(handler: () => void): void {
    this.closeHandlers.push(handler);
  }
  close(): void {
    this.closed = true;
  }
  /** The peer sends. */
  send(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? ascii(data) : data;
    for (const h of this.dataHandlers) h(bytes);
  }
  /** The peer closes. */
  end(): void {
    for (const h of this.closeHandlers) h();
  }
  request(): string {
    return this.written.map(text).join('');
  }
}

export interface SentDatagram {
  data: Uint8Array;
  to: ProbeEndpoint;
}

/** A UDP socket the test drives. */
export class FakeDatagram implements ProbeDatagram {
  readonly sent: SentDatagram[] = [];
  closed = false;
  private handlers: Array<(data: Uint8Array, from: string | ProbeEndpoint) => void> = [];

  constructor(
    readonly options: { family: 'udp4' | 'udp6'; bind?: ProbeEndpoint },
    private readonly responder?: (query: Uint8Array, to: ProbeEndpoint, socket: FakeDatagram) => void,
    private readonly sendError?: Error,
  ) {}

  send(data: Uint8Array, to: ProbeEndpoint): Promise<void> {
    this.sent.push({ data: Uint8Array.from(data), to });
    if (this.sendError) return Promise.reject(this.sendError);
    // replies arrive after the send resolved, as on a real socket
    queueMicrotask(() => this.responder?.(data, to, this));
    return Promise.resolve();
  }
  onMessage(handler: (data: Uint8Array, from: string | ProbeEndpoint) => void): void {
    this.handlers.push(handler);
  }
  close(): void {
    this.closed = true;
  }
  /** A datagram arrives. */
  deliver(data: Uint8Array, from: ProbeEndpoint): void {
    if (this.closed) return;
    for (const h of this.handlers) h(data, from);
  }
}

export interface FakeSocketsOptions {
  /** A connection for (host, port), or an error to reject with, or 'hang' for a connect that never completes. */
  connect?: (host: string, port: number) => FakeConnection | Error | 'hang';
  /** Answers a UDP query: call socket.deliver(...) (or not). */
  udp?: (query: Uint8Array, to: ProbeEndpoint, socket: FakeDatagram) => void;
  /** openDatagram rejects with this. */
  openError?: Error;
  /** send rejects with this. */
  sendError?: Error;
}

export function fakeSockets(options: FakeSocketsOptions = {}) {
  const connections: FakeConnection[] = [];
  const connects: Array<{ host: string; port: number }> = [];
  const datagrams: FakeDatagram[] = [];
  const sockets: ProbeSockets = {
    connectTcp(host, port) {
      connects.push({ host, port });
      const c = options.connect?.(host, port) ?? ioError('ECONNREFUSED');
      if (c === 'hang') return new Promise(() => {});
      if (c instanceof Error) return Promise.reject(c);
      connections.push(c);
      return Promise.resolve(c);
    },
    openDatagram(o) {
      if (options.openError) return Promise.reject(options.openError);
      const d = new FakeDatagram(o, options.udp, options.sendError);
      datagrams.push(d);
      return Promise.resolve(d);
    },
  };
  return { sockets, connections, connects, datagrams };
}

// --- DNS messages by hand -------------------------------------------------------------

export interface QuestionInfo {
  id: number;
  name: string;
  type: number;
  /** The question section's bytes (name, type, class). */
  section: Uint8Array;
}

/** The id, name and type of a query the prober sent. */
export function readQuery(query: Uint8Array): QuestionInfo {
  let off = 12;
  const labels: string[] = [];
  while (query[off] !== 0) {
    const len = query[off] as number;
    labels.push(text(query.subarray(off + 1, off + 1 + len)));
    off += len + 1;
  }
  const type = ((query[off + 1] as number) << 8) | (query[off + 2] as number);
  return {
    id: ((query[0] as number) << 8) | (query[1] as number),
    name: labels.join('.'),
    type,
    section: query.subarray(12, off + 5),
  };
}

export interface AnswerSpec {
  type: number;
  rdata: number[];
  /** The owner name as bytes; default a pointer to the question's name (0xc00c). */
  name?: number[];
  ttl?: number;
}

/** A reply to `query`: flags QR|RD|RA, the question copied, the answers after it. */
export function dnsReply(
  query: Uint8Array,
  options: { rcode?: number; answers?: AnswerSpec[]; id?: number; flags?: number; truncated?: boolean } = {},
): Uint8Array {
  const q = readQuery(query);
  const id = options.id ?? q.id;
  const answers = options.answers ?? [];
  const flags = (options.flags ?? 0x8180) | (options.truncated ? 0x0200 : 0) | (options.rcode ?? 0);
  const bytes = [id >> 8, id & 255, flags >> 8, flags & 255, 0, 1, 0, answers.length, 0, 0, 0, 0, ...q.section];
  for (const a of answers) {
    const ttl = a.ttl ?? 60;
    bytes.push(...(a.name ?? [0xc0, 12]), 0, a.type, 0, 1, (ttl >>> 24) & 255, (ttl >> 16) & 255, (ttl >> 8) & 255, ttl & 255);
    bytes.push(a.rdata.length >> 8, a.rdata.length & 255, ...a.rdata);
  }
  return Uint8Array.from(bytes);
}

export const A = (address: string): AnswerSpec => ({ type: 1, rdata: address.split('.').map(Number) });
