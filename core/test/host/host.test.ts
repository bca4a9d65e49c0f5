import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { injectable, inject } from 'tsyringe';
import { afterEach, describe, expect, it } from 'vitest';
import { AsyncSeriesWaterfallHook } from 'tapable';
import { compileValidator } from '../../scripts/config-codegen.mjs';
import { Tokens } from '../../src/di/tokens.js';
import { ErrorCodes } from '../../src/errors.js';
import { defineHooks } from '../../src/hooks/offers.js';
import type { Logger } from '../../src/log/logger.js';
import { definePlugin, type PluginDefinition } from '../../src/plugin/define.js';
import type { UciPackage } from '../../src/uci/index.js';
import { makeHost } from '../helpers/host.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
async function host(
  config: Record<string, string> | ((root: string) => Record<string, string>),
  plugins: PluginDefinition<never>[],
  extra = {},
) {
  const h = await makeHost(config, {
    plugins: plugins.map((definition) => ({ definition: definition as PluginDefinition })),
    ...extra,
  });
  cleanups.push(h.cleanup);
  return h;
}

const countSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    main: { type: 'object', additionalProperties: false, properties: { step: { type: 'integer', minimum: 1, default: 1 } } },
  },
} as const;

describe('Host lifecycle', () => {
  it('sets plugins up in dependency order, fires boot then ready, tears down in reverse', async () => {
    const events: string[] = [];
    const mk = (name: string, deps: Record<string, string> = {}) =>
      definePlugin({
        name,
        version: '1.0.0',
        apiVersion: '^1',
        dependencies: deps,
        setup(ctx) {
          events.push(`setup ${name}`);
          ctx.hooks.boot.tap((b) => void events.push(`boot ${name} ${b.plugins.join(',')}`));
          ctx.hooks.ready.tap(() => void events.push(`ready ${name}`));
          ctx.hooks.shutdown.tap(() => void events.push(`shutdown ${name}`));
          return () => void events.push(`teardown ${name}`);
        },
      });
    const { host: h } = await host({}, [mk('b', { a: '^1' }), mk('a')]);
    await h.start();
    await h.stop();
    expect(events).toEqual([
      'setup a',
      'setup b',
      'boot a a,b',
      'boot b a,b',
      'ready a',
      'ready b',
      'shutdown a',
      'shutdown b',
      'teardown b',
      'teardown a',
    ]);
  });

  it('gives each plugin its own DI scope with the host services under symbol tokens', async () => {
    @injectable()
    class Greeter {
      constructor(
        @inject(Tokens.PluginName) readonly plugin: string,
        @inject(Tokens.Logger) readonly log: Logger,
      ) {}
    }
    const names: string[] = [];
    const mk = (name: string) =>
      definePlugin({
        name,
        version: '1.0.0',
        apiVersion: '^1',
        setup(ctx) {
          ctx.container.registerSingleton(Greeter);
          names.push(ctx.container.resolve(Greeter).plugin);
        },
      });
    const { host: h } = await host({}, [mk('one'), mk('two')]);
    await h.start();
    expect(names).toEqual(['one', 'two']);
    expect(h.root.isRegistered(Greeter)).toBe(false);
    await h.stop();
  });

  it('refuses an incompatible API version or missing dependency, and starts the others', async () => {
    const ok = definePlugin({ name: 'ok', version: '1.0.0', apiVersion: '^1', setup() {} });
    const future = definePlugin({ name: 'future', version: '1.0.0', apiVersion: '^2', setup() {} });
    const orphan = definePlugin({
      name: 'orphan',
      version: '1.0.0',
      apiVersion: '^1',
      dependencies: { nothere: '^1' },
      setup() {},
    });
    const { host: h, errors } = await host({}, [ok, future, orphan]);
    await h.start();
    const states = Object.fromEntries(h.pluginStatus().map((p) => [p.name, p.state]));
    expect(states).toEqual({ ok: 'running', orphan: 'refused' });
    expect(h.status().problems.map((p) => p.code)).toEqual([ErrorCodes.API_VERSION]);
    expect(errors().join('\n')).toContain('plugin future needs host API ^2, this host provides 1.0.0');
    expect(h.pluginStatus().find((p) => p.name === 'orphan')?.errors[0]?.code).toBe(ErrorCodes.DEPENDENCY_MISSING);
    await h.stop();
  });
});

