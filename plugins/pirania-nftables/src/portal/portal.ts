/**
 * The captive portal's HTTP handler: what an unauthorized device sees after nftables
 * sent its web traffic here, and where it enters a voucher code.
 *
 * - a request for any other site (its Host is not the portal) → 302 to the portal with
 *   `?prev=<the URL it asked for>`, so it can go back there afterwards;
 * - `GET /` (and Pirania's /portal/… pages) → the community's page with the code form,
 *   or "you are online until …" for an authorized device, or "the internet connection
 *   is down" when the uplink is;
 * - `POST /activate` (field `voucher`, hidden `prev`) → activates the code for the
 *   device's MAC: success page, or the form again with an error, or a wait when too
 *   many wrong codes were tried;
 * - `GET /api/captive` → the RFC 8908 captive-portal API (capport.ts).
 *
 * Plain HTML and inline CSS, no script (the CSP forbids it), so it works with JavaScript
 * off, in the OS's captive-portal mini browser, and on old phones. Every dependency is
 * injected (voucher store, content, settings, uplink state, neighbour lookup, limiter,
 * clock), so it is tested without sockets and served by core's `serveHttp`.
 */
import { ErrorCodes } from '@wrtkit/sdk';
import { PiraniaErrors } from '../vouchers/errors.js';
import type { Authorization, Voucher } from '../vouchers/voucher.js';
import { CAPPORT_CONTENT_TYPE, CAPPORT_PATHS, captiveState } from './capport.js';
import { PAGE_HEADERS, escapeHtml, renderPage, safeCssColor, safeHttpUrl, safeImageSource } from './html.js';
import { normalizeAddress } from './neighbours.js';
import type { PortalContent, PortalDeps, PortalHandler, PortalRequest, PortalResponse, PortalSettings } from './types.js';

/** Paths that show the portal page: ours and Pirania's (uhttpd) page paths. */
export const PAGE_PATHS: readonly string[] = [
  '/',
  '/index.html',
  '/portal',
  '/portal/',
  '/portal/index.html',
  '/portal/auth.html',
  '/portal/authenticated.html',
  '/portal/info.html',
  '/portal/fail.html',
];

export const ACTIVATE_PATH = '/activate';

/** Longest code accepted from the form (Pirania's are 6 letters; imported ones may differ). */
export const MAX_CODE_LENGTH = 32;

export const MESSAGES = {
  wrongCode: 'That code is not valid, or it was already used.',
  emptyCode: 'Please type the code from your voucher.',
  uplinkDown: "The community's internet connection is down right now.",
  offline:
    "The community's internet connection is down right now. Voucher codes cannot be used until it is back; please try again later.",
  unknownDevice:
    'The router could not recognise your device. Disconnect from this network, connect again, and open this page once more.',
  noVouchers: 'Voucher codes are not in use on this network.',
  failure: 'Something went wrong on the router. Please try again in a moment.',
} as const;

const DEFAULT_CONTENT: PortalContent = { title: 'Community network', main_text: '', background_color: '#eceff1' };

/** Errors that say the router failed, not that the code was wrong: not counted, 500. */
const SYSTEM_ERRORS = new Set<string>([
  ErrorCodes.IO,
  ErrorCodes.STATE_WRITE,
  ErrorCodes.PROCESS_SPAWN,
  ErrorCodes.PROCESS_TIMEOUT,
  ErrorCodes.PERMISSION,
  ErrorCodes.UNSUPPORTED,
  ErrorCodes.APPLY_FAILED,
  ErrorCodes.HOOK_FAILED,
  ErrorCodes.HOOK_TIMEOUT,
  ErrorCodes.UBUS_DISCONNECTED,
  ErrorCodes.UBUS_TIMEOUT,
]);

/**
 * A rejected code: a coded error (WrtkitError or alike) that is not a system failure —
 * the voucher store's PIRANIA_ERR_CODE_* (unknown, used, expired, invalidated) ride in
 * WRTKIT_ERR_INVALID_ARGUMENT's details.reason.
 */
export function isRejectedCode(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length > 0 && !SYSTEM_ERRORS.has(code) && !isRejectedMac(error);
}

/** The store refused the device's MAC (not a unicast address): not the person's fault. */
export function isRejectedMac(error: unknown): boolean {
  return (error as { details?: { reason?: unknown } } | null)?.details?.reason === PiraniaErrors.MAC_INVALID;
}

