import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Platform } from '@wrtkit/core';
import { createNodePlatform } from '@wrtkit/core/platform/node';
import { afterEach } from 'vitest';
import type { Voucher } from '../../src/vouchers/voucher.js';
import { Vouchers, type VouchersOptions } from '../../src/vouchers/vouchers.js';

let platform: Platform | undefined;

/** The real Node platform: the store's files are real files. */
export async function nodePlatform(): Promise<Platform> {
  platform ??= await createNodePlatform([]);
  return platform;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A scratch directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pirania-vouchers-'));
  dirs.push(dir);
  return dir;
}

/** 2026-01-01T00:00:00Z in Unix seconds. */
export const T0 = Date.UTC(2026, 0, 1) / 1000;

/** A clock at Unix second `at`, moved by hand. */
export class TestClock {
  constructor(public seconds = T0) {}
  now(): number {
    return this.seconds * 1000;
  }
  advance(seconds: number): void {
    this.seconds += seconds;
  }
}

export interface Harness {
  dir: string;
  clock: TestClock;
  platform: Platform;
  vouchers: Vouchers;
  open(extra?: Partial<VouchersOptions> & { prune?: boolean }): Vouchers;
}

export async function harness(extra: Partial<VouchersOptions> & { prune?: boolean } = {}): Promise<Harness> {
  const p = await nodePlatform();
  const dir = join(tempDir(), 'vouchers/');
  const clock = new TestClock();
  const open = (more: Partial<VouchersOptions> & { prune?: boolean } = {}) =>
    Vouchers.open({
      fs: p.fs,
      dbPath: dir,
      randomBytes: (n) => p.randomBytes(n),
      clock,
      hostname: 'node1',
      pruneExpiredForDays: 30,
      ...extra,
      ...more,
    });
  return { dir, clock, platform: p, vouchers: open(), open };
}

/** A voucher with sensible defaults, for store and merge tests. */
export function voucher(fields: Partial<Voucher> & { id: string }): Voucher {
  return { name: `v-${fields.id}`, code: 'ABCDEF', creation_date: T0, mod_counter: 1, ...fields };
}