describe('Host fault isolation', () => {
  it('reports a throwing tap with plugin and hook, disables the plugin, retries with backoff', async () => {
    let attempts = 0;
    const seen: string[] = [];
    const flaky = definePlugin({
      name: 'flaky',
      version: '1.0.0',
      apiVersion: '^1',
      setup(ctx) {
        attempts++;
        ctx.hooks.link.tap(() => {
          throw new Error('cannot handle links');
        });
      },
    });
    const steady = definePlugin({
      name: 'steady',
      version: '1.0.0',
      apiVersion: '^1',
      setup(ctx) {
        ctx.hooks.link.tap((e) => void seen.push(e.ifname));
      },
    });
    const {
      host: h,
      clock,
      errors,
    } = await host({ wrtkit: "config wrtkit 'main'\n\toption retry_initial '1000'\n\toption retry_limit '2'\n" }, [
      flaky,
      steady,
    ]);
    await h.start();
    await h.hooks.link.promise({ ifname: 'eth0', up: true });
    await clock.advance(0);
    let status = h.pluginStatus().find((p) => p.name === 'flaky');
    expect(status?.state).toBe('failed');
    expect(status?.errors[0]).toMatchObject({ code: ErrorCodes.HOOK_FAILED, plugin: 'flaky', hook: 'link' });
    expect(errors()).toContain('plugin flaky failed in hook link: cannot handle links');
    // the other plugin and the host go on
    await h.hooks.link.promise({ ifname: 'eth1', up: true });
    expect(seen).toEqual(['eth0', 'eth1']);
    // retried after 1 s (first backoff), fails again on the next event, then after 2 s ...
    await clock.advance(1000);
    expect(attempts).toBe(2);
    expect(h.find('flaky')?.state).toBe('running');
    await h.hooks.link.promise({ ifname: 'eth2', up: true });
    await clock.advance(0);
    expect(h.pluginStatus().find((p) => p.name === 'flaky')?.nextRetryInMs).toBe(2000);
    await clock.advance(2000);
    expect(attempts).toBe(3);
    await h.hooks.link.promise({ ifname: 'eth3', up: true });
    await clock.advance(0);
    // ... and stays disabled after retry_limit retries, until a reload
    status = h.pluginStatus().find((p) => p.name === 'flaky');
    expect(status?.state).toBe('disabled');
    expect(seen).toEqual(['eth0', 'eth1', 'eth2', 'eth3']);
    const report = await h.reload();
    expect(report.started).toEqual(['flaky']);
    expect(attempts).toBe(4);
    await h.stop();
  });

  it('times out a setup that hangs and keeps booting the rest', async () => {
    const hang = definePlugin({
      name: 'hang',
      version: '1.0.0',
      apiVersion: '^1',
      setup: () => new Promise<void>(() => undefined),
    });
    const fine = definePlugin({ name: 'fine', version: '1.0.0', apiVersion: '^1', setup() {} });
    const { host: h, clock } = await host({ wrtkit: "config wrtkit 'main'\n\toption setup_timeout '100'\n" }, [hang, fine]);
    const started = h.start();
    await clock.advance(100);
    await started;
    expect(h.pluginStatus().map((p) => [p.name, p.state])).toEqual([
      ['fine', 'running'],
      ['hang', 'failed'],
    ]);
    expect(h.find('hang')?.errors[0]?.code).toBe(ErrorCodes.HOOK_TIMEOUT);
    await h.stop();
  });
});

