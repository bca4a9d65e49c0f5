/**
 * Clean teardown when a lab test goes wrong: a child vitest runs a fixture that creates a
 * lab, starts long-running processes in it (one ignores SIGTERM) and then fails — by
 * throwing (with useLab, or with nothing registered), or by being interrupted mid-test
 * (SIGTERM to vitest, Ctrl-C to its process group, SIGKILL of the worker running the
 * test). Afterwards `leftovers()` must find nothing: no namespace, no process, no temp
 * dir, no registry.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Leftovers, leftovers } from '../../src/lab/index.js';
import { repoRoot, skipNote, support } from './support.js';

const work = mkdtempSync(join(tmpdir(), 'wrtkit-lab-teardown-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Mode = 'use-lab' | 'bare' | 'hang';

/** Starts the fixture in a child vitest (its own process group). */
function runFixture(mode: Mode, name: string) {
  const prefix = `wklfx${name}${process.pid % 10_000}`;
  const out = join(work, `${name}.json`);
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'sdk/test/lab/fixtures/vitest.config.ts'],
    {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LAB_FIXTURE_MODE: mode, LAB_FIXTURE_PREFIX: prefix, LAB_FIXTURE_OUT: out, FORCE_COLOR: '0' },
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  /** Resolves once the lab is up and the test is running (the fixture wrote its file). */
  const ready = async () => {
    const deadline = Date.now() + 30_000;
    while (!existsSync(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`fixture never got its lab up:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 50)); // the write is complete
    return JSON.parse(readFileSync(out, 'utf8')) as { prefix: string; pid: number; sleeper: number };
  };
  return { prefix, child, exited, ready, output: () => output };
}

const clean: Leftovers = { namespaces: [], processes: [], dirs: [], registries: [] };

/** leftovers(prefix) once it is clean, or what is left after `timeoutMs`. */
async function settledLeftovers(prefix: string, timeoutMs = 10_000): Promise<Leftovers> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = leftovers(prefix);
    if (JSON.stringify(left) === JSON.stringify(clean) || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!support.ok)(`lab: teardown after failures${skipNote}`, () => {
  it.each<[Mode, string]>([
    ['use-lab', 'u'],
    ['bare', 'b'],
  ])(
    'a test that throws (%s) leaves nothing behind',
    async (mode, name) => {
      const run = runFixture(mode, name);
      const { prefix, sleeper } = await run.ready();
      const exit = await run.exited;
      expect(exit.code, run.output()).toBe(1);
      expect(run.output()).toMatch(/deliberate failure with a lab running/);
      expect(await settledLeftovers(prefix)).toEqual(clean);
      expect(alive(sleeper)).toBe(false);
    },
    60_000,
  );

  it('SIGTERM to vitest mid-test: the orphaned worker tears its lab down', async () => {
    const run = runFixture('hang', 't');
    const { prefix, pid, sleeper } = await run.ready();
    expect(leftovers(prefix).namespaces).toHaveLength(2);
    process.kill(run.child.pid as number, 'SIGTERM');
    expect(await run.exited).toMatchObject({ code: 143 });
    expect(await settledLeftovers(prefix)).toEqual(clean);
    expect(alive(sleeper)).toBe(false);
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false); // the worker too
  }, 60_000);

  it('Ctrl-C (SIGINT to the process group) mid-test leaves nothing behind', async () => {
    const run = runFixture('hang', 'i');
    const { prefix, pid } = await run.ready();
    process.kill(-(run.child.pid as number), 'SIGINT');
    await run.exited;
    expect(await settledLeftovers(prefix)).toEqual(clean);
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  }, 60_000);

  it('SIGKILL of the worker mid-test: the reaper cleans up', async () => {
    const run = runFixture('hang', 'k');
    const { prefix, pid } = await run.ready();
    process.kill(pid, 'SIGKILL');
    expect(await settledLeftovers(prefix)).toEqual(clean);
    // vitest notices its worker died and exits with a failure (or we end it)
    const exited = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r(undefined), 15_000))]);
    if (exited === undefined) process.kill(-(run.child.pid as number), 'SIGKILL');
    await run.exited;
  }, 60_000);
});
