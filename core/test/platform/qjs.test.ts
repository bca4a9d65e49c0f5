import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, repoRoot } from '../../../scripts/rollup-plugins.js';
import { decodeWaitStatus, elfIsMips } from '../../src/platform/qjs/index.js';
import { parseHost } from '../../src/platform/qjs/sockets.js';
import { platformCheckNames, type CheckResult } from './conformance.js';
import { qjsPath } from '../helpers/engines.js';
import { buildNative } from './native-build.js';

function run(
  argv: string[],
  input: string,
  timeoutMs: number,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('qjs platform helpers', () => {
  const header = (data: number, machine: [number, number]): Uint8Array => {
    const h = new Uint8Array(20);
    h.set([0x7f, 0x45, 0x4c, 0x46, 1, data]);
    h.set(machine, 18);
    return h;
  };

  it('detects MIPS from the ELF header in either byte order', () => {
    expect(elfIsMips(header(1, [8, 0]))).toBe(true); // mipsel
    expect(elfIsMips(header(2, [0, 8]))).toBe(true); // mips (big endian)
    expect(elfIsMips(header(1, [62, 0]))).toBe(false); // x86_64
    expect(elfIsMips(header(2, [0, 20]))).toBe(false); // powerpc
    expect(elfIsMips(header(1, [183, 0]))).toBe(false); // aarch64
    expect(elfIsMips(new Uint8Array(8))).toBe(false);
  });

  it('takes numeric hosts only for sockets (qjs has no resolver)', () => {
    expect(parseHost('127.0.0.1')).toEqual({ v6: false, address: '127.0.0.1' });
    expect(parseHost('localhost')).toEqual({ v6: false, address: '127.0.0.1' });
    expect(parseHost('::')).toEqual({ v6: true, address: '::' });
    expect(parseHost('[::1]')).toEqual({ v6: true, address: '::1' });
    expect(parseHost('fe80::1%3')).toEqual({ v6: true, address: 'fe80::1', scopeId: 3 });
    expect(parseHost('fe80::1%eth0')).toBeUndefined();
    expect(parseHost('router.lan')).toBeUndefined();
    expect(parseHost('1.2.3')).toBeUndefined();
  });

  it('decodes wait statuses', () => {
    expect(decodeWaitStatus(0)).toEqual({ exitCode: 0, signal: null });
    expect(decodeWaitStatus(3 << 8)).toEqual({ exitCode: 3, signal: null });
    expect(decodeWaitStatus(15)).toEqual({ exitCode: null, signal: 15 });
    expect(decodeWaitStatus(9 | 0x80)).toEqual({ exitCode: null, signal: 9 }); // core dumped
  });
});

/**
 * Bundles qjs-entry.ts, runs it on qjs in a fresh temp dir, returns its results. With
 * `native` (the built module's path) WRTKIT_NATIVE names it; without, WRTKIT_NATIVE is
 * empty, which switches the module off even where /usr/lib/wrtkit has one.
 */
async function runOnQjs(minify: boolean, tmpDirs: string[], native: string | undefined): Promise<CheckResult[]> {
  const qjs = qjsPath();
  const out = path.join(repoRoot, `.cache/test-bundles/platform-conformance${minify ? '.min' : ''}.mjs`);
  await bundle(path.join(repoRoot, 'core/test/platform/qjs-entry.ts'), out, { minify });
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-conformance-qjs-'));
  tmpDirs.push(tmpDir);
  const mode = native ? 'native' : 'no-native';
  const r = await run([qjs, out, tmpDir, mode], 'stdin-probe ü\n', 90_000, { WRTKIT_NATIVE: native ?? '' });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: { engine?: string; results?: CheckResult[] };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    throw new Error(`qjs printed no result (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  const results = parsed.results ?? [];
  if (parsed.engine !== 'qjs') throw new Error(`engine ${parsed.engine}`);
  if (r.code !== (results.every((x) => x.ok) ? 0 : 1)) throw new Error(`exit ${r.code}; stderr:\n${r.stderr}`);
  return results;
}

describe('Platform conformance on QuickJS (qjs)', () => {
  const tmpDirs: string[] = [];
  let results: CheckResult[] = [];
  let minified: CheckResult[] = [];
  let withoutNative: CheckResult[] = [];
  let setupError: Error | undefined;

  beforeAll(async () => {
    try {
      const native = buildNative();
      // The release bundles are minified: run both forms (in parallel, mostly waiting),
      // and once more without the native module.
      [results, minified, withoutNative] = await Promise.all([
        runOnQjs(false, tmpDirs, native),
        runOnQjs(true, tmpDirs, native),
        runOnQjs(false, tmpDirs, undefined),
      ]);
    } catch (e) {
      setupError = e as Error;
    }
  }, 180_000);

  afterAll(() => {
    for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bundles and runs the suite on qjs', () => {
    if (setupError) throw setupError;
    expect(results.length).toBeGreaterThan(platformCheckNames().length);
  });

  it('passes the qjs-only checks (detection, stdin, decorators, tsyringe, tapable)', () => {
    if (setupError) throw setupError;
    const extra = results.filter((r) => r.name.startsWith('qjs: '));
    expect(extra.length).toBeGreaterThanOrEqual(5);
    expect(extra.filter((r) => !r.ok)).toEqual([]);
  });

  it('without the native module: sockets undefined, every other check passes (O_DSYNC writes)', () => {
    if (setupError) throw setupError;
    const detection = withoutNative.find((r) => r.name === 'qjs: loadPlatform() picks the qjs platform');
    expect(detection?.ok, detection?.error).toBe(true);
    expect(withoutNative.some((r) => r.name.startsWith('sockets:'))).toBe(false);
    expect(withoutNative.filter((r) => r.name.startsWith('fs.writeAtomic')).length).toBeGreaterThanOrEqual(2);
    expect(withoutNative.filter((r) => !r.ok)).toEqual([]);
  });

  it('passes every check from a minified bundle too', () => {
    if (setupError) throw setupError;
    expect(minified.length).toBe(results.length);
    expect(minified.filter((r) => !r.ok)).toEqual([]);
  });

  it.each(platformCheckNames())('%s', (name) => {
    if (setupError) throw setupError;
    const result = results.find((r) => r.name === name);
    expect(result, `check "${name}" did not run`).toBeDefined();
    expect(result?.ok, result?.error).toBe(true);
  });
});
