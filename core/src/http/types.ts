import type { InetAddress } from '../platform/platform.js';

/**
 * A small HTTP/1.1 server for pages a plugin serves on the router (a captive portal, a
 * status page): on both engines, over the Platform's TCP sockets, because QuickJS has no
 * HTTP module and uhttpd cannot call into the host. One request per connection
 * (`Connection: close`): simple, and enough for forms and small JSON answers.
 */
export interface HttpRequest {
  /** Upper case, as sent: GET, POST, HEAD, ... */
  readonly method: string;
  /** The request target as sent (`/activate?x=1`). */
  readonly target: string;
  /** The target's path, percent-decoded (`/activate`). */
  readonly path: string;
  /** Query parameters, decoded (`+` is a space); the last value wins for repeated names. */
  readonly query: Readonly<Record<string, string>>;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body (Content-Length only; chunked request bodies are refused with 411). */
  readonly body: Uint8Array;
  /** The peer (the client's address as the router sees it). */
  readonly remote?: InetAddress;
  /** Our end: after an nftables redirect, the address of the interface the packet came in on. */
  readonly local?: InetAddress;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body as `application/x-www-form-urlencoded` fields (last value wins). */
  form(): Record<string, string>;
}

export interface HttpResponse {
  status: number;
  /** Header names as given; Content-Length, Date, Connection are set by the server. */
  headers?: Record<string, string>;
  /** Text is sent as UTF-8. */
  body?: string | Uint8Array;
}

export type HttpHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

export interface HttpServerOptions {
  /** Address to bind: `::` (default; IPv4 too, as v4-mapped), `0.0.0.0`, `127.0.0.1`, ... */
  host?: string;
  /** 0: the kernel chooses (see HttpServer.port). */
  port: number;
  handler: HttpHandler;
  /** Largest request line + headers in bytes (default 8 KiB); more gets 431. */
  maxHeaderBytes?: number;
  /** Largest body in bytes (default 64 KiB); more gets 413. */
  maxBodyBytes?: number;
  /** A request must arrive completely within this many ms (default 10 s; slow clients get 408). */
  requestTimeoutMs?: number;
  /** Told about handler failures (they become a 500 page) and malformed requests. */
  onError?: (error: unknown, request?: HttpRequest) => void;
}

export interface HttpServer {
  readonly address: string;
  readonly port: number;
  /** Stops accepting; requests in progress finish. */
  close(): Promise<void>;
}
