import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { Host, type HostOptions } from '../../src/host/host.js';
import type { LogRecord } from '../../src/log/logger.js';
import { createNodePlatform } from '../../src/platform/node/index.js';

/** A temporary router root: etc/config with the given files, a state dir, no plugin dir. */
export async function makeHost(
  files: Record<string, string> | ((root: string) => Record<string, string>),
  options: Partial<HostOptions> = {},
) {
  const root = mkdtempSync(join(tmpdir(), 'wrtkit-host-'));
  const config = typeof files === 'function' ? files(root) : files;
  const configDir = join(root, 'etc/config');
  mkdirSync(configDir, { recursive: true });
  for (const [name, text] of Object.entries(config)) writeFileSync(join(configDir, name), text);
  const records: LogRecord[] = [];
  const clock = (options.clock as FakeClock | undefined) ?? new FakeClock();
  const platform = await createNodePlatform([]);
  const host = new Host({
    platform,
    clock,
    configDir,
    pluginDir: null,
    stateDir: join(root, 'state'),
    controlSocket: null,
    ubusSocket: null,
    logSink: (record) => records.push(record),
    ...options,
  });
  return {
    host,
    clock,
    root,
    configDir,
    records,
    writeConfig: (name: string, text: string) => writeFileSync(join(configDir, name), text),
    errors: () => records.filter((r) => r.level === 'error').map((r) => r.message),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
