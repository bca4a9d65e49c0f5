/**
 * HTTP probes: a HEAD request, natively over the platform's TCP (plain http, no binding),
 * or with curl (https, an interface or source address, use_curl), or — where curl is not
 * installed — uclient-fetch or wget, which only say whether the request worked.
 */
import { asciiBytes, latin1 } from './bytes.js';
import type { ProbeClock, ProbeSockets } from './deps.js';
import { networkDetail } from './deps.js';
import type { HttpTarget } from './target.js';

/** Inclusive ranges of statuses that count as online: [[200, 399]]. */
export type StatusRanges = ReadonlyArray<readonly [number, number]>;

export const USER_AGENT = 'wrtkit-dynapoint';
/** A status line longer than this is not one. */
const MAX_HEAD_BYTES = 8192;

/** `200-399 401` → [[200, 399], [401, 401]]; undefined when a part is not a status or range of them. */
export function parseStatusRanges(text: string): Array<[number, number]> | undefined {
  const parts = text.trim().split(/[\s,]+/);
  const out: Array<[number, number]> = [];
  for (const part of parts) {
    const m = /^([1-5][0-9]{2})(?:-([1-5][0-9]{2}))?$/.exec(part);
    if (!m) return undefined;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (high < low) return undefined;
    out.push([low, high]);
  }
  return out.length > 0 ? out : undefined;
}

/** [[200, 399], [401, 401]] → `200-399 401`. */
export function formatStatusRanges(ranges: StatusRanges): string {
  return ranges.map(([low, high]) => (low === high ? String(low) : `${low}-${high}`)).join(' ');
}

export function statusExpected(status: number, ranges: StatusRanges): boolean {
  return ranges.some(([low, high]) => status >= low && status <= high);
}

/** The verdict on a status: `HTTP 204`, or `HTTP 503 (expected 200-399)`. */
export function judgeStatus(status: number, ranges: StatusRanges): { ok: boolean; detail: string } {
  return statusExpected(status, ranges)
    ? { ok: true, detail: `HTTP ${status}` }
    : { ok: false, detail: `HTTP ${status} (expected ${formatStatusRanges(ranges)})` };
}

