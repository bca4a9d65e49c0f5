import type { Clock } from '../clock/clock.js';
import { RemoteError, controlCall } from '../control/client.js';
import { ErrorCodes, WrtkitError } from '../errors.js';
import type { Platform } from '../platform/platform.js';
import { type ArgsSchema, formatArgsErrors, validateArgs } from '../schema/args.js';
import { UbusClient, UbusStatusError } from '../ubus/client.js';
import { Status } from '../ubus/constants.js';

/** How the CLI reaches a running host: ubus when ubusd is there, the control socket otherwise. */
export interface HostLink {
  readonly via: 'ubus' | 'control socket';
  call(object: string, method: string, args?: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

export async function connectHost(platform: Platform, clock: Clock, paths: { ubus: string; control: string }): Promise<HostLink> {
  const sockets = platform.sockets;
  if (sockets && platform.fs.exists(paths.ubus)) {
    try {
      const client = await UbusClient.connect({ sockets, clock, path: paths.ubus, reconnect: false, timeoutMs: 30_000 });
      const hostOnUbus = (await client.lookup('wrtkit')).length > 0;
      if (hostOnUbus) return ubusLink(client);
      client.close();
    } catch {
      // ubusd not answering: fall back to the control socket
    }
  }
  return {
    via: 'control socket',
    call: (object, method, args = {}) => controlCall(sockets, paths.control, object, method, args),
    close: () => undefined,
  };
}

function ubusLink(client: UbusClient): HostLink {
  return {
    via: 'ubus',
    async call(object, method, args = {}) {
      try {
        const replies = await client.call(object, method, args);
        return replies.length === 0 ? null : replies.length === 1 ? replies[0] : replies;
      } catch (error) {
        throw await explain(client, object, method, args, error);
      }
    },
    close: () => client.close(),
  };
}

/**
 * ubus answers a failed call with a bare status. For the two a user can fix (wrong
 * arguments, unknown method) the CLI asks the host for the method's schema and says what
 * is wrong, as the control socket would.
 */
async function explain(
  client: UbusClient,
  object: string,
  method: string,
  args: Record<string, unknown>,
  error: unknown,
): Promise<unknown> {
  if (!(error instanceof UbusStatusError)) return error;
  const remote = (code: string, message: string) => new RemoteError({ code, message });
  if (error.status === Status.NOT_FOUND) return remote(ErrorCodes.METHOD_NOT_FOUND, `no object ${object}`);
  if (error.status !== Status.INVALID_ARGUMENT && error.status !== Status.METHOD_NOT_FOUND) {
    return remote(error.code, `${object}.${method}: ${error.message}`);
  }
  try {
    const [reply] = await client.call('wrtkit', 'objects', {});
    const objects = (reply?.objects ?? []) as Array<{ object: string; methods: Record<string, { schema: ArgsSchema }> }>;
    const spec = objects.find((o) => o.object === object)?.methods[method];
    if (!spec) return remote(ErrorCodes.METHOD_NOT_FOUND, `object ${object} has no method ${method}`);
    const problems = validateArgs(spec.schema, JSON.parse(JSON.stringify(args)));
    if (problems.length > 0) return remote(ErrorCodes.INVALID_ARGUMENT, `${object}.${method}: ${formatArgsErrors(problems)}`);
  } catch {
    // fall through to the bare status
  }
  return error instanceof WrtkitError ? remote(error.code, `${object}.${method}: ${error.message}`) : error;
}
