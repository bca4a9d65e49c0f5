// The Supervisor (core/src/system/supervisor.ts) with fake children and a fake clock: argv as given, stderr lines
// into the log by level, a crash restarted after 1 s, 2 s, 4 s …, stop() with SIGTERM
// and no restart after it.
import { Supervisor } from '@wrtkit/sdk';
import { FakeClock, fakeProcesses } from '@wrtkit/sdk/testing';
import { describe, expect, it } from 'vitest';

const RESTART_INITIAL_MS = 1000;

function recordingLog() {
  const lines: string[] = [];
  const log = {
    debug: (m: string) => lines.push(`debug ${m}`),
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
    error: (m: string) => lines.push(`error ${m}`),
    child: () => log,
  };
  return { lines, log: log as never };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const ARGV = [
  '/usr/sbin/offloadd',
  '--control',
  '/var/run/offloadd.sock',
  '--object',
  '/lib/bpf/offload.bpfel.o',
  '--pin-dir',
  '/sys/fs/bpf/x',
];

describe('Supervisor', () => {
  it('spawns the argv, logs stderr by level, restarts a crashed daemon with backoff, stops with SIGTERM', async () => {
    const clock = new FakeClock();
    const processes = fakeProcesses();
    const { lines, log } = recordingLog();
    let started = 0;
    const sup = new Supervisor({ name: 'offloadd', processes, clock, log, onStarted: () => started++ });
    await sup.start(ARGV);
    expect(processes.children.map((c) => c.argv)).toEqual([ARGV]);
    expect(started).toBe(1);

    processes.children[0]!.options.onStderrLine?.('warn offloadd: lan: no native XDP');
    processes.children[0]!.options.onStderrLine?.('debug offloadd: beat');
    expect(lines).toContain('warn offloadd: lan: no native XDP');
    expect(lines).toContain('debug offloadd: beat');

    // crash: restarted after 1 s, then 2 s, then 4 s
    for (const [n, delay] of [
      [1, RESTART_INITIAL_MS],
      [2, 2 * RESTART_INITIAL_MS],
      [3, 4 * RESTART_INITIAL_MS],
    ] as const) {
      processes.children[n - 1]!.exit(null, 9);
      await flush();
      expect(sup.running).toBe(false);
      await clock.advance(delay - 1);
      expect(processes.children).toHaveLength(n);
      await clock.advance(1);
      expect(processes.children).toHaveLength(n + 1);
      expect(started).toBe(n + 1);
    }
    expect(sup.info()).toMatchObject({ running: true, starts: 4, last_exit: { code: null, signal: 9 } });

    await sup.stop();
    expect(processes.children[3]!.signals).toEqual(['SIGTERM']);
    await clock.advance(120_000);
    expect(processes.children).toHaveLength(4);
    expect(sup.running).toBe(false);
  });

  it('the same argv again leaves the daemon alone; another argv restarts it', async () => {
    const clock = new FakeClock();
    const processes = fakeProcesses();
    const sup = new Supervisor({ name: 'offloadd', processes, clock, log: recordingLog().log });
    await sup.start(ARGV);
    await sup.start([...ARGV]);
    expect(processes.children).toHaveLength(1);
    await sup.start([...ARGV.slice(0, -1), '/sys/fs/bpf/y']);
    expect(processes.children).toHaveLength(2);
    expect(processes.children[0]!.signals).toEqual(['SIGTERM']);
    await sup.stop();
  });

  it('a daemon that cannot be spawned is retried with backoff', async () => {
    const clock = new FakeClock();
    let tries = 0;
    const { lines, log } = recordingLog();
    const sup = new Supervisor({
      name: 'offloadd',
      processes: {
        spawn: () => {
          tries++;
          throw new Error('ENOENT');
        },
      },
      clock,
      log,
    });
    await sup.start(ARGV);
    expect(tries).toBe(1);
    expect(lines.some((l) => l.startsWith('error cannot start offloadd'))).toBe(true);
    await clock.advance(1000);
    expect(tries).toBe(2);
    await clock.advance(2000);
    expect(tries).toBe(3);
    await sup.stop();
    await clock.advance(10_000);
    expect(tries).toBe(3);
  });
});
