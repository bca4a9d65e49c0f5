import { ErrorCodes, WrtkitError } from '../errors.js';
import type { Connection, Platform, TimerHandle, Timers } from '../platform/platform.js';
import { utf8Decode, utf8Encode } from '../util/utf8.js';
import { parseForm, percentDecode } from './form.js';
import { type RequestHead, RequestParser, splitTarget } from './parse.js';
import { plainResponse, reasonPhrase, serializeResponse } from './response.js';
import type { HttpRequest, HttpResponse, HttpServer, HttpServerOptions } from './types.js';

const DEFAULT_MAX_HEADER_BYTES = 8 * 1024;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/**
 * After refusing a request that was not read to its end, keep reading (and dropping)
 * this long before closing: closing a socket with unread input makes the kernel send a
 * reset, and a client that is still sending its body would lose our answer with it.
 */
const LINGER_MS = 2_000;
const CONTINUE = utf8Encode('HTTP/1.1 100 Continue\r\n\r\n');

/**
 * Serves HTTP/1.x on a TCP port through the Platform's sockets, so the same code runs on
 * Node and on QuickJS with the native module. Each connection carries one request; the
 * answer says `Connection: close`. Rejects with WRTKIT_ERR_UNSUPPORTED where the engine
 * has no sockets, and with the platform's WRTKIT_ERR_IO when the port cannot be bound.
 */
export async function serveHttp(platform: Platform, options: HttpServerOptions): Promise<HttpServer> {
  const sockets = platform.sockets;
  if (!sockets) {
    throw new WrtkitError(
      ErrorCodes.UNSUPPORTED,
      'an HTTP server needs sockets, which this engine lacks (QuickJS without the native module, core/native)',
    );
  }
  const settings: ConnectionSettings = {
    options,
    timers: platform.timers,
    maxHeaderBytes: options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
  const server = await sockets.listenTcp(options.host ?? '::', options.port, (connection) =>
    serveConnection(connection, settings),
  );
  return {
    address: server.address,
    port: server.port,
    close: () => server.close(),
  };
}

interface ConnectionSettings {
  options: HttpServerOptions;
  timers: Timers;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
}

/** One connection: read one request (within the time limit), answer it, close. */
function serveConnection(connection: Connection, settings: ConnectionSettings): void {
  const { options, timers } = settings;
  const parser = new RequestParser(settings);
  /** reading → answering (the handler runs) → closed; lingering after a refusal. */
  let stage: 'reading' | 'answering' | 'lingering' | 'closed' = 'reading';
  let receivedAny = false;
  let continued = false;
  let lingerTimer: TimerHandle | undefined;

  const report = (error: unknown, request?: HttpRequest): void => {
    try {
      options.onError?.(error, request);
    } catch {
      // whoever listens for errors must not take the connection down with them
    }
  };

  const send = (bytes: Uint8Array, linger: boolean): void => {
    if (stage === 'closed') return;
    connection.write(bytes);
    if (!linger) {
      stage = 'closed';
      connection.close();
      return;
    }
    stage = 'lingering';
    lingerTimer = timers.setTimeout(() => {
      stage = 'closed';
      connection.close();
    }, LINGER_MS);
  };

  const refuse = (status: number, reason: string): void => {
    report(
      new WrtkitError(ErrorCodes.HTTP_REQUEST, `refused a request with ${status} ${reasonPhrase(status)}: ${reason}`, {
        details: { status, ...(connection.remote ? { remote: connection.remote } : {}) },
      }),
    );
    const response = plainResponse(status, `${status} ${reasonPhrase(status)}: ${reason}`);
    send(serializeResponse(response, { head: false, now: timers.wallMs() }), true);
  };

  const answer = async (head: RequestHead, body: Uint8Array): Promise<void> => {
    const request = buildRequest(head, body, connection);
    const isHead = head.method === 'HEAD';
    let bytes: Uint8Array;
    try {
      const response: HttpResponse = await options.handler(request);
      bytes = serializeResponse(response, { head: isHead, now: timers.wallMs() });
    } catch (error) {
      report(error, request);
      bytes = serializeResponse(plainResponse(500, '500 Internal Server Error'), { head: isHead, now: timers.wallMs() });
    }
    send(bytes, false);
  };

  const readTimer = timers.setTimeout(() => {
    if (stage !== 'reading') return;
    if (receivedAny) {
      refuse(408, `the request did not arrive within ${settings.requestTimeoutMs} ms`);
      return;
    }
    // Browsers open spare connections they may never use: close those without a word.
    stage = 'closed';
    connection.close();
  }, settings.requestTimeoutMs);

  connection.onClose(() => {
    stage = 'closed';
    timers.clearTimeout(readTimer);
    if (lingerTimer !== undefined) timers.clearTimeout(lingerTimer);
  });

  connection.onData((chunk) => {
    if (stage !== 'reading' || chunk.length === 0) return; // later bytes are read and dropped
    receivedAny = true;
    const result = parser.push(chunk);
    if (result.state === 'incomplete') {
      if (parser.head?.expectsContinue && !continued) {
        continued = true;
        connection.write(CONTINUE);
      }
      return;
    }
    timers.clearTimeout(readTimer);
    if (result.state === 'refused') {
      refuse(result.status, result.reason);
      return;
    }
    stage = 'answering';
    void answer(result.head, result.body);
  });
}

function buildRequest(head: RequestHead, body: Uint8Array, connection: Connection): HttpRequest {
  const { path, query } = splitTarget(head.target);
  return {
    method: head.method,
    target: head.target,
    path: percentDecode(path),
    query: parseForm(query),
    headers: head.headers,
    body,
    ...(connection.remote ? { remote: connection.remote } : {}),
    ...(connection.local ? { local: connection.local } : {}),
    text: () => utf8Decode(body),
    form: () => parseForm(utf8Decode(body)),
  };
}
