/**
 * Plays ubusd's side of a recorded scenario (fixtures/ubus, captured from the real
 * ubusd) on a real unix socket: for one connection, it sends what ubusd sent and checks
 * that what arrives from our client is byte-identical to what the real process sent.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../helpers/engines.js';

export interface RecordedMessage {
  index: number;
  conn: number;
  role: string;
  direction: 'client->server' | 'server->client';
  hex: string;
  decoded: unknown;
}

export interface Scenario {
  scenario: string;
  connections: Record<string, string>;
  messages: Array<RecordedMessage | { index: number; conn: number; event: string }>;
}

export function loadScenario(name: string): Scenario {
  return JSON.parse(readFileSync(join(repoRoot, 'core/test/fixtures/ubus', `${name}.json`), 'utf8')) as Scenario;
}

/** The messages of the connection a role used, in order. */
export function messagesOf(scenario: Scenario, role: string): RecordedMessage[] {
  const conn = Number(Object.entries(scenario.connections).find(([, r]) => r === role)?.[0]);
  return scenario.messages.filter((m): m is RecordedMessage => 'hex' in m && m.conn === conn);
}

export interface Replay {
  /**
   * Resolves when every recorded message went out and every expected one came in; then
   * ubusd's side waits briefly for anything more and hangs up, as the recorded run ended.
   */
  done: Promise<void>;
  /** Differences: expected hex vs what our client sent. */
  mismatches: Array<{ index: number; expected: string; actual: string }>;
  /** Bytes our client sent after the recorded conversation (its cleanup, e.g. REMOVE_OBJECT). */
  trailing: Buffer[];
  close(): Promise<void>;
}

/**
 * Serves one connection at `path`, playing `messages`: server->client ones are written
 * as soon as every client->server message before them has arrived and matched.
 */
export async function replay(path: string, messages: RecordedMessage[]): Promise<Replay> {
  const mismatches: Replay['mismatches'] = [];
  const trailing: Buffer[] = [];
  let finish!: () => void;
  let fail!: (e: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  let socket: Socket | undefined;
  const server: Server = createServer((sock) => {
    socket = sock;
    let buffer = Buffer.alloc(0);
    let at = 0;
    const pump = () => {
      while (at < messages.length) {
        const message = messages[at] as RecordedMessage;
        const expected = Buffer.from(message.hex, 'hex');
        if (message.direction === 'server->client') {
          sock.write(expected);
          at++;
          continue;
        }
        if (buffer.length < expected.length) return;
        const actual = buffer.subarray(0, expected.length);
        buffer = buffer.subarray(expected.length);
        if (!actual.equals(expected))
          mismatches.push({ index: message.index, expected: message.hex, actual: actual.toString('hex') });
        at++;
      }
      if (finished) return;
      finished = true;
      // Whatever comes after the recorded conversation is collected, then we hang up.
      setTimeout(() => {
        if (buffer.length > 0) trailing.push(buffer);
        buffer = Buffer.alloc(0);
        sock.end();
        finish();
      }, 100);
    };
    let finished = false;
    sock.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!finished) pump();
    });
    sock.on('error', (e) => fail(e));
    pump();
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    done,
    mismatches,
    trailing,
    close: () =>
      new Promise<void>((resolve) => {
        socket?.destroy();
        server.close(() => resolve());
      }),
  };
}
