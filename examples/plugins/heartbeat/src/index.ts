import { type Cancel, definePlugin, method } from '@wrtkit/sdk';
import type { Config } from './generated/config.js';
import validateConfig from './generated/validate-config.js';
import schema from '../schema.json';
import { heartbeatHooks } from './hooks.js';

export { heartbeatHooks } from './hooks.js';
export type { Beat } from './hooks.js';

/**
 * An example plugin that shows the host's parts working together: typed config from UCI,
 * a hook offered to other plugins, persistent state, a method table, a timer on the
 * injected clock, and a clean teardown.
 */
export default definePlugin<Config>({
  name: 'heartbeat',
  version: '0.1.0',
  apiVersion: '^1',
  configSchema: schema,
  validateConfig,
  offers: heartbeatHooks,
  setup(ctx) {
    const hooks = ctx.hooksOf(heartbeatHooks);
    let count = ctx.state.get<number>('count') ?? 0;
    let timer: Cancel | undefined;

    const beat = async () => {
      count++;
      ctx.state.set('count', count);
      const { label } = ctx.config.heartbeat;
      ctx.log.info('beat', { count, label });
      await hooks.beat.call({ count, label, at: ctx.clock.now() });
    };
    const start = () => {
      timer?.();
      timer = ctx.clock.setInterval(() => void beat(), ctx.config.heartbeat.interval);
    };

    ctx.hooks.ready.tap(() => start());
    ctx.hooks.configChanged.tap((change) => {
      if (change.config.heartbeat.interval !== change.previous.heartbeat.interval) start();
    });
    ctx.serve({
      status: method({ access: 'read', schema: { type: 'object', properties: {}, additionalProperties: false } }, () => ({
        count,
        interval: ctx.config.heartbeat.interval,
        label: ctx.config.heartbeat.label,
      })),
      beat: method(
        {
          description: 'beat once now',
          access: 'write',
          schema: { type: 'object', properties: {}, additionalProperties: false },
        },
        async () => {
          await beat();
          return { count };
        },
      ),
    });
    return () => timer?.();
  },
});
