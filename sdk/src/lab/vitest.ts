// Vitest helpers for labs: creation and guaranteed destroy() tied to the test lifecycle.
// A separate entry (not re-exported by ./index.ts) so that importing the lab does not
// import vitest.
import { afterAll, afterEach, beforeAll, beforeEach, onTestFinished } from 'vitest';
import type { Lab } from './lab.js';
import { createLab } from './index.js';
import type { LabSpec } from './spec.js';

export interface UseLabOptions {
  /** `'file'` (default): one lab for the file (beforeAll/afterAll); `'test'`: a fresh lab per test (beforeEach/afterEach). */
  scope?: 'file' | 'test';
  /** Timeout of the hook that builds the lab (default 60 s). */
  timeoutMs?: number;
}

/**
 * Declares a lab for the enclosing file or describe block and returns an accessor:
 *
 * ```ts
 * const lab = useLab({ nodes: { a: {}, b: {} }, links: [{ a: 'a', b: 'b', addresses: {…} }] });
 * it('pings', async () => { expect((await lab().node('a').run(['ping', '-c1', '10.0.0.2'])).exitCode).toBe(0); });
 * ```
 *
 * The lab is destroyed in afterAll (or afterEach), also when tests fail.
 */
export function useLab(spec: LabSpec | (() => LabSpec), options: UseLabOptions = {}): () => Lab {
  const { scope = 'file', timeoutMs = 60_000 } = options;
  let current: Lab | undefined;
  const create = async () => {
    current = await createLab(typeof spec === 'function' ? spec() : spec);
  };
  const destroy = async () => {
    const lab = current;
    current = undefined;
    await lab?.destroy();
  };
  if (scope === 'test') {
    beforeEach(create, timeoutMs);
    afterEach(destroy, timeoutMs);
  } else {
    beforeAll(create, timeoutMs);
    afterAll(destroy, timeoutMs);
  }
  return () => {
    if (!current) throw new Error('useLab: the lab exists only inside tests (after its beforeAll/beforeEach ran)');
    return current;
  };
}

/**
 * Creates a lab inside a running test and destroys it when that test finishes, passed or
 * failed: `const lab = await testLab(spec);`.
 */
export async function testLab(spec: LabSpec): Promise<Lab> {
  const lab = await createLab(spec);
  onTestFinished(() => lab.destroy());
  return lab;
}
