/**
 * The handler server.test.ts serves on both engines (in-process on Node, through
 * qjs-entry.ts on QuickJS): a few routes that show what the server hands a handler, and
 * a record of what it told onError, readable at GET /errors so the test can check it
 * on either engine the same way.
 */
import { escapeHtml } from '../../src/http/html.js';
import type { HttpHandler, HttpRequest } from '../../src/http/types.js';

export interface TestApp {
  handler: HttpHandler;
  onError: (error: unknown, request?: HttpRequest) => void;
}

export function createTestApp(): TestApp {
  const errors: Array<{ code?: string; message: string; status?: unknown; path?: string }> = [];
  const json = (value: unknown) => ({
    status: 200,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(value),
  });
  const handler: HttpHandler = async (request) => {
    switch (request.path) {
      case '/hello':
        return {
          status: 200,
          headers: { 'Content-Type': 'text/html; charset=utf-8', 'X-Greeting': 'yes' },
          body: `<p>Hello, ${escapeHtml(request.query.name ?? 'stranger')}</p>`,
        };
      case '/echo':
        return json({
          method: request.method,
          target: request.target,
          path: request.path,
          query: request.query,
          headers: request.headers,
          remote: request.remote,
          local: request.local,
          text: request.text(),
        });
      case '/form':
        return json({ form: request.form(), length: request.body.length });
      case '/bytes':
        return { status: 200, body: Uint8Array.from([0, 1, 2, 255]) };
      case '/no-content':
        return { status: 204, body: 'dropped' };
      case '/later':
        await Promise.resolve();
        return { status: 201, body: 'made' };
      case '/throw':
        throw new Error('boom');
      case '/reject':
        return Promise.reject(new Error('rejected'));
      case '/split':
        return { status: 302, headers: { Location: `/x\r\nSet-Cookie: stolen=1` } };
      case '/errors':
        return json(errors);
      default:
        return { status: 404, headers: { 'Content-Type': 'text/plain' }, body: `no page ${request.path}` };
    }
  };
  const onError = (error: unknown, request?: HttpRequest) => {
    const e = error as { code?: string; message?: string; details?: { status?: unknown } };
    errors.push({
      ...(e.code ? { code: e.code } : {}),
      message: String(e.message ?? error),
      ...(e.details?.status !== undefined ? { status: e.details.status } : {}),
      ...(request ? { path: request.path } : {}),
    });
  };
  return { handler, onError };
}
