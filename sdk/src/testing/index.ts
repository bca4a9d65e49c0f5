/**
 * `createTestHost`: the real wrtkit host, in-process, for a plugin's unit tests. Time is a
 * FakeClock (advance it to fire timers and time limits), and side effects are recorded
 * instead of done: programs a plugin runs answer from `programs` (nothing is executed),
 * composed UCI packages are written to a scratch /etc/config and listed in `applied`
 * (their reload command is recorded, not run), state goes to a scratch directory.
 *
 *   const t = await createTestHost({ plugins: [{ definition: plugin, manifest: pkg.wrtkit }],
 *                                    config: { myplugin: "config main 'main'\n\toption interval '5'\n" } });
 *   await t.advance(5000);
 *   expect(await t.call('myplugin', 'status')).toEqual({ ... });
 *   await t.stop();
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FakeClock,
  Host,
  type LogRecord,
  type PluginDefinition,
  type PluginManifest,
  type PluginStatus,
  type ProcessResult,
  type ReloadReport,
  UciPackage,
  type UciChange,
  exportUci,
} from '@wrtkit/core';
import type { ChildProcess, Platform, Processes, RunOptions } from '@wrtkit/core';
import { createNodePlatform } from '@wrtkit/core/platform/node';

/** The host's event hooks a test can fire, with their payloads. */
export interface TestEvents {
  link: import('@wrtkit/core').LinkEvent;
  station: import('@wrtkit/core').StationEvent;
  connectivity: import('@wrtkit/core').ConnectivityEvent;
  clientAuthorization: import('@wrtkit/core').ClientAuthorizationEvent;
  peer: import('@wrtkit/core').PeerEvent;
}

export interface TestPlugin {
  definition: PluginDefinition<any>;
  /** The package.json `wrtkit` field (permissions, dependencies); optional. */
  manifest?: Partial<PluginManifest>;
}

export interface TestHostOptions {
  plugins: Array<TestPlugin | PluginDefinition<any>>;
  /** UCI files by package name (`/etc/config/<name>`), as text. */
  config?: Record<string, string>;
  clock?: FakeClock;
  /** How a program "runs": its result, or undefined for exit 0 with no output. */
  programs?: (argv: readonly string[], options: RunOptions) => Partial<ProcessResult> | undefined;
  /** Start the host (default true); with false, call `start()` yourself. */
  start?: boolean;
}

export interface RecordedRun {
  argv: readonly string[];
  input?: string;
}

export interface RecordedApply {
  package: string;
  /** The package as `uci commit` writes it. */
  text: string;
  changes: number;
}

