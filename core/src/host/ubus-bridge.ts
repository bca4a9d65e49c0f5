import type { Clock } from '../clock/clock.js';
import type { MethodObject, MethodRegistry } from '../control/methods.js';
import { messageOf } from '../errors.js';
import { EventHookNames, type HostHooks } from '../hooks/host-hooks.js';
import { Stage } from '../hooks/stages.js';
import type { Logger } from '../log/logger.js';
import type { Sockets } from '../platform/platform.js';
import { type ServedObject, UbusClient } from '../ubus/client.js';

/**
 * The host on ubus: every object in the method registry (the host's `wrtkit`, each
 * plugin's) is served on ubus as it comes and goes, and the host's event hooks are sent as
 * ubus events `wrtkit.<hook>` so shell scripts and other daemons can `ubus listen` to
 * them. Reconnects after ubusd restarts are the client's job; objects come back with it.
 */
export class UbusBridge {
  private client: UbusClient | undefined;
  private readonly served = new Map<string, Promise<ServedObject | undefined>>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly registry: MethodRegistry,
    private readonly log: Logger,
  ) {}

  get connection(): UbusClient | undefined {
    return this.client;
  }

  async start(sockets: Sockets, clock: Clock, path: string): Promise<void> {
    this.client = await UbusClient.connect({ sockets, clock, log: this.log, path, reconnect: { initialMs: 500, maxMs: 30_000 } });
    this.log.info('serving objects on ubus', { path, clientId: this.client.clientId });
    this.unwatch = this.registry.watch((change) => {
      if (change.type === 'added') this.serve(change.object);
      else void this.withdraw(change.object.name);
    });
    for (const object of this.registry.list()) this.serve(object);
    await Promise.all(this.served.values());
  }

  /** Taps the event hooks (core-post, after plugins) to send them on as ubus events. */
  forwardEvents(hooks: HostHooks): void {
    for (const name of EventHookNames) {
      hooks[name].tapPromise({ name: 'wrtkit-ubus', stage: Stage.CorePost }, async (event: unknown) => {
        if (!this.client?.connected) return;
        try {
          await this.client.send(`wrtkit.${name}`, event as Record<string, unknown>);
        } catch (error) {
          this.log.debug('ubus event not sent', { event: name, error: messageOf(error) });
        }
      });
    }
  }

  stop(): void {
    this.unwatch?.();
    this.client?.close();
    this.client = undefined;
    this.served.clear();
  }

  private serve(object: MethodObject): void {
    const client = this.client;
    if (!client) return;
    const name = object.name;
    // A plugin restarted after a failure serves its object again: replace the old one.
    const previous = this.served.get(name);
    const added = (previous ? previous.then((old) => old?.remove()).catch(() => undefined) : Promise.resolve())
      .then(() => client.addObject(name, object.table, { invoke: (method, args) => this.registry.invoke(name, method, args) }))
      .catch((error: unknown) => {
        this.log.error('cannot serve object on ubus', { object: name, error: messageOf(error) });
        return undefined;
      });
    this.served.set(name, added);
  }

  private async withdraw(name: string): Promise<void> {
    const served = this.served.get(name);
    this.served.delete(name);
    const object = await served;
    await object
      ?.remove()
      .catch((error: unknown) => this.log.debug('ubus object removal failed', { object: name, error: messageOf(error) }));
  }
}
