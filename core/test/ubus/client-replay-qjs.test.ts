/**
 * The client suite of client-replay.test.ts on real QuickJS with the native socket
 * module: the same roles, bundled, run by qjs against the same replays of ubusd.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../../scripts/rollup-plugins.js';
import { MsgType } from '../../src/ubus/constants.js';
import { MessageReader } from '../../src/ubus/stream.js';
import { qjsPath, repoRoot } from '../helpers/engines.js';
import { buildNative } from '../platform/native-build.js';
import { roles } from './client-roles.js';
import { expectedResult } from './expected.js';
import { loadScenario, messagesOf, replay } from './replay.js';

let entry: string;
let native: string;
beforeAll(async () => {
  native = buildNative();
  entry = join(repoRoot, '.cache/test-bundles/ubus-client-roles.js');
  await bundle(join(repoRoot, 'core/test/ubus/qjs-entry.ts'), entry, { minify: true });
}, 120_000);

function runQjs(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(qjsPath(), ['--no-unhandled-rejection', entry, ...args], {
      env: { ...process.env, WRTKIT_NATIVE: native },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('ubus client against recorded ubusd sessions (QuickJS + native sockets)', () => {
  for (const [scenarioName, scenarioRoles] of Object.entries(roles)) {
    for (const role of Object.keys(scenarioRoles)) {
      it(`${scenarioName} ${role}`, async () => {
        const scenario = loadScenario(scenarioName);
        const path = join(mkdtempSync(join(tmpdir(), 'wrtkit-ubus-qjs-')), 'ubus.sock');
        const replayed = await replay(path, messagesOf(scenario, role));
        const run = await runQjs([scenarioName, role, path]);
        await replayed.close();
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const { engine, result } = JSON.parse(run.stdout) as { engine: string; result: unknown };
        expect(engine).toBe('qjs');
        expect(replayed.mismatches).toEqual([]);
        const trailing = replayed.trailing.flatMap((b) => new MessageReader().push(new Uint8Array(b)).map((m) => m.type));
        expect(trailing.every((t) => t === MsgType.REMOVE_OBJECT || t === MsgType.UNSUBSCRIBE)).toBe(true);
        expect(result ?? null).toEqual(JSON.parse(JSON.stringify(expectedResult(scenario, role) ?? null)));
      });
    }
  }
});
