/**
 * Bundled by broker.test.ts and run under QuickJS with the native socket module: runs the
 * client ↔ broker cases of broker-suite.ts (broker and clients in this one qjs process)
 * and prints one JSON line per case.
 * Usage: qjs <bundle> <scratch dir> [<case name>...]
 */
import { SystemClock } from '../../src/clock/clock.js';
import { messageOf } from '../../src/errors.js';
import { loadPlatform } from '../../src/platform/detect.js';
import { brokerCases } from './broker-suite.js';

// An async main, not top-level await (see core/src/main.ts).
async function main(): Promise<void> {
  const platform = await loadPlatform();
  const [dir = '', ...only] = platform.args;
  if (!platform.sockets || dir === '') {
    platform.stdio.writeStderr('usage: <bundle> <scratch dir> [case...]; qjs needs the native module (WRTKIT_NATIVE)\n');
    platform.exit(2);
    return;
  }
  const sockets = platform.sockets;
  const clock = new SystemClock(platform.timers);
  let n = 0;
  for (const [name, run] of Object.entries(brokerCases)) {
    if (only.length > 0 && !only.includes(name)) continue;
    const started = clock.monotonic();
    let error: string | undefined;
    try {
      await run({ sockets, clock, socketPath: (label) => `${dir}/${label}-${++n}.sock` });
    } catch (e) {
      // QuickJS stacks do not repeat the message (V8 ones do)
      error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : messageOf(e);
    }
    platform.stdio.writeStdout(`${JSON.stringify({ engine: platform.engine, name, error, ms: clock.monotonic() - started })}\n`);
  }
  platform.exit(0);
}

void main();