describe('Host config', () => {
  const counter = (log: unknown[]) =>
    definePlugin<{ main: { step: number } }>({
      name: 'counter',
      version: '1.0.0',
      apiVersion: '^1',
      configSchema: countSchema,
      validateConfig: compileValidator(countSchema),
      setup(ctx) {
        log.push(['setup', ctx.config.main.step]);
        ctx.hooks.configChanged.tap((c) => void log.push(['changed', c.previous.main.step, c.config.main.step]));
      },
    });

  it('applies a valid change with configChanged, keeps the last good config on an invalid one', async () => {
    const log: unknown[] = [];
    const { host: h, writeConfig, errors } = await host({ counter: "config main 'main'\n\toption step '2'\n" }, [counter(log)]);
    await h.start();
    writeConfig('counter', "config main 'main'\n\toption step '5'\n");
    expect(await h.reload()).toMatchObject({ changed: ['counter'], invalid: [] });
    writeConfig('counter', "config main 'main'\n\toption step 'zero'\n");
    const report = await h.reload();
    expect(report.invalid[0]?.issues).toEqual([{ uciPath: 'counter.main.step', rule: 'type', message: 'must be integer' }]);
    expect(
      errors().some((e) => e.includes('counter.main.step: must be integer (type)') && e.includes('keeping the last good config')),
    ).toBe(true);
    expect(h.find('counter')?.state).toBe('running');
    expect(h.find('counter')?.config).toEqual({ main: { '.name': 'main', step: 5 } });
    writeConfig('counter', "config main 'main'\n\toption step '5'\n");
    expect(await h.reload()).toMatchObject({ changed: [], invalid: [] });
    expect(log).toEqual([
      ['setup', 2],
      ['changed', 2, 5],
    ]);
    await h.stop();
  });

  it('does not start a plugin whose config was never valid, and starts it once it is', async () => {
    const log: unknown[] = [];
    const { host: h, writeConfig } = await host({ counter: "config main 'main'\n\toption step '-1'\n" }, [counter(log)]);
    await h.start();
    expect(h.find('counter')?.state).toBe('config-invalid');
    expect(h.validate()).toEqual([
      { plugin: 'wrtkit', ok: true, issues: [] },
      { plugin: 'counter', ok: false, issues: [{ uciPath: 'counter.main.step', rule: 'minimum', message: 'must be >= 1' }] },
    ]);
    writeConfig('counter', "config main 'main'\n\toption step '3'\n");
    expect((await h.reload()).started).toEqual(['counter']);
    expect(log).toEqual([['setup', 3]]);
    await h.stop();
  });

  it('reports a config file that does not parse with its line, as an invalid config', async () => {
    const { host: h } = await host({ counter: "config main 'main'\n\toption step '3\n" }, [counter([])]);
    await h.start();
    const issue = h.find('counter')?.configIssues[0];
    expect(issue?.rule).toBe('syntax');
    expect(issue?.message).toMatch(/Parse error.*line/);
    await h.stop();
  });

  it('falls back to defaults when /etc/config/wrtkit is invalid, naming the path', async () => {
    const { host: h, errors } = await host({ wrtkit: "config wrtkit 'main'\n\toption hook_timeout 'soon'\n" }, []);
    await h.start();
    expect(h.status().hostConfigIssues).toEqual([
      { uciPath: 'wrtkit.main.hook_timeout', rule: 'type', message: 'must be integer' },
    ]);
    expect(errors()[0]).toContain('wrtkit.main.hook_timeout');
    await h.stop();
  });
});

