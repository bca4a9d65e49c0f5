import { method } from '../control/methods.js';
import type { Host } from './host.js';

/**
 * The host's own object, `wrtkit` (every reply is a JSON object, as ubus requires): what `wrtkit status|plugins|config validate|reload`
 * call, on the control socket now and on ubus later.
 */
export function createHostMethods(host: Host) {
  return {
    status: method(
      {
        description: 'host version, engine, uptime, plugin counts, load problems, composition',
        access: 'read',
        schema: { type: 'object', properties: {}, additionalProperties: false },
      },
      () => host.status(),
    ),
    plugins: method(
      {
        description: 'each plugin: state, failures, errors, config issues, time spent in hooks',
        access: 'read',
        schema: {
          type: 'object',
          properties: { name: { type: 'string', description: 'only this plugin' } },
          additionalProperties: false,
        },
      },
      (args) => {
        const all = host.pluginStatus();
        return { plugins: args.name === undefined ? all : all.filter((p) => p.name === args.name) };
      },
    ),
    validate: method(
      {
        description: 'validate /etc/config for the host and every plugin, changing nothing',
        access: 'read',
        schema: { type: 'object', properties: {}, additionalProperties: false },
      },
      () => ({ results: host.validate() }),
    ),
    reload: method(
      {
        description: 're-read config; changed plugins get configChanged, invalid ones keep their last good config',
        access: 'write',
        schema: { type: 'object', properties: {}, additionalProperties: false },
      },
      () => host.reload(),
    ),
    objects: method(
      {
        description: 'objects and methods served by the host and plugins',
        access: 'read',
        schema: { type: 'object', properties: {}, additionalProperties: false },
      },
      () => ({ objects: host.methods.describe() }),
    ),
  } as const;
}
