/**
 * The captive portal: the page and its form (portal.ts), the RFC 8908/8910 captive-portal
 * API and DHCP announcement (capport.ts), the wrong-code limiter (rate-limit.ts) and the
 * client IP → MAC lookup (neighbours.ts). Wiring in the plugin:
 *
 * ```ts
 * const limiter = new CodeAttemptLimiter(limitsFrom(ctx.config.base_config), ctx.clock);
 * const handler = createPortal({
 *   vouchers, content: () => readContent(...), settings: () => portalSettings(ctx.config.base_config),
 *   online: () => uplinkOnline, macOf: createMacOf({ fs: ctx.platform.fs, processes: ctx.processes }),
 *   limiter, clock: ctx.clock, log: ctx.log.child('portal'), onActivated: (v, mac) => gate.allow(mac),
 * });
 * const server = await serveHttp(ctx.platform, { port: settings.portalPort, handler });
 * ```
 */
import type { Config } from '../generated/config.js';
import { defaultPortalUrl } from './portal.js';
import type { CodeAttemptLimits } from './rate-limit.js';
import type { PortalSettings } from './types.js';

export * from './capport.js';
export * from './html.js';
export * from './neighbours.js';
export * from './portal.js';
export * from './rate-limit.js';
export type * from './types.js';

/** The portal's settings from /etc/config/pirania's base_config. */
export function portalSettings(base: Config['base_config']): PortalSettings {
  return {
    portalDomain: base.portal_domain,
    portalPort: base.portal_port,
    portalUrl: base.portal_url ?? defaultPortalUrl(base.portal_domain, base.portal_port),
    withVouchers: base.with_vouchers,
  };
}

/** The limiter's limits from base_config. */
export function attemptLimits(base: Config['base_config']): CodeAttemptLimits {
  return {
    perClient: base.code_attempts_per_client,
    global: base.code_attempts_global,
    windowS: base.code_attempts_window,
  };
}