describe('Host composition', () => {
  const wireless = "config wifi-iface 'default_radio0'\n\toption ssid 'OpenWrt'\n\toption disabled '0'\n";

  const composer = (name: string, fn: (w: UciPackage) => void) => ({
    definition: definePlugin({
      name,
      version: '1.0.0',
      apiVersion: '^1',
      setup(ctx) {
        ctx.hooks.compose.wireless.tap((w) => {
          fn(w);
          return w;
        });
      },
    }),
    manifest: { permissions: { uci: ['wireless'] } },
  });
  // The reload command appends a line to <root>/applied, so the test counts applies.
  const files = (root: string) => ({
    wireless,
    wrtkit: `config apply 'wireless'\n\tlist command 'sh'\n\tlist command '-c'\n\tlist command 'echo reloaded >> "$0"'\n\tlist command '${root}/applied'\n`,
  });
  const applies = (root: string) =>
    existsSync(join(root, 'applied')) ? readFileSync(join(root, 'applied'), 'utf8').split('\n').filter(Boolean).length : 0;

  it('applies what all plugins composed once, as uci commit writes it, and nothing when nothing changed', async () => {
    const a = composer('a', (w) => w.section('default_radio0')?.set('ieee80211r', '1'));
    const b = composer('b', (w) => w.section('default_radio0')?.set('ssid', 'Community'));
    const { host: h, root, configDir } = await host(files, [], { plugins: [a, b] });
    await h.start();
    await h.composer.request('wireless', 'settle');
    expect(readFileSync(join(configDir, 'wireless'), 'utf8')).toBe(
      "\nconfig wifi-iface 'default_radio0'\n\toption ssid 'Community'\n\toption disabled '0'\n\toption ieee80211r '1'\n\n",
    );
    expect(applies(root)).toBe(1);
    // Many requests at once, same contributions: one run, no change, no apply.
    await Promise.all([1, 2, 3].map((n) => h.composer.request('wireless', `again ${n}`)));
    expect(applies(root)).toBe(1);
    expect(h.status().compose.wireless).toMatchObject({ applies: 1, lastChanges: 2 });
    expect(h.status().compose.wireless?.runs).toBeLessThanOrEqual(3);
    await h.stop();
  });

  it('keeps a failing composer out of the result and still applies the others', async () => {
    const bad = composer('bad', () => {
      throw new Error('no');
    });
    const good = composer('good', (w) => w.section('default_radio0')?.set('disabled', '1'));
    const { host: h, root, configDir } = await host(files, [], { plugins: [bad, good] });
    await h.start();
    await h.composer.request('wireless', 'settle');
    expect(readFileSync(join(configDir, 'wireless'), 'utf8')).toContain("option disabled '1'");
    expect(applies(root)).toBe(1);
    expect(h.find('bad')?.state).toBe('failed');
    await h.stop();
  });

  it('offers typed hooks across plugins through hooksOf', async () => {
    const offer = defineHooks('producer', () => ({ decorate: new AsyncSeriesWaterfallHook<[string]>(['name']) }));
    const producer = definePlugin({
      name: 'producer',
      version: '1.2.0',
      apiVersion: '^1',
      offers: offer,
      setup(ctx) {
        ctx.serve({
          name: {
            access: 'read',
            schema: { type: 'object' },
            handler: () => ctx.hooksOf(offer).decorate.call('router'),
          },
        });
      },
    });
    const consumer = definePlugin({
      name: 'consumer',
      version: '1.0.0',
      apiVersion: '^1',
      dependencies: { producer: '^1.2' },
      setup(ctx) {
        ctx.hooksOf(offer).decorate.tap((name) => `${name}-of-consumer`);
      },
    });
    const { host: h } = await host({}, [consumer, producer]);
    await h.start();
    await expect(h.methods.invoke('producer', 'name', {})).resolves.toBe('router-of-consumer');
    await h.stop();
  });
});

describe('Host reload', () => {
  it('runs overlapping reloads one after another, so a plugin starts once', async () => {
    let setups = 0;
    const schema = {
      type: 'object',
      properties: { main: { type: 'object', properties: { ok: { type: 'boolean', default: false } } } },
    } as const;
    const validator = compileValidator(schema);
    const picky = definePlugin<{ main: { ok: boolean } }>({
      name: 'picky',
      version: '1.0.0',
      apiVersion: '^1',
      configSchema: schema,
      validateConfig: validator,
      async setup(ctx) {
        if (!ctx.config.main.ok) throw new Error('not ok yet');
        setups++;
        await new Promise((r) => setImmediate(r));
      },
    });
    const { host: h, writeConfig } = await host({ picky: "config main 'main'\n" }, [picky]);
    await h.start();
    writeConfig('picky', "config main 'main'\n\toption ok '1'\n");
    const [a, b] = await Promise.all([h.reload(), h.reload()]);
    expect(setups).toBe(1);
    expect([...a.started, ...b.started]).toEqual(['picky']);
    await h.stop();
  });
});

describe('plugin process permissions', () => {
  it('allow a listed name on PATH or in a system directory, not the same name elsewhere', async () => {
    const { ScopedProcesses } = await import('../../src/system/processes.js');
    const { createLogger } = await import('../../src/log/logger.js');
    const runs: string[][] = [];
    const fake = {
      run: async (argv: readonly string[]) => {
        runs.push([...argv]);
        return { argv, exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: 0 };
      },
      spawn: () => {
        throw new Error('unused');
      },
      which: () => undefined,
    };
    const scoped = new ScopedProcesses(fake, 'p', ['nft', '/opt/bin/tool'], createLogger(() => undefined).logger);
    await scoped.run(['nft', '-f', '-']);
    await scoped.run(['/usr/sbin/nft', '-j', 'list', 'ruleset']);
    await scoped.run(['/opt/bin/tool']);
    await expect(scoped.run(['/tmp/x/nft'])).rejects.toMatchObject({ code: ErrorCodes.PERMISSION });
    await expect(scoped.run(['tool'])).rejects.toMatchObject({ code: ErrorCodes.PERMISSION });
    await expect(scoped.run(['sh', '-c', 'nft'])).rejects.toMatchObject({ code: ErrorCodes.PERMISSION });
    expect(runs.map((r) => r[0])).toEqual(['nft', '/usr/sbin/nft', '/opt/bin/tool']);
  });
});

