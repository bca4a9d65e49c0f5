import { definePlugin, method } from '@wrtkit/sdk';
import { heartbeatHooks } from '@wrtkit-example/heartbeat/hooks';
import type { Config } from './generated/config.js';
import validateConfig from './generated/validate-config.js';
import schema from '../schema.json';

/**
 * An example plugin that depends on another: it taps heartbeat's offered `beat` hook,
 * keeps a persistent tally, and takes part in wireless composition (setting one SSID,
 * applied once by the host however many plugins compose). `fail_at` makes its tap throw,
 * to show that a failing plugin is isolated and retried while the rest keep running.
 */
export default definePlugin<Config>({
  name: 'beat-counter',
  version: '0.1.0',
  apiVersion: '^1',
  dependencies: { heartbeat: '^0.1.0' },
  configSchema: schema,
  validateConfig,
  setup(ctx) {
    let received = ctx.state.get<number>('received') ?? 0;
    let lastBeat: number | undefined;

    ctx.hooksOf(heartbeatHooks).beat.tap((beat) => {
      const { fail_at: failAt } = ctx.config.counter;
      if (failAt > 0 && beat.count === failAt) throw new Error(`configured to fail at beat ${failAt}`);
      received++;
      lastBeat = beat.count;
      ctx.state.set('received', received);
    });

    ctx.hooks.compose.wireless.tap((wireless) => {
      const { wifi_iface: iface, ssid } = ctx.config.counter;
      const section = iface ? wireless.section(iface) : undefined;
      if (section && ssid) section.set('ssid', ssid);
      return wireless;
    });
    ctx.hooks.configChanged.tap(() => ctx.requestCompose('wireless', 'ssid config changed'));

    ctx.serve({
      status: method({ access: 'read', schema: { type: 'object', properties: {}, additionalProperties: false } }, () => ({
        received,
        lastBeat: lastBeat ?? null,
      })),
    });
  },
});
