import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { createLogger, type LogRecord } from '../../src/log/logger.js';
import type { Platform } from '../../src/platform/platform.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { FileStateStore } from '../../src/state/store.js';

let platform: Platform;
beforeAll(async () => {
  platform = await createNodePlatform([]);
});

function setup(flushDelayMs = 1000) {
  const dir = mkdtempSync(join(tmpdir(), 'wrtkit-state-'));
  const clock = new FakeClock();
  const records: LogRecord[] = [];
  const { logger } = createLogger((r) => records.push(r), 'test', 'debug');
  const path = join(dir, 'sub', 'plugin.json');
  const make = () => new FileStateStore({ fs: platform.fs, clock, log: logger, path, flushDelayMs });
  return { dir, clock, records, path, make };
}

describe('FileStateStore', () => {
  it('batches many changes into one write after the delay', async () => {
    const { clock, path, make } = setup(1000);
    const store = make();
    for (let i = 0; i < 100; i++) store.set('count', i);
    expect(store.writes).toBe(0);
    await clock.advance(999);
    expect(store.writes).toBe(0);
    await clock.advance(1);
    expect(store.writes).toBe(1);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ count: 99 });
  });

  it('survives a restart and hands out copies', () => {
    const { make } = setup();
    const a = make();
    a.set('list', [1, 2]);
    a.flush();
    const b = make();
    const list = b.get<number[]>('list');
    expect(list).toEqual([1, 2]);
    list?.push(3);
    expect(b.get('list')).toEqual([1, 2]);
  });

  it('writes atomically: no temporary file is left behind', () => {
    const { path, make } = setup();
    const store = make();
    store.set('a', 1);
    store.flush();
    expect(readdirSync(join(path, '..'))).toEqual(['plugin.json']);
  });

  it('moves an unreadable file aside instead of losing it', () => {
    const { path, make, records } = setup();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '{"a":1');
    const store = make();
    expect(store.keys()).toEqual([]);
    const files = readdirSync(join(path, '..'));
    expect(files.some((f) => f.startsWith('plugin.json.corrupt-'))).toBe(true);
    expect(records.some((r) => r.level === 'error' && r.message.includes('moved aside'))).toBe(true);
  });

  it('refuses values that are not JSON', () => {
    const { make } = setup();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => make().set('x', cyclic)).toThrow(/not JSON-serialisable/);
  });
});
