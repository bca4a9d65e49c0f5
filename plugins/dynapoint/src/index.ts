import { ErrorCodes, UbusStatus, UbusStatusError, WrtkitError, definePlugin, method } from '@wrtkit/sdk';
import schema from '../schema.json';
import { Dynapoint } from './dynapoint.js';
import type { Config } from './generated/config.js';
import validateConfig from './generated/validate-config.js';

/**
 * dynapoint: access points that follow the uplink. Each `config rule` in
 * /etc/config/dynapoint probes its hosts every `interval`; wifi-ifaces marked
 * `option dynapoint_rule '<rule>'` are up while it is online, `'!<rule>'` while it is
 * offline. docs/plugins/dynapoint.md.
 */
export default definePlugin<Config>({
  name: 'dynapoint',
  version: '0.1.0',
  apiVersion: '^1',
  configSchema: schema,
  validateConfig,
  setup(ctx) {
    const dynapoint = new Dynapoint(ctx);
    const RULE = {
      type: 'object',
      properties: { rule: { type: 'string', minLength: 1, maxLength: 64 } },
      required: ['rule'],
      additionalProperties: false,
    } as const;
    ctx.serve({
      status: method(
        {
          access: 'read',
          description: 'per rule: state, since when, round counters, the last round’s probe results; wireless problems',
          schema: { type: 'object', properties: {}, additionalProperties: false },
        },
        () => dynapoint.status(),
      ),
      probe: method(
        { access: 'write', description: 'run one probe round of a rule now (it counts like any other round)', schema: RULE },
        async ({ rule }) => {
          if (!dynapoint.has(rule)) throw new UbusStatusError(UbusStatus.NOT_FOUND, `no rule ${rule} in /etc/config/dynapoint`);
          const report = await dynapoint.round(rule);
          if (!report) throw new WrtkitError(ErrorCodes.UNSUPPORTED, `rule ${rule} is disabled`);
          return { rule, ...report };
        },
      ),
    });
    ctx.hooks.ready.tap(() => dynapoint.ready());
    ctx.hooks.configChanged.tap(({ config }) => dynapoint.configChanged(config));
    ctx.hooks.compose.wireless.tap((wireless) => dynapoint.composeWireless(wireless));
    ctx.onTeardown(() => dynapoint.stop());
  },
});
