import { ErrorCodes, WrtkitError } from '../errors.js';
import type { CallOptions, UbusClient, UbusObjectInfo } from './client.js';

/**
 * The ubus a plugin receives: only what its manifest lists under `permissions.ubus`.
 * Entries are `<object>` (every method), `<object>:<method>`, or `event:<name>` (listen
 * and send); `*` matches any run of characters (`hostapd.*`, `event:hostapd.*`).
 * Listeners and subscriptions end with the plugin.
 */
export interface PluginUbus {
  /** True while connected to ubusd (false on hosts without one). */
  readonly available: boolean;
  lookup(pattern?: string): Promise<UbusObjectInfo[]>;
  call(
    object: string,
    method: string,
    args?: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<Array<Record<string, unknown>>>;
  send(event: string, data?: Record<string, unknown>): Promise<void>;
  listen(pattern: string, handler: (event: string, data: Record<string, unknown>) => void): Promise<() => Promise<void>>;
  subscribe(object: string, handler: (type: string, data: Record<string, unknown>) => void): Promise<() => Promise<void>>;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/** Whether a permissions.ubus list allows a call (method given), a subscription (no method), or an event. */
export function ubusAllowed(allowed: readonly string[], kind: 'call' | 'event', target: string, method?: string): boolean {
  return allowed.some((entry) => {
    if (kind === 'event') return entry.startsWith('event:') && globToRegExp(entry.slice('event:'.length)).test(target);
    if (entry.startsWith('event:')) return false;
    const [objectGlob = '', methodGlob = '*'] = entry.split(':');
    if (!globToRegExp(objectGlob).test(target)) return false;
    // A subscription covers all of an object's notifications: it needs the whole object.
    return method === undefined ? methodGlob === '*' : globToRegExp(methodGlob).test(method);
  });
}

export function createPluginUbus(
  plugin: string,
  allowed: readonly string[],
  client: () => UbusClient | undefined,
  onEnd: (stop: () => Promise<void>) => void,
): PluginUbus {
  const connected = (): UbusClient => {
    const c = client();
    if (!c?.connected) throw new WrtkitError(ErrorCodes.UBUS_DISCONNECTED, `plugin ${plugin}: no ubusd on this host`, { plugin });
    return c;
  };
  const deny = (what: string, entry: string): never => {
    throw new WrtkitError(
      ErrorCodes.PERMISSION,
      `plugin ${plugin} may not ${what}: add "${entry}" to permissions.ubus in its manifest`,
      {
        plugin,
      },
    );
  };
  return {
    get available() {
      return client()?.connected ?? false;
    },
    lookup: (pattern) => connected().lookup(pattern),
    call(object, method, args, options) {
      if (!ubusAllowed(allowed, 'call', object, method)) deny(`call ${object} ${method}`, `${object}:${method}`);
      return connected().call(object, method, args, options);
    },
    send(event, data) {
      if (!ubusAllowed(allowed, 'event', event)) deny(`send event ${event}`, `event:${event}`);
      return connected().send(event, data);
    },
    async listen(pattern, handler) {
      if (!ubusAllowed(allowed, 'event', pattern)) deny(`listen to ${pattern}`, `event:${pattern}`);
      const stop = await connected().listen(pattern, handler);
      onEnd(stop);
      return stop;
    },
    async subscribe(object, handler) {
      if (!ubusAllowed(allowed, 'call', object)) deny(`subscribe to ${object}`, object);
      const stop = await connected().subscribe(object, handler);
      onEnd(stop);
      return stop;
    },
  };
}
