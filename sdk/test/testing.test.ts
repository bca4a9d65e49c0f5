import { describe, expect, it } from 'vitest';
import heartbeat from '@wrtkit-example/heartbeat';
import beatCounter from '@wrtkit-example/beat-counter';
import heartbeatPackage from '../../examples/plugins/heartbeat/package.json' with { type: 'json' };
import counterPackage from '../../examples/plugins/beat-counter/package.json' with { type: 'json' };
import { definePlugin, method } from '../src/index.js';
import { createTestHost } from '../src/testing/index.js';

const plugins = [
  { definition: heartbeat, manifest: heartbeatPackage.wrtkit },
  { definition: beatCounter, manifest: counterPackage.wrtkit },
];

describe('createTestHost', () => {
  it('runs real plugins on a fake clock: hooks across plugins, state, methods', async () => {
    const t = await createTestHost({
      plugins,
      config: { heartbeat: "config heartbeat 'main'\n\toption interval '1000'\n" },
    });
    expect(t.plugin('heartbeat')?.state).toBe('running');
    await t.advance(3000);
    expect(await t.call('heartbeat', 'status')).toMatchObject({ count: 3, interval: 1000 });
    expect(await t.call('beat-counter', 'status')).toEqual({ received: 3, lastBeat: 3 });
    expect(t.state('heartbeat')).toEqual({ count: 3 });
    await t.stop();
  });

  it('records composition instead of applying it, and config changes through reload', async () => {
    const t = await createTestHost({
      plugins,
      config: {
        'beat-counter': "config counter 'main'\n\toption wifi_iface 'default_radio0'\n\toption ssid 'Lab'\n",
        wireless: "config wifi-iface 'default_radio0'\n\toption ssid 'OpenWrt'\n",
      },
    });
    await t.compose('wireless');
    expect(t.applied).toEqual([
      { package: 'wireless', changes: 1, text: "\nconfig wifi-iface 'default_radio0'\n\toption ssid 'Lab'\n\n" },
    ]);
    t.writeConfig('beat-counter', "config counter 'main'\n\toption fail_at 'soon'\n");
    const report = await t.reload();
    expect(report.invalid[0]?.issues[0]).toMatchObject({ uciPath: 'beat-counter.main.fail_at', rule: 'type' });
    expect(t.errors().join('\n')).toContain('beat-counter.main.fail_at');
    await t.stop();
  });

  it('records the programs a plugin runs and answers with what the test says', async () => {
    const pinger = definePlugin({
      name: 'pinger',
      version: '1.0.0',
      apiVersion: '^1',
      setup(ctx) {
        ctx.serve({
          ping: method(
            { schema: { type: 'object', properties: { host: { type: 'string' } }, required: ['host'] } },
            async ({ host }) => {
              const r = await ctx.processes.run(['ping', '-c1', host]);
              return { ok: r.exitCode === 0, out: r.stdout };
            },
          ),
        });
      },
    });
    const t = await createTestHost({
      plugins: [{ definition: pinger, manifest: { permissions: { exec: ['ping'] } } }],
      programs: (argv) => (argv[2] === '192.0.2.1' ? { exitCode: 1, stdout: 'unreachable' } : { stdout: 'ok' }),
    });
    expect(await t.call('pinger', 'ping', { host: '10.0.0.1' })).toEqual({ ok: true, out: 'ok' });
    expect(await t.call('pinger', 'ping', { host: '192.0.2.1' })).toEqual({ ok: false, out: 'unreachable' });
    expect(t.runs.map((r) => r.argv)).toEqual([
      ['ping', '-c1', '10.0.0.1'],
      ['ping', '-c1', '192.0.2.1'],
    ]);
    await expect(t.call('pinger', 'ping', {})).rejects.toMatchObject({ code: 'WRTKIT_ERR_INVALID_ARGUMENT' });
    await t.stop();
  });

  it('fires event hooks and isolates a failing plugin', async () => {
    const seen: string[] = [];
    const fragile = definePlugin({
      name: 'fragile',
      version: '1.0.0',
      apiVersion: '^1',
      setup(ctx) {
        ctx.hooks.connectivity.tap((e) => {
          if (!e.online) throw new Error('cannot cope');
          seen.push(e.rule);
        });
      },
    });
    const t = await createTestHost({ plugins: [fragile] });
    await t.emit('connectivity', { rule: 'internet', online: true, since: 0 });
    await t.emit('connectivity', { rule: 'internet', online: false, since: 1 });
    await t.advance(0);
    expect(seen).toEqual(['internet']);
    expect(t.plugin('fragile')?.state).toBe('failed');
    expect(t.plugin('fragile')?.errors[0]?.code).toBe('WRTKIT_ERR_HOOK_FAILED');
    await t.advance(1000); // first retry
    expect(t.plugin('fragile')?.state).toBe('running');
    await t.stop();
  });
});