/** The status of an HTTP/1.x status line (`HTTP/1.1 204 No Content`), or undefined. */
export function parseStatusLine(line: string): number | undefined {
  const m = /^HTTP\/[0-9]\.[0-9] ([1-5][0-9]{2})(?:[ \t][^\r\n]*)?\r?$/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** The Host header: the name or address as in the URL, with the port when it is not the default. */
export function hostHeader(target: HttpTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const standard = target.kind === 'https' ? 443 : 80;
  return target.port === standard ? host : `${host}:${target.port}`;
}

/** The request: HEAD, the path without its fragment, Host, our User-Agent, no keep-alive. */
export function headRequest(target: HttpTarget): string {
  const hash = target.path.indexOf('#');
  const path = hash < 0 ? target.path : target.path.slice(0, hash) || '/';
  return `HEAD ${path} HTTP/1.1\r\nHost: ${hostHeader(target)}\r\nUser-Agent: ${USER_AGENT}\r\nConnection: close\r\n\r\n`;
}

/** What one native attempt came to. `connect` failures let the caller try the next address. */
export type HeadOutcome =
  { kind: 'status'; status: number } | { kind: 'connect'; detail: string } | { kind: 'failed'; detail: string };

export interface HeadDeps {
  sockets: ProbeSockets;
  clock: ProbeClock;
}

/**
 * Sends HEAD to `address` and reads the status line, within timeoutMs. The connection is
 * closed as soon as the status line is in (or on failure). A connect that outlives the
 * time limit is abandoned by the platform (connectTcp's timeoutMs).
 */
export function headOnce(deps: HeadDeps, target: HttpTarget, address: string, timeoutMs: number): Promise<HeadOutcome> {
  const request = asciiBytes(headRequest(target));
  if (!request) return Promise.resolve({ kind: 'failed', detail: 'the URL is not ASCII' });
  return new Promise<HeadOutcome>((resolve) => {
    let done = false;
    let connection: Awaited<ReturnType<ProbeSockets['connectTcp']>> | undefined;
    let head = '';
    const close = () => {
      try {
        connection?.close();
      } catch {
        // closing is best effort
      }
    };
    const finish = (outcome: HeadOutcome) => {
      if (done) return;
      done = true;
      cancel();
      close();
      resolve(outcome);
    };
    const cancel = deps.clock.setTimeout(() => finish({ kind: 'failed', detail: 'timeout' }), timeoutMs);
    const onData = (chunk: Uint8Array) => {
      if (done) return;
      head += latin1(chunk, 0, Math.min(chunk.length, MAX_HEAD_BYTES));
      if (!'HTTP/'.startsWith(head.slice(0, 5))) {
        finish({ kind: 'failed', detail: 'not an HTTP reply' });
        return;
      }
      const eol = head.indexOf('\n');
      if (eol < 0) {
        if (head.length >= MAX_HEAD_BYTES) finish({ kind: 'failed', detail: 'not an HTTP reply' });
        return;
      }
      const status = parseStatusLine(head.slice(0, eol));
      finish(status === undefined ? { kind: 'failed', detail: 'bad status line' } : { kind: 'status', status });
    };
    let connecting: Promise<Awaited<ReturnType<ProbeSockets['connectTcp']>>>;
    try {
      // the platform abandons the attempt at the limit: a blackholed address leaves no socket behind
      connecting = deps.sockets.connectTcp(address, target.port, { timeoutMs });
    } catch (error) {
      finish({ kind: 'connect', detail: networkDetail(error) });
      return;
    }
    connecting.then(
      (c) => {
        if (done) {
          try {
            c.close();
          } catch {
            // closing is best effort
          }
          return;
        }
        connection = c;
        c.onData(onData);
        c.onClose(() => finish({ kind: 'failed', detail: head === '' ? 'closed without a reply' : 'not an HTTP reply' }));
        c.write(request);
      },
      (error: unknown) => finish({ kind: 'connect', detail: networkDetail(error) }),
    );
  });
}

/** Seconds for --max-time and the like: whole or with up to three decimals, at least 0.001. */
export function seconds(ms: number): string {
  return String(Math.max(1, Math.round(ms)) / 1000);
}

/**
 * curl's argv: silent, the status code on stdout, HEAD, no redirects followed, no URL
 * globbing (`[` and `{` in a path are literal), bound when asked.
 */
export function curlArgv(url: string, timeoutMs: number, bind?: string): string[] {
  return [
    'curl',
    '-s',
    '-g',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--max-time',
    seconds(timeoutMs),
    '--max-redirs',
    '0',
    ...(bind !== undefined ? ['--interface', bind] : []),
    '--head',
    url,
  ];
}

/** uclient-fetch's or wget's argv (both take these): spider mode, quiet, a time limit in whole seconds. */
export function fetchArgv(program: 'uclient-fetch' | 'wget', url: string, timeoutMs: number): string[] {
  return [program, '--spider', '-q', '-T', String(Math.max(1, Math.ceil(timeoutMs / 1000))), url];
}

/** Why curl failed, by exit code (curl(1) EXIT CODES). */
export function curlExitDetail(code: number): string {
  switch (code) {
    case 6:
      return 'cannot resolve the host';
    case 7:
      return 'cannot connect';
    case 28:
      return 'timeout';
    case 35:
    case 58:
    case 59:
    case 66:
    case 80:
      return `TLS failed (curl exit ${code})`;
    case 45:
      return 'cannot bind (curl exit 45)';
    case 51:
    case 60:
    case 83:
      return `certificate not trusted (curl exit ${code})`;
    case 52:
      return 'closed without a reply';
    case 56:
      return 'connection failed while receiving';
    default:
      return `curl exit ${code}`;
  }
}

/** Why wget or uclient-fetch failed, by exit code (GNU wget's codes, which both follow). */
export function fetchExitDetail(program: string, code: number): string {
  const why: Record<number, string> = { 4: 'network failure', 5: 'TLS failed', 8: 'error status' };
  return `${program} exit ${code}${why[code] !== undefined ? ` (${why[code]})` : ''}`;
}
