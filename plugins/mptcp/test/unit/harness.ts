// The mptcp core with a FakeNet, fake children (ss-redir/ss-server that say they listen,
// or fail) and an in-memory filesystem, on a FakeClock.
import type { Platform } from '@wrtkit/sdk';
import { type FakeChild, FakeClock, fakeProcesses } from '@wrtkit/sdk/testing';
import type { Config } from '../../src/generated/config.js';
import validateConfig from '../../src/generated/validate-config.js';
import { Mptcp } from '../../src/mptcp.js';
import { FakeNet } from './fake-net.js';

export function memoryFs() {
  const files = new Map<string, { text: string; mode?: number }>();
  const fs = {
    files,
    writeAtomic: (path: string, text: string, options?: { mode?: number }) =>
      void files.set(path, { text, ...(options?.mode !== undefined ? { mode: options.mode } : {}) }),
    mkdirp: () => undefined,
    remove: (path: string) => void files.delete(path),
  };
  return fs;
}

export const quietLog = () => {
  const lines: string[] = [];
  const log = {
    debug: () => undefined,
    info: (m: string) => void lines.push(`info ${m}`),
    warn: (m: string) => void lines.push(`warn ${m}`),
    error: (m: string) => void lines.push(`error ${m}`),
    child: () => log,
  };
  return { lines, log: log as never };
};

/** A config as the host hands it over: defaults filled in by the generated validator. */
export function config(main: Record<string, unknown>, paths: Array<Record<string, unknown>>): Config {
  const value = { mptcp: { '.name': 'main', enabled: true, ...main }, path: paths };
  if (!validateConfig(value)) throw new Error(JSON.stringify(validateConfig.errors));
  return value as unknown as Config;
}

export const CLIENT = { role: 'client', peer: '10.200.0.1', secret: 'lab-secret-1', lan: ['lan'], route: ['10.2.0.0/24'] };
export const PATHS = [
  { '.name': 'p1', interface: 'p1', gateway: '10.100.1.2' },
  { '.name': 'p2', interface: 'p2', gateway: '10.100.2.2' },
];

export type ProxyBehaviour = 'listen' | 'no-mptcp' | 'error' | 'silent';

export function setup(behaviour: ProxyBehaviour = 'listen', marker = { applied: false }) {
  const clock = new FakeClock();
  const net = new FakeNet();
  net.link('lan', true, ['10.1.0.1']);
  net.link('p1', true, ['10.100.1.1']);
  net.link('p2', true, ['10.100.2.1']);
  net.reachable.add('10.100.1.1').add('10.100.2.1');
  const fs = memoryFs();
  const procs = fakeProcesses();
  const spawned: FakeChild[] = procs.children;
  const processes = {
    spawn: (argv: readonly string[], options?: Parameters<typeof procs.spawn>[1]) => {
      const child = procs.spawn(argv, options);
      queueMicrotask(() => {
        const say = (line: string) => options?.onStderrLine?.(line);
        if (behaviour !== 'no-mptcp' && behaviour !== 'silent') say(' 2026-11-22 04:16:33 INFO: enable multipath TCP (upstream)');
        if (behaviour === 'error') say(' 2026-11-22 04:16:33 ERROR: bind: Address already in use');
        else if (behaviour !== 'silent') say(' 2026-11-22 04:16:33 INFO: listening at 0.0.0.0:1080');
      });
      return child;
    },
  };
  const { lines, log } = quietLog();
  const mptcp = new Mptcp({
    net,
    marker: { load: () => marker.applied, save: (applied) => void (marker.applied = applied) },
    resolver: { netifd: () => Promise.resolve(undefined) },
    processes,
    fs: fs as unknown as Platform['fs'],
    clock,
    log,
  });
  return { clock, net, fs, spawned, mptcp, lines, marker };
}
