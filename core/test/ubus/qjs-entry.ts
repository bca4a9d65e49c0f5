/**
 * Bundled by client-replay-qjs.test.ts and run under QuickJS with the native socket
 * module: plays one role of one recorded scenario with our client against the replay
 * socket, and prints the result as one JSON line.
 * Usage: qjs <bundle> <scenario> <role> <socket path>
 */
import { SystemClock } from '../../src/clock/clock.js';
import { loadPlatform } from '../../src/platform/detect.js';
import { UbusClient } from '../../src/ubus/client.js';
import { roles } from './client-roles.js';

// An async main, not top-level await (see core/src/main.ts).
async function main(): Promise<void> {
  const platform = await loadPlatform();
  const [scenario = '', role = '', path = ''] = platform.args;
  const action = roles[scenario]?.[role];
  if (!platform.sockets || !action) {
    platform.stdio.writeStderr(`no sockets (native module) or no role ${scenario} ${role}\n`);
    platform.exit(2);
    return;
  }
  const clock = new SystemClock(platform.timers);
  const client = await UbusClient.connect({ sockets: platform.sockets, clock, path, reconnect: false, timeoutMs: 5000 });
  const hungUp = new Promise<void>((resolve) => client.onState((s) => s === 'disconnected' && resolve()));
  const result = await action(client, { done: hungUp, sleep: (ms) => clock.sleep(ms) });
  client.close();
  // bigint (int64 beyond 2^53) is not JSON: send it as a tagged string
  platform.stdio.writeStdout(
    `${JSON.stringify({ engine: platform.engine, result }, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}\n`,
  );
  platform.exit(0);
}

void main();