/** What a person typed, as codes are stored: trimmed, inner spaces dropped, upper case. */
export function normalizeCode(value: string | undefined): string {
  return String(value ?? '')
    .replace(/\s+/g, '')
    .toUpperCase();
}

/** Local time as `YYYY-MM-DD HH:MM` (QuickJS has no Intl). */
export function formatLocalTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** `http://<domain>:<port>/` (no port when 80): the default portal_url. */
export function defaultPortalUrl(domain: string, port: number): string {
  return `http://${domain}${port === 80 ? '' : `:${port}`}/`;
}

/** Host (lower case, no brackets) and port of a Host header. */
export function parseHost(value: string | undefined): { host: string; port?: number } | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^\s:/[\]]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  const host = (m[1] as string).replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return m[2] === undefined ? { host } : { host, port: Number(m[2]) };
}

function hostOfUrl(url: string): string | undefined {
  const m = /^https?:\/\/([^/?#\s]+)/i.exec(url.trim());
  return m ? parseHost(m[1])?.host : undefined;
}

/** Whether the request was addressed to the portal itself (by name or by the router's address). */
export function isPortalHost(request: PortalRequest, settings: PortalSettings): boolean {
  const host = parseHost(request.headers.host);
  if (host === undefined) return request.headers.host === undefined; // HTTP/1.0 without Host: serve
  const names = new Set<string>([settings.portalDomain.toLowerCase().replace(/\.$/, '')]);
  const urlHost = hostOfUrl(settings.portalUrl);
  if (urlHost) names.add(urlHost);
  if (names.has(host.host)) return true;
  const local = request.local ? normalizeAddress(request.local.address) : undefined;
  return local !== undefined && normalizeAddress(host.host) === local;
}

/** The URL the device asked for when nftables sent it here (`http://<Host><target>`). */
export function originalUrl(request: PortalRequest): string | undefined {
  if (/^https?:\/\//i.test(request.target)) return safeHttpUrl(request.target);
  const host = request.headers.host;
  if (host === undefined || parseHost(host) === undefined || !request.target.startsWith('/')) return undefined;
  return safeHttpUrl(`http://${host.trim()}${request.target}`);
}

/** The portal URL with `prev` added to its query. */
export function portalRedirectUrl(portalUrl: string, prev: string | undefined): string {
  if (prev === undefined) return portalUrl;
  const [base, fragment] = splitFragment(portalUrl);
  return `${base}${base.includes('?') ? '&' : '?'}prev=${encodeURIComponent(prev)}${fragment}`;
}

function splitFragment(url: string): [string, string] {
  const i = url.indexOf('#');
  return i < 0 ? [url, ''] : [url.slice(0, i), url.slice(i)];
}

function isActive(authorization: Authorization | undefined, nowMs: number): authorization is Authorization {
  return authorization !== undefined && (authorization.expiresAt === undefined || authorization.expiresAt * 1000 > nowMs);
}

function page(status: number, html: string, extra: Record<string, string> = {}): PortalResponse {
  return { status, headers: { ...PAGE_HEADERS, ...extra }, body: html };
}

interface PageOptions {
  prev?: string;
  error?: string;
  code?: string;
}

/** Builds the portal's handler. */
export function createPortal(deps: PortalDeps): PortalHandler {
  const formatTime = deps.formatTime ?? formatLocalTime;

  const content = (): PortalContent => {
    try {
      const c = deps.content();
      return c && typeof c === 'object' ? c : DEFAULT_CONTENT;
    } catch (error) {
      deps.log.warn('portal content unreadable, showing defaults', { error: String(error) });
      return DEFAULT_CONTENT;
    }
  };

  /** The community's header: logo, title, text. */
  const header = (c: PortalContent): string => {
    const logo = safeImageSource(c.logo);
    return (
      (logo ? `<img class="logo" src="${escapeHtml(logo)}" alt="">\n` : '') +
      `<h1>${escapeHtml(c.title || DEFAULT_CONTENT.title)}</h1>\n` +
      (c.main_text ? `<p class="text">${escapeHtml(c.main_text)}</p>\n` : '')
    );
  };

  /** The community's extra link, when it is a plain http(s) URL. */
  const footer = (c: PortalContent): string => {
    const url = safeHttpUrl(c.link_url);
    if (!url) return '';
    return `<p class="more"><a href="${escapeHtml(url)}">${escapeHtml(c.link_title || url)}</a></p>`;
  };

  const frame = (c: PortalContent, title: string, body: string): string => {
    const background = safeCssColor(c.background_color);
    return renderPage({ title, ...(background ? { background } : {}), body });
  };

  const voucherPage = (status: number, options: PageOptions = {}): PortalResponse => {
    const c = content();
    const described = options.error ? 'voucher-help voucher-error' : 'voucher-help';
    const body =
      header(c) +
      (options.error ? `<p class="error" id="voucher-error" role="alert">${escapeHtml(options.error)}</p>\n` : '') +
      `<form method="post" action="${ACTIVATE_PATH}">\n` +
      (options.prev ? `<input type="hidden" name="prev" value="${escapeHtml(options.prev)}">\n` : '') +
      '<label for="voucher">Voucher code</label>\n' +
      '<input type="text" id="voucher" name="voucher" required autofocus autocomplete="off" autocapitalize="characters" ' +
      `autocorrect="off" spellcheck="false" inputmode="text" maxlength="${MAX_CODE_LENGTH}" aria-describedby="${described}"` +
      (options.error ? ' aria-invalid="true"' : '') +
      (options.code ? ` value="${escapeHtml(options.code)}"` : '') +
      '>\n' +
      '<p id="voucher-help">Type the code printed on your voucher, then press Connect.</p>\n' +
      '<button type="submit">Connect</button>\n</form>\n' +
      footer(c);
    return page(status, frame(c, c.title || DEFAULT_CONTENT.title, body));
  };

  const noticePage = (status: number, title: string, message: string, extra: Record<string, string> = {}): PortalResponse => {
    const c = content();
    const body =
      header(c) +
      `<p class="notice" role="alert"><strong>${escapeHtml(title)}</strong><br>${escapeHtml(message)}</p>\n` +
      footer(c);
    return page(status, frame(c, `${title} — ${c.title || DEFAULT_CONTENT.title}`, body), extra);
  };

  const onlinePage = (expiresAt: number | undefined, prev: string | undefined): PortalResponse => {
    const c = content();
    const until =
      expiresAt === undefined ? 'Your access has no time limit.' : `Your access lasts until ${formatTime(expiresAt * 1000)}.`;
    const body =
      header(c) +
      `<div class="ok" role="status"><p><strong>You are online.</strong></p><p>${escapeHtml(until)}</p></div>\n` +
      (deps.online() ? '' : `<p class="notice">${escapeHtml(MESSAGES.uplinkDown)}</p>\n`) +
      (prev ? `<p><a href="${escapeHtml(prev)}">Continue to ${escapeHtml(prev)}</a></p>\n` : '') +
      footer(c);
    return page(200, frame(c, `You are online — ${c.title || DEFAULT_CONTENT.title}`, body));
  };

  const clientMac = async (request: PortalRequest): Promise<string | undefined> => {
    if (!request.remote) return undefined;
    return deps.macOf(request.remote.address);
  };

  const activeAuthorization = async (mac: string | undefined): Promise<Authorization | undefined> => {
    if (mac === undefined) return undefined;
    const authorization = await deps.vouchers.authorizationOf(mac);
    return isActive(authorization, deps.clock.now()) ? authorization : undefined;
  };

  const landing = async (request: PortalRequest, prev: string | undefined): Promise<PortalResponse> => {
    if (!deps.settings().withVouchers) return noticePage(503, 'No vouchers here', MESSAGES.noVouchers);
    const authorization = await activeAuthorization(await clientMac(request));
    if (authorization) return onlinePage(authorization.expiresAt, prev);
    if (!deps.online()) return noticePage(503, 'No internet right now', MESSAGES.offline);
    return voucherPage(200, prev ? { prev } : {});
  };

  const activate = async (request: PortalRequest): Promise<PortalResponse> => {
    let form: Record<string, string>;
    try {
      form = request.form();
    } catch {
      form = {};
    }
    const prev = safeHttpUrl(form.prev);
    const keep: PageOptions = prev ? { prev } : {};
    if (!deps.settings().withVouchers) return noticePage(503, 'No vouchers here', MESSAGES.noVouchers);
    const mac = await clientMac(request);
    if (mac === undefined) {
      deps.log.warn('portal: no MAC for client', { address: request.remote?.address });
      return noticePage(400, 'Device not recognised', MESSAGES.unknownDevice);
    }
    const current = await activeAuthorization(mac);
    if (current) return onlinePage(current.expiresAt, prev); // never spend a second code on an online device
    if (!deps.online()) return noticePage(503, 'No internet right now', MESSAGES.offline);
    const verdict = deps.limiter.check(mac);
    if (!verdict.ok) {
      const minutes = Math.max(1, Math.ceil(verdict.retryAfterS / 60));
      const who = verdict.scope === 'client' ? 'from this device' : 'on this network';
      deps.log.info('portal: code entry paused', { mac, scope: verdict.scope, retryAfterS: verdict.retryAfterS });
      return noticePage(
        429,
        'Too many wrong codes',
        `Too many wrong codes were entered ${who}. Please try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
        { 'Retry-After': String(verdict.retryAfterS) },
      );
    }
    const code = normalizeCode(form.voucher);
    if (code === '') return voucherPage(400, { ...keep, error: MESSAGES.emptyCode });
    let voucher: Voucher;
    try {
      if (code.length > MAX_CODE_LENGTH) throw Object.assign(new Error('code too long'), { code: ErrorCodes.INVALID_ARGUMENT });
      voucher = await deps.vouchers.activate(code, mac);
    } catch (error) {
      if (isRejectedMac(error)) {
        deps.log.warn('portal: MAC refused by the voucher store', { mac });
        return noticePage(400, 'Device not recognised', MESSAGES.unknownDevice);
      }
      if (!isRejectedCode(error)) throw error;
      deps.limiter.failure(mac);
      deps.log.info('portal: wrong voucher code', { mac, reason: (error as { code: string }).code });
      return voucherPage(403, { ...keep, error: MESSAGES.wrongCode, code: code.slice(0, MAX_CODE_LENGTH) });
    }
    deps.limiter.success(mac);
    deps.log.info('portal: voucher activated', { mac, voucher: voucher.id });
    try {
      await deps.onActivated?.(voucher, mac);
    } catch (error) {
      deps.log.error('portal: after activation', { mac, voucher: voucher.id, error: String(error) });
    }
    let expiresAt: number | undefined;
    const authorization = await activeAuthorization(mac).catch(() => undefined);
    if (authorization) expiresAt = authorization.expiresAt;
    else if (voucher.duration_m !== undefined) {
      expiresAt = (voucher.activation_date ?? Math.floor(deps.clock.now() / 1000)) + voucher.duration_m * 60;
    }
    return onlinePage(expiresAt, prev);
  };

  const capport = async (request: PortalRequest): Promise<PortalResponse> => {
    const authorization = await activeAuthorization(await clientMac(request));
    const state = captiveState(authorization, deps.settings().portalUrl, deps.clock.now());
    return {
      status: 200,
      headers: { 'Content-Type': CAPPORT_CONTENT_TYPE, 'Cache-Control': 'private, no-store' },
      body: JSON.stringify(state),
    };
  };

  const route = async (request: PortalRequest): Promise<PortalResponse> => {
    const method = request.method.toUpperCase();
    const read = method === 'GET' || method === 'HEAD';
    const settings = deps.settings();
    if (CAPPORT_PATHS.includes(request.path)) {
      return read ? capport(request) : page(405, notAllowed(), { Allow: 'GET, HEAD' });
    }
    if (!isPortalHost(request, settings)) {
      const location = portalRedirectUrl(settings.portalUrl, originalUrl(request));
      const body = renderPage({
        title: 'Redirecting',
        body: `<p>This network needs a voucher first: <a href="${escapeHtml(location)}">open the portal</a>.</p>`,
      });
      return page(302, body, { Location: location });
    }
    if (request.path === ACTIVATE_PATH) {
      if (method === 'POST') return activate(request);
      if (read) return landing(request, safeHttpUrl(request.query.prev));
      return page(405, notAllowed(), { Allow: 'POST, GET, HEAD' });
    }
    if (PAGE_PATHS.includes(request.path)) {
      if (read) return landing(request, safeHttpUrl(request.query.prev));
      return page(405, notAllowed(), { Allow: 'GET, HEAD' });
    }
    return page(404, renderPage({ title: 'Not found', body: '<h1>Not found</h1>\n<p><a href="/">Go to the portal</a></p>' }));
  };

  // HEAD gets the GET answer: the server sends its headers without the body.
  return async (request) => {
    try {
      return await route(request);
    } catch (error) {
      deps.log.error('portal: request failed', { path: request.path, error: String(error) });
      return page(500, renderPage({ title: 'Error', body: `<h1>Error</h1>\n<p>${escapeHtml(MESSAGES.failure)}</p>` }));
    }
  };
}

function notAllowed(): string {
  return renderPage({ title: 'Not allowed', body: '<h1>Method not allowed</h1>\n<p><a href="/">Go to the portal</a></p>' });
}
