// A stand-in for offloadd's control socket: a Node unix-socket server speaking the
// protocol of native/offloadd/README.md (newline-delimited JSON, one reply per request,
// in order). It records every request and answers from `answer` (ok with a canned result
// unless the test says otherwise).
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Request {
  id: number | null;
  cmd: string;
  args?: Record<string, unknown>;
}

export type Answer = { result: Record<string, unknown> } | { error: { code: string; message: string } } | 'silent';

export class FakeDaemon {
  readonly requests: Request[] = [];
  readonly sockets = new Set<Socket>();
  answer: (request: Request) => Answer = (r) => ({ result: defaultResult(r) });

  private constructor(
    private readonly server: Server,
    readonly dir: string,
    readonly path: string,
  ) {}

  static async start(): Promise<FakeDaemon> {
    const dir = mkdtempSync(join(tmpdir(), 'wrtkit-offload-fake-'));
    const path = join(dir, 'offloadd.sock');
    const server = createServer();
    const fake = new FakeDaemon(server, dir, path);
    server.on('connection', (socket) => fake.accept(socket));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return fake;
  }

  commands(): string[] {
    return this.requests.map((r) => r.cmd);
  }

  of(cmd: string): Request[] {
    return this.requests.filter((r) => r.cmd === cmd);
  }

  /** Drops every connection (as a crashed daemon would). */
  disconnectAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async waitFor(cmd: string, count = 1, timeoutMs = 5000): Promise<Request[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.of(cmd).length < count) {
      if (Date.now() > deadline) throw new Error(`fake offloadd: no ${count}× ${cmd} (got ${this.commands().join(', ')})`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.of(cmd);
  }

  async close(): Promise<void> {
    this.disconnectAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    createInterface({ input: socket }).on('line', (line) => {
      const request = JSON.parse(line) as Request;
      this.requests.push(request);
      const answer = this.answer(request);
      if (answer === 'silent') return;
      const reply = 'result' in answer ? { id: request.id, ok: true, ...answer } : { id: request.id, ok: false, ...answer };
      socket.write(`${JSON.stringify(reply)}\n`);
    });
  }
}

export const FLOW = {
  id: 1,
  dir: 'original',
  key: { ifname: 'lan', family: 4, proto: 'tcp', src: '10.1.0.12', sport: 40000, dst: '10.2.0.2', dport: 5001 },
  nat: { src: '10.2.0.1', sport: 40000 },
  egress: { ifname: 'wan', dst_mac: '02:0f:00:00:02:02' },
  counters: { packets: 10, bytes: 15000, idle_ms: 3 },
};

function defaultResult(request: Request): Record<string, unknown> {
  switch (request.cmd) {
    case 'configure': {
      const interfaces = (request.args?.interfaces as Array<{ ifname: string; mode: string }> | undefined) ?? [];
      return {
        interfaces: interfaces.map((i, n) => ({ ...i, ifindex: n + 2, attached: i.mode === 'tc' ? 'tc' : 'xdp-native' })),
        ipv6: request.args?.ipv6 ?? true,
      };
    }
    case 'status':
      return { interfaces: [], flows: 2, offloaded_total: 1, stats: {}, events: {} };
    case 'flows':
      return { flows: [FLOW, { ...FLOW, dir: 'reply' }] };
    case 'flush_client':
    case 'flush':
      return { removed: 2 };
    default:
      return {};
  }
}
