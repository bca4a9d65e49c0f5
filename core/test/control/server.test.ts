import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlCall, RemoteError } from '../../src/control/client.js';
import { MethodRegistry, method } from '../../src/control/methods.js';
import { ControlServer } from '../../src/control/server.js';
import { ErrorCodes } from '../../src/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { createNodePlatform } from '../../src/platform/node/index.js';

const servers: ControlServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve() {
  const platform = await createNodePlatform([]);
  const registry = new MethodRegistry();
  registry.register('demo', {
    echo: method(
      { access: 'read', schema: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 5 } } } },
      (args) => ({ text: args.text }),
    ),
    explode: method({ access: 'write', schema: { type: 'object' } }, () => {
      throw new Error('kaboom');
    }),
  });
  const path = join(mkdtempSync(join(tmpdir(), 'wrtkit-ctl-')), 'control.sock');
  const server = new ControlServer(platform.sockets!, registry, createLogger(() => undefined).logger);
  await server.listen(path);
  servers.push(server);
  return { platform, path };
}

/** Sends raw lines and collects the answer lines. */
function raw(path: string, payload: string, expected: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buffer = '';
    sock.on('data', (d) => {
      buffer += d.toString();
      const lines = buffer.split('\n').filter(Boolean);
      if (lines.length >= expected) {
        sock.end();
        resolve(lines);
      }
    });
    sock.on('error', reject);
    sock.write(payload);
  });
}

describe('control socket', () => {
  it('answers calls, validated by the method schema', async () => {
    const { platform, path } = await serve();
    await expect(controlCall(platform.sockets, path, 'demo', 'echo', { text: 'hi' })).resolves.toEqual({ text: 'hi' });
    const error = await controlCall(platform.sockets, path, 'demo', 'echo', { text: 'too long' }).catch((e: RemoteError) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).remote.code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect((error as RemoteError).remote.message).toBe('demo.echo: /text: must have at most 5 characters (maxLength)');
  });

  it('turns a handler that throws, or an unknown method, into an error answer', async () => {
    const { platform, path } = await serve();
    const failed = await controlCall(platform.sockets, path, 'demo', 'explode').catch((e: RemoteError) => e.remote);
    expect(failed).toMatchObject({ code: ErrorCodes.METHOD_FAILED, message: 'demo.explode failed: kaboom' });
    const missing = await controlCall(platform.sockets, path, 'demo', 'nope').catch((e: RemoteError) => e.remote);
    expect(missing).toMatchObject({ code: ErrorCodes.METHOD_NOT_FOUND });
    const noObject = await controlCall(platform.sockets, path, 'ghost', 'x').catch((e: RemoteError) => e.remote);
    expect(noObject).toMatchObject({ code: ErrorCodes.METHOD_NOT_FOUND, message: 'no object ghost' });
  });

  it('survives malformed requests and keeps serving the same connection', async () => {
    const { path } = await serve();
    const answers = await raw(
      path,
      [
        'not json',
        '{"id":1}',
        '{"id":2,"object":"demo","method":"echo","args":[1]}',
        '{"id":3,"object":"demo","method":"echo","args":{"text":"ok"}}',
        '',
      ].join('\n'),
      4,
    );
    const parsed = answers.map((a) => JSON.parse(a) as { id: unknown; error?: { code: string }; result?: unknown });
    expect(parsed.map((p) => [p.id, p.error?.code ?? 'ok'])).toEqual([
      [null, ErrorCodes.CONTROL_PROTOCOL],
      [1, ErrorCodes.CONTROL_PROTOCOL],
      [2, ErrorCodes.INVALID_ARGUMENT],
      [3, 'ok'],
    ]);
  });

  it('refuses a second host on the same socket and replaces a stale socket file', async () => {
    const { platform, path } = await serve();
    await expect(platform.sockets!.listen(path, () => undefined)).rejects.toMatchObject({ code: ErrorCodes.IO });
    await servers[0]?.close();
    servers.splice(0);
    // a leftover file from a crashed host is not a reason to refuse
    const fs = await import('node:fs');
    fs.writeFileSync(path, '');
    const again = await platform.sockets!.listen(path, () => undefined);
    await again.close();
  });

  it('says clearly when nobody listens', async () => {
    const platform = await createNodePlatform([]);
    await expect(controlCall(platform.sockets, '/nonexistent/control.sock', 'wrtkit', 'status')).rejects.toMatchObject({
      code: ErrorCodes.CONTROL_UNAVAILABLE,
    });
  });
});
