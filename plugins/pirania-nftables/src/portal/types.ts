/**
 * The shapes the portal works with. The HTTP types are the part of core's HttpRequest /
 * HttpResponse (core/src/http/types.ts) the portal uses, declared here structurally: a
 * handler taking a PortalRequest is a valid HttpHandler for `serveHttp`, and tests build
 * requests as plain objects.
 */
import type { Logger } from '@wrtkit/sdk';
import type { Authorization, Voucher } from '../vouchers/voucher.js';

/** An IP endpoint as the HTTP server reports it. */
export interface PortalAddress {
  address: string;
  port: number;
}

/** What the portal reads from a request (a subset of core's HttpRequest). */
export interface PortalRequest {
  /** Upper case: GET, POST, HEAD, ... */
  readonly method: string;
  /** The request target as sent (`/activate?x=1`, or absolute-form through a proxy). */
  readonly target: string;
  /** The target's path, percent-decoded. */
  readonly path: string;
  /** Query parameters, decoded. */
  readonly query: Readonly<Record<string, string>>;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The client as the router sees it. */
  readonly remote?: PortalAddress;
  /** Our end: after an nftables redirect, the address of the interface the packet came in on. */
  readonly local?: PortalAddress;
  /** The body as `application/x-www-form-urlencoded` fields. */
  form(): Record<string, string>;
}

export interface PortalResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type PortalHandler = (request: PortalRequest) => Promise<PortalResponse>;

/**
 * The portal page's text, logo and colours: Pirania's content.json, as
 * `set_portal_page_content` writes it (src/content.ts reads it).
 */
export interface PortalContent {
  title: string;
  main_text: string;
  /** An image: a `data:image/…;base64,` URI (Pirania's form) or an http(s) URL. */
  logo?: string;
  link_title?: string;
  link_url?: string;
  background_color: string;
}

export interface PortalSettings {
  /** The name the portal resolver answers (thisnode.info). */
  portalDomain: string;
  /** The TCP port the portal listens on (59080). */
  portalPort: number;
  /** Where clients are sent: `http://<portalDomain>:<portalPort>/` unless configured. */
  portalUrl: string;
  /** Vouchers grant access; false (Pirania's read_for_access) is not supported: no form. */
  withVouchers: boolean;
}

/** The voucher operations the portal needs (the voucher store implements them). */
export interface PortalVouchers {
  /**
   * Binds the voucher with this code to the MAC and returns it. Throws a coded error
   * (WrtkitError) when the code is unknown, already used, expired or invalidated.
   */
  activate(code: string, mac: string): Voucher | Promise<Voucher>;
  /** The device's current authorization, or undefined. */
  authorizationOf(mac: string): Authorization | undefined | Promise<Authorization | undefined>;
}

export type LimitVerdict = { ok: true } | { ok: false; retryAfterS: number; scope: 'client' | 'global' };

/** Counts wrong codes (see rate-limit.ts). */
export interface AttemptLimiter {
  check(mac: string): LimitVerdict;
  failure(mac: string): void;
  success(mac: string): void;
}

export interface PortalDeps {
  vouchers: PortalVouchers;
  content(): PortalContent;
  settings(): PortalSettings;
  /** Whether the uplink is up (the connectivity hook's last word). */
  online(): boolean;
  /** The client's MAC from its IP address (neighbours.ts), undefined when unknown. */
  macOf(address: string): Promise<string | undefined>;
  limiter: AttemptLimiter;
  /** Wall-clock milliseconds (ctx.clock). */
  clock: { now(): number };
  log: Logger;
  /** Told after a voucher was activated (the plugin then opens the gate for the MAC). */
  onActivated?(voucher: Voucher, mac: string): void | Promise<void>;
  /** How an end of access is shown; default local time `YYYY-MM-DD HH:MM`. */
  formatTime?(ms: number): string;
}
