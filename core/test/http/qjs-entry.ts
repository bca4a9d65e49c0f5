/**
 * Bundled by server.test.ts and run under qjs with the native module: serves the test
 * app (app.ts) until SIGTERM. Usage: qjs --no-unhandled-rejection <bundle> <host>
 * <requestTimeoutMs>; prints `listening <port>` once it accepts connections.
 */
import { loadPlatform } from '../../src/platform/detect.js';
import { serveHttp } from '../../src/http/server.js';
import { createTestApp } from './app.js';
import { LIMITS } from './limits.js';

// An async main, not top-level await: see core/src/main.ts for the QuickJS job-queue stall.
async function main(): Promise<void> {
  const platform = await loadPlatform();
  const [host = '127.0.0.1', timeout = '10000'] = platform.args;
  const app = createTestApp();
  const server = await serveHttp(platform, {
    host,
    port: 0,
    ...LIMITS,
    requestTimeoutMs: Number(timeout),
    handler: app.handler,
    onError: app.onError,
  });
  platform.stdio.writeStdout(`listening ${server.port}\n`);
  platform.signals.on('SIGTERM', () => {
    void server.close().then(() => platform.exit(0));
  });
}

main().catch((error: unknown) => {
  console.log(`failed: ${String(error)}`);
});