export interface TestHost {
  readonly host: Host;
  readonly clock: FakeClock;
  readonly configDir: string;
  readonly stateDir: string;
  /** Every log record. */
  readonly logs: LogRecord[];
  /** Every program a plugin (or the host) ran, in order. */
  readonly runs: RecordedRun[];
  /** Every composed package the host applied, in order. */
  readonly applied: RecordedApply[];
  start(): Promise<void>;
  /** Messages of error log records. */
  errors(): string[];
  plugin(name: string): PluginStatus | undefined;
  /** Calls a method as `wrtkit call` would (validated by its schema). */
  call(object: string, method: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Fires an event hook as a plugin or the system would. */
  emit<K extends keyof TestEvents>(hook: K, event: TestEvents[K]): Promise<void>;
  writeConfig(name: string, text: string): void;
  readConfig(name: string): string | undefined;
  /** Re-reads /etc/config like SIGHUP. */
  reload(): Promise<ReloadReport>;
  /** Composes and applies a package now (all three without an argument). */
  compose(pkg?: 'wireless' | 'network' | 'firewall'): Promise<void>;
  /** A plugin's persistent state, flushed. */
  state(plugin: string): Record<string, unknown>;
  /** Moves the fake clock on, running timers that fall due. */
  advance(ms: number): Promise<void>;
  /** Stops the host (teardowns run) and removes the scratch directories. */
  stop(): Promise<void>;
}

const isDefinition = (p: TestPlugin | PluginDefinition<unknown>): p is PluginDefinition<unknown> =>
  typeof (p as PluginDefinition<unknown>).setup === 'function';

function recordingProcesses(runs: RecordedRun[], programs: TestHostOptions['programs']): Processes {
  const result = (argv: readonly string[], options: RunOptions): ProcessResult => {
    runs.push({ argv: [...argv], ...(options.input !== undefined ? { input: options.input } : {}) });
    const answer = programs?.(argv, options) ?? {};
    const stdout = answer.stdout ?? '';
    for (const line of stdout.split('\n')) if (line) options.onStdoutLine?.(line);
    return { argv: [...argv], exitCode: 0, signal: null, stdout, stderr: '', timedOut: false, durationMs: 0, ...answer };
  };
  return {
    run: async (argv, options = {}) => result(argv, options),
    spawn(argv, options = {}): ChildProcess {
      const done = result(argv, options);
      return { pid: 0, argv: [...argv], exited: Promise.resolve(done), kill: () => undefined };
    },
    // Every program "exists": a plugin's run is recorded, not refused for a missing binary.
    which: (program) => (program.includes('/') ? program : `/usr/bin/${program}`),
  };
}

export async function createTestHost(options: TestHostOptions): Promise<TestHost> {
  const root = mkdtempSync(join(tmpdir(), 'wrtkit-test-host-'));
  const configDir = join(root, 'etc/config');
  const stateDir = join(root, 'state');
  mkdirSync(configDir, { recursive: true });
  for (const [name, text] of Object.entries(options.config ?? {})) writeFileSync(join(configDir, name), text);
  const clock = options.clock ?? new FakeClock();
  const logs: LogRecord[] = [];
  const runs: RecordedRun[] = [];
  const applied: RecordedApply[] = [];
  const node = await createNodePlatform([]);
  const platform: Platform = { ...node, processes: recordingProcesses(runs, options.programs) };
  const host = new Host({
    platform,
    clock,
    configDir,
    stateDir,
    pluginDir: null,
    controlSocket: null,
    ubusSocket: null,
    logSink: (record) => logs.push(record),
    plugins: options.plugins.map((p) =>
      isDefinition(p) ? { definition: p } : { definition: p.definition, ...(p.manifest ? { manifest: p.manifest } : {}) },
    ),
    applier: {
      async apply(pkg: string, desired: UciPackage, changes: readonly UciChange[]) {
        const text = exportUci(desired, { mode: 'commit' });
        writeFileSync(join(configDir, pkg), text);
        applied.push({ package: pkg, text, changes: changes.length });
      },
    },
  });
  let stopped = false;
  const testHost: TestHost = {
    host,
    clock,
    configDir,
    stateDir,
    logs,
    runs,
    applied,
    start: () => host.start(),
    errors: () => logs.filter((r) => r.level === 'error').map((r) => r.message),
    plugin: (name) => host.pluginStatus().find((p) => p.name === name),
    call: (object, method, args = {}) => host.methods.invoke(object, method, args),
    emit: (hook, event) => (host.hooks[hook].promise as (e: unknown) => Promise<void>)(event),
    writeConfig: (name, text) => writeFileSync(join(configDir, name), text),
    readConfig(name) {
      try {
        return readFileSync(join(configDir, name), 'utf8');
      } catch {
        return undefined;
      }
    },
    reload: () => host.reload(),
    async compose(pkg) {
      if (pkg) await host.composer.request(pkg, 'test');
      else await host.composer.requestAll('test');
    },
    state(plugin) {
      host.find(plugin)?.store?.flush();
      try {
        return JSON.parse(readFileSync(join(stateDir, `${plugin}.json`), 'utf8')) as Record<string, unknown>;
      } catch {
        return {};
      }
    },
    advance: (ms) => clock.advance(ms),
    async stop() {
      if (stopped) return;
      stopped = true;
      await host.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (options.start !== false) await host.start();
  return testHost;
}

export { FakeClock };
export { type FakeChild, fakeProcesses } from './fake-processes.js';
