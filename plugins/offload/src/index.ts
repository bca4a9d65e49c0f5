import { ErrorCodes, WrtkitError, definePlugin, method } from '@wrtkit/sdk';
import schema from '../schema.json';
import type { Connect } from './control.js';
import type { Config } from './generated/config.js';
import validateConfig from './generated/validate-config.js';
import { Offload } from './offload.js';

const MAC = '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$';
const ADDRESS = '^([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$';
const NO_ARGS = { type: 'object', properties: {}, additionalProperties: false } as const;

/**
 * offload: the eBPF flow offload. Runs offloadd (native/offloadd), which attaches the
 * XDP/TC datapath (ebpf/offload) to the interfaces of /etc/config/offload and moves
 * established forwarded connections onto it; serves `offload` status/flows/flush and
 * flushes a client's flows when it loses its authorization (clientAuthorization).
 */
export default definePlugin<Config>({
  name: 'offload',
  version: '0.1.0',
  apiVersion: '^1',
  configSchema: schema,
  validateConfig,
  setup(ctx) {
    const connect: Connect = (path) => {
      const sockets = ctx.platform.sockets;
      if (!sockets) {
        return Promise.reject(
          new WrtkitError(ErrorCodes.UNSUPPORTED, 'offload: this engine has no sockets (the QuickJS native module is missing)'),
        );
      }
      return sockets.connect(path);
    };
    const offload = new Offload({
      processes: ctx.processes,
      connect,
      clock: ctx.clock,
      log: ctx.log,
      remembered: {
        load: () => ctx.state.get<string[]>('deauthorized') ?? [],
        save: (macs) => ctx.state.set('deauthorized', macs),
      },
    });
    ctx.serve({
      status: method(
        {
          access: 'read',
          description: 'enabled, the daemon (running, pid, starts, last exit), the last configure, and offloadd’s own status',
          schema: NO_ARGS,
        },
        () => offload.status(),
      ),
      flows: method(
        {
          access: 'read',
          description: 'the offloaded flows, one entry per direction (key, NAT, egress, fast-path counters)',
          schema: NO_ARGS,
        },
        () => offload.flows(),
      ),
      flush: method(
        {
          access: 'write',
          description: 'removes every offloaded flow (the connections go on through the stack)',
          schema: NO_ARGS,
        },
        () => offload.flush(),
      ),
      flush_client: method(
        {
          access: 'write',
          description: 'removes every flow of one client, by MAC (next hop) or by address; they go on through the stack',
          schema: {
            type: 'object',
            properties: {
              mac: { type: 'string', pattern: MAC },
              address: { type: 'string', pattern: ADDRESS, maxLength: 45 },
            },
            additionalProperties: false,
          },
        },
        (args: { mac?: string; address?: string }) => {
          if ((args.mac === undefined) === (args.address === undefined))
            throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'flush_client: give mac or address (one of them)');
          return offload.flushClient(args);
        },
      ),
    });
    ctx.hooks.ready.tap(() => offload.apply(ctx.config.offload));
    ctx.hooks.configChanged.tap(({ config }) => offload.apply(config.offload));
    ctx.hooks.clientAuthorization.tap((event) => offload.clientAuthorization(event));
    ctx.onTeardown(() => offload.stop());
  },
});
