/**
 * Our ubus client against the real ubusd's recorded side of every fixture scenario: for
 * each process of each scenario, a replay of ubusd plays what ubusd sent, our client does
 * what the process did (core/test/ubus/client-roles.ts), and every byte our client sends
 * must equal what the real `ubus` CLI or libubus object sent. Results are compared with
 * what the real processes printed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock/clock.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { UbusClient } from '../../src/ubus/client.js';
import { MsgType } from '../../src/ubus/constants.js';
import { decodeMessage } from '../../src/ubus/message.js';
import { MessageReader } from '../../src/ubus/stream.js';
import { roles } from './client-roles.js';
import { expectedResult } from './expected.js';
import { loadScenario, messagesOf, replay } from './replay.js';

const platform = await createNodePlatform([]);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs one role against the replay; the result, the byte differences and the trailing messages. */
async function runRole(scenarioName: string, role: string) {
  const scenario = loadScenario(scenarioName);
  const path = join(mkdtempSync(join(tmpdir(), 'wrtkit-ubus-replay-')), 'ubus.sock');
  const replayed = await replay(path, messagesOf(scenario, role));
  const client = await UbusClient.connect({
    sockets: platform.sockets!,
    clock: new SystemClock(platform.timers),
    path,
    reconnect: false,
    timeoutMs: 5000,
  });
  const hungUp = new Promise<void>((resolve) => client.onState((s) => s === 'disconnected' && resolve()));
  const action = roles[scenarioName]?.[role];
  if (!action) throw new Error(`no role ${role}`);
  const result = await action(client, { done: hungUp, sleep });
  await replayed.done;
  client.close();
  await replayed.close();
  const trailing = replayed.trailing.flatMap((b) => new MessageReader().push(new Uint8Array(b)).map((m) => m.type));
  return { result, mismatches: replayed.mismatches, trailing, scenario };
}

describe('ubus client against recorded ubusd sessions (Node)', () => {
  for (const [scenarioName, scenarioRoles] of Object.entries(roles)) {
    for (const role of Object.keys(scenarioRoles)) {
      it(`${scenarioName} ${role}: byte-identical to the real process, same result`, async () => {
        const { result, mismatches, trailing, scenario } = await runRole(scenarioName, role);
        expect(
          mismatches.map((m) => ({ index: m.index, expected: decodeMessage(Buffer.from(m.expected, 'hex')), actual: m.actual })),
        ).toEqual([]);
        // Cleanup after the recorded conversation may only remove what we registered.
        expect(trailing.every((t) => t === MsgType.REMOVE_OBJECT || t === MsgType.UNSUBSCRIBE)).toBe(true);
        expect(result).toEqual(expectedResult(scenario, role));
      });
    }
  }
});
