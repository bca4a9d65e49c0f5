/**
 * The portal resolver: a dnsmasq on dns_port answering every name with the router's
 * address, for devices without a voucher (nftables redirects only their DNS here).
 *
 * ```ts
 * const resolver = new PortalResolver(ctx.processes, ctx.platform.fs, ctx.clock, ctx.log.child('dns'), '/var/run/pirania');
 * const settings = async () => ({
 *   port: base.dns_port, portalDomain: base.portal_domain,
 *   ...(await routerAddresses(ctx.processes, [...base.catch_interfaces, ...base.catch_bridged_interfaces])),
 * });
 * resolver.start(await settings());          // ready
 * resolver.update(await settings());         // config or address change: restarts only if the conf changed
 * ctx.onTeardown(() => resolver.stop());
 * ```
 */
export * from './addresses.js';
export * from './dnsmasq.js';
export * from './resolver.js';