describe('plugins that keep the names deployments use', () => {
  it('read the UCI package and serve the object names their manifest gives', async () => {
    const schema = {
      type: 'object',
      properties: { base_config: { type: 'object', properties: { enabled: { type: 'boolean', default: false } } } },
    } as const;
    let enabled: unknown;
    const legacy = definePlugin<{ base_config: { enabled: boolean } }>({
      name: 'legacy-ng',
      version: '1.0.0',
      apiVersion: '^1',
      configSchema: schema,
      validateConfig: compileValidator(schema),
      setup(ctx) {
        enabled = ctx.config.base_config.enabled;
        ctx.serve({ ping: { access: 'read', schema: { type: 'object' }, handler: () => ({ pong: true }) } }, 'legacy');
        ctx.serve({ ping: { access: 'read', schema: { type: 'object' }, handler: () => ({ pong: 'sub' }) } }, 'sub');
      },
    });
    const { host: h } = await host({ legacy: "config base_config 'base_config'\n\toption enabled '1'\n" }, [], {
      plugins: [{ definition: legacy, manifest: { config: 'legacy', objects: ['legacy'] } }],
    });
    await h.start();
    expect(enabled).toBe(true);
    await expect(h.methods.invoke('legacy', 'ping', {})).resolves.toEqual({ pong: true });
    await expect(h.methods.invoke('legacy-ng.sub', 'ping', {})).resolves.toEqual({ pong: 'sub' });
    expect(h.validate().find((v) => v.plugin === 'legacy-ng')).toEqual({ plugin: 'legacy-ng', ok: true, issues: [] });
    await h.stop();
  });
});

describe('a plugin changing its own config (ctx.setConfig)', () => {
  const schema = {
    type: 'object',
    properties: {
      base_config: {
        type: 'object',
        properties: {
          enabled: { type: 'boolean', default: false },
          port: { type: 'integer', minimum: 1, default: 80 },
          hosts: { type: 'array', items: { type: 'string' }, default: [] },
        },
        additionalProperties: false,
      },
    },
  } as const;
  type Config = { base_config: { enabled: boolean; port: number; hosts: string[] } };

  it('validates, commits as uci would, and delivers the change through configChanged', async () => {
    const seen: Config[] = [];
    let setConfig: ((edits: Record<string, string | string[] | null>) => Promise<void>) | undefined;
    const plugin = definePlugin<Config>({
      name: 'editor-ng',
      version: '1.0.0',
      apiVersion: '^1',
      configSchema: schema,
      validateConfig: compileValidator(schema),
      setup(ctx) {
        setConfig = (edits) => ctx.setConfig(edits);
        ctx.hooks.configChanged.tap((c) => void seen.push(c.config as Config));
      },
    });
    const { host: h, configDir } = await host({ editor: "config base_config 'base_config'\n\toption enabled '0'\n" }, [], {
      plugins: [{ definition: plugin, manifest: { config: 'editor' } }],
    });
    await h.start();
    await setConfig?.({ 'base_config.enabled': '1', 'base_config.hosts': ['a', 'b'] });
    expect(readFileSync(join(configDir, 'editor'), 'utf8')).toBe(
      "\nconfig base_config 'base_config'\n\toption enabled '1'\n\tlist hosts 'a'\n\tlist hosts 'b'\n\n",
    );
    expect(seen.at(-1)?.base_config).toMatchObject({ enabled: true, hosts: ['a', 'b'] });

    // invalid: refused with the UCI path, nothing written, the plugin keeps running
    await expect(setConfig?.({ 'base_config.port': 'zero' })).rejects.toMatchObject({
      code: 'WRTKIT_ERR_CONFIG_INVALID',
      uciPath: 'editor.base_config.port',
    });
    expect(readFileSync(join(configDir, 'editor'), 'utf8')).not.toContain('port');
    await expect(setConfig?.({ 'no-dot': '1' })).rejects.toMatchObject({ code: 'WRTKIT_ERR_INVALID_ARGUMENT' });

    // null deletes; an unchanged value writes nothing and fires nothing
    const before = seen.length;
    await setConfig?.({ 'base_config.enabled': '1' });
    expect(seen.length).toBe(before);
    await setConfig?.({ 'base_config.hosts': null });
    expect(seen.at(-1)?.base_config.hosts).toEqual([]);
    expect(h.find('editor-ng')?.state).toBe('running');
    await h.stop();
  });
});
