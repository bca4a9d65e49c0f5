import { ErrorCodes, WrtkitError } from '../errors.js';
import { utf8Encode } from '../util/utf8.js';
import type { HttpResponse } from './types.js';

/**
 * Turning a handler's response into bytes: status line, the handler's headers, then the
 * ones the server owns (Content-Length, Date, Connection: close), then the body. A
 * response that would break the framing (a CR or LF in a header, a status outside
 * 200-599) is refused rather than sent, so echoing a client's input into a header
 * cannot split the response.
 */

/** Reason phrases of RFC 9110 (and 428/429/431/451 from their RFCs). */
const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** The standard reason phrase, or '' for a code without one (the status line allows that). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

/** Headers the server writes itself; the handler's versions are dropped. */
const SERVER_HEADERS = new Set(['content-length', 'date', 'connection', 'transfer-encoding']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate), written out rather than left to the engine's toUTCString. */
export function httpDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  return (
    `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`
  );
}

/** A short text/plain answer, for the server's own errors. */
export function plainResponse(status: number, text: string): HttpResponse {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `${text}\n` };
}

/**
 * The bytes of a response. `head`: a HEAD request, whose answer has the headers of a GET
 * (Content-Length included) but no body. Throws WRTKIT_ERR_HTTP_RESPONSE for a response
 * that cannot be sent.
 */
export function serializeResponse(response: HttpResponse, options: { head: boolean; now: number }): Uint8Array {
  const invalid = (what: string) => new WrtkitError(ErrorCodes.HTTP_RESPONSE, `handler returned ${what}`);
  if (response === null || typeof response !== 'object') throw invalid(`${String(response)} instead of a response`);
  const { status } = response;
  if (!Number.isInteger(status) || status < 200 || status > 599) throw invalid(`status ${String(status)} (not 200-599)`);

  let text = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (!TOKEN.test(name)) throw invalid(`a malformed header name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      throw invalid(`a malformed value for header ${name} (a string without control characters)`);
    }
    if (!SERVER_HEADERS.has(name.toLowerCase())) text += `${name}: ${value}\r\n`;
  }

  const { body } = response;
  let bytes: Uint8Array;
  if (body === undefined) bytes = new Uint8Array(0);
  else if (typeof body === 'string') bytes = utf8Encode(body);
  else if (body instanceof Uint8Array) bytes = body;
  else throw invalid('a body that is neither a string nor a Uint8Array');
  // 204 and 304 never carry a body; a Content-Length would describe another response.
  const bodiless = status === 204 || status === 304;
  if (!bodiless) text += `Content-Length: ${bytes.length}\r\n`;
  text += `Date: ${httpDate(options.now)}\r\nConnection: close\r\n\r\n`;

  const headBytes = utf8Encode(text);
  if (options.head || bodiless || bytes.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + bytes.length);
  out.set(headBytes);
  out.set(bytes, headBytes.length);
  return out;
}
