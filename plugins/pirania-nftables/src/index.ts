import { definePlugin, method } from '@wrtkit/sdk';
import schema from '../schema.json';
import type { Config } from './generated/config.js';
import validateConfig from './generated/validate-config.js';
import { Pirania } from './pirania.js';

/**
 * pirania-nftables: LibreMesh's Pirania voucher captive portal on nftables. Reads
 * /etc/config/pirania, keeps Pirania's voucher files, serves Pirania's `pirania` ubus
 * object, and gates the clients of the catch interfaces until they enter a voucher on
 * the portal page. docs/plugins/pirania.md.
 */
export default definePlugin<Config>({
  name: 'pirania-nftables',
  version: '0.1.0',
  apiVersion: '^1',
  configSchema: schema,
  validateConfig,
  setup(ctx) {
    const pirania = new Pirania(ctx);
    ctx.serve(
      {
        ...pirania.methods(),
        status: method(
          {
            access: 'read',
            description: 'whether the portal gates, the uplink state, how many clients are authorized',
            schema: { type: 'object', properties: {}, additionalProperties: false },
          },
          () => ({ status: 'ok', ...pirania.status() }),
        ),
      },
      'pirania',
    );
    ctx.hooks.ready.tap(() => pirania.ready());
    ctx.hooks.configChanged.tap(({ config, previous }) => pirania.configChanged(config, previous));
    ctx.hooks.connectivity.tap((event) => pirania.onConnectivity(event));
    ctx.hooks.compose.dhcp.tap((dhcp) => pirania.composeDhcp(dhcp));
    ctx.onTeardown(() => pirania.stop());
  },
});
