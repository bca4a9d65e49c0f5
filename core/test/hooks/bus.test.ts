import { AsyncParallelHook, AsyncSeriesBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { createHostHooks } from '../../src/hooks/host-hooks.js';
import { OfferedHooks, defineHooks } from '../../src/hooks/offers.js';
import { createPluginHooks, makeTapView } from '../../src/hooks/view.js';
import { hookKind } from '../../src/hooks/guard.js';
import { UciPackage } from '../../src/uci/index.js';
import { testOwner } from '../helpers/owner.js';

describe('host hooks', () => {
  it('are one frozen object; nobody adds hooks at run time', () => {
    const hooks = createHostHooks();
    expect(Object.isFrozen(hooks)).toBe(true);
    expect(Object.isFrozen(hooks.compose)).toBe(true);
    expect(() => {
      (hooks as unknown as Record<string, unknown>).extra = 1;
    }).toThrow();
    expect(Object.keys(hooks).sort()).toEqual(
      [
        'boot',
        'clientAuthorization',
        'compose',
        'configChanged',
        'connectivity',
        'link',
        'peer',
        'ready',
        'shutdown',
        'station',
      ].sort(),
    );
  });

  it('tells the kind of each tapable hook', () => {
    expect(hookKind(new SyncHook<[]>([]) as never)).toBe('sync');
    expect(hookKind(new SyncWaterfallHook<[number]>(['n']) as never)).toBe('sync-waterfall');
    expect(hookKind(new AsyncSeriesBailHook<[number], number>(['n']) as never)).toBe('async-series-bail');
  });
});

describe('plugin taps', () => {
  it('are named after the plugin and ordered by stage, not by tap order', async () => {
    const hooks = createHostHooks();
    const order: string[] = [];
    const a = testOwner('a');
    const b = testOwner('b');
    createPluginHooks(hooks, a.owner, new Map()).link.tap(() => void order.push('a'), { stage: 5 });
    createPluginHooks(hooks, b.owner, new Map()).link.tap(() => void order.push('b'), { stage: -5 });
    hooks.link.tapPromise({ name: 'core-post', stage: 100 }, async () => void order.push('core-post'));
    hooks.link.tapPromise({ name: 'core-pre', stage: -100 }, async () => void order.push('core-pre'));
    expect(hooks.link.taps.map((t) => t.name)).toEqual(['core-pre', 'b', 'a', 'core-post']);
    await hooks.link.promise({ ifname: 'eth0', up: true });
    expect(order.sort()).toEqual(['a', 'b', 'core-post', 'core-pre']);
  });

  it('refuse stages outside the plugin band', () => {
    const { owner } = testOwner('a');
    const view = createPluginHooks(createHostHooks(), owner, new Map());
    expect(() => view.ready.tap(() => undefined, { stage: -100 })).toThrow(
      expect.objectContaining({ code: ErrorCodes.HOOK_STAGE }),
    );
  });

  it('are refused after setup (tapable cannot untap)', () => {
    const { owner } = testOwner('a');
    const view = createPluginHooks(createHostHooks(), owner, new Map());
    owner.setAccepting(false);
    expect(() => view.ready.tap(() => undefined)).toThrow(expect.objectContaining({ code: ErrorCodes.HOOK_TAP_AFTER_SETUP }));
  });

  it('isolate a throwing tap: reported with plugin and hook, the others still run', async () => {
    const hooks = createHostHooks();
    const bad = testOwner('bad');
    const good = testOwner('good');
    const seen: string[] = [];
    createPluginHooks(hooks, bad.owner, new Map()).connectivity.tap(() => {
      throw new Error('boom');
    });
    createPluginHooks(hooks, good.owner, new Map()).connectivity.tap((e) => void seen.push(e.rule));
    await expect(hooks.connectivity.promise({ rule: 'internet', online: false, since: 0 })).resolves.toBeUndefined();
    expect(seen).toEqual(['internet']);
    expect(bad.owner.failures).toHaveLength(1);
    const [failure] = bad.owner.failures;
    expect(failure?.code).toBe(ErrorCodes.HOOK_FAILED);
    expect(failure?.plugin).toBe('bad');
    expect(failure?.hook).toBe('connectivity');
    expect(failure?.message).toContain('boom');
    // once failed, its taps pass through without running
    await hooks.connectivity.promise({ rule: 'internet', online: true, since: 1 });
    expect(bad.owner.failures).toHaveLength(1);
    expect(seen).toEqual(['internet', 'internet']);
  });

  it('time out a hanging tap and report WRTKIT_ERR_HOOK_TIMEOUT', async () => {
    const hooks = createHostHooks();
    const { owner, clock } = testOwner('slow', { timeoutMs: 500 });
    createPluginHooks(hooks, owner, new Map()).peer.tap(() => new Promise<void>(() => undefined));
    const done = hooks.peer.promise({ peer: 'x', up: true });
    await clock.advance(499);
    expect(owner.failures).toHaveLength(0);
    await clock.advance(1);
    await done;
    expect(owner.failures[0]?.code).toBe(ErrorCodes.HOOK_TIMEOUT);
    expect(owner.failures[0]?.message).toMatch(/slow did not finish hook peer within 500 ms/);
  });

  it('deliver configChanged only to the plugin whose config changed', async () => {
    const hooks = createHostHooks();
    const a = testOwner('a');
    const seen: string[] = [];
    createPluginHooks(hooks, a.owner, new Map()).configChanged.tap((c) => void seen.push(c.plugin));
    await hooks.configChanged.promise({ plugin: 'b', config: {}, previous: {} });
    await hooks.configChanged.promise({ plugin: 'a', config: {}, previous: {} });
    expect(seen).toEqual(['a']);
  });

  it('record lifecycle taps so a restarted plugin can be given boot and ready again', () => {
    const recorded = new Map();
    const { owner } = testOwner('a');
    const view = createPluginHooks(createHostHooks(), owner, recorded);
    view.boot.tap(() => undefined);
    view.ready.tap(() => undefined);
    expect([...recorded.keys()].sort()).toEqual(['boot', 'ready']);
  });
});

describe('composition waterfalls', () => {
  it('need the uci permission for the package', () => {
    const { owner } = testOwner('a', { uci: ['network'] });
    const view = createPluginHooks(createHostHooks(), owner, new Map());
    expect(() => view.compose.wireless.tap((w) => w)).toThrow(expect.objectContaining({ code: ErrorCodes.PERMISSION }));
    expect(() => view.compose.network.tap((n) => n)).not.toThrow();
  });

  it('drop a failing contribution and keep the others', async () => {
    const hooks = createHostHooks();
    const a = testOwner('a', { uci: ['wireless'] });
    const b = testOwner('b', { uci: ['wireless'] });
    createPluginHooks(hooks, a.owner, new Map()).compose.wireless.tap((w) => {
      w.addSection('wifi-iface', 'half_made');
      throw new Error('broke half-way');
    });
    createPluginHooks(hooks, b.owner, new Map()).compose.wireless.tap((w) => {
      w.addSection('wifi-iface', 'from_b').set('ssid', 'b');
    });
    const result = await hooks.compose.wireless.promise(new UciPackage('wireless'), { package: 'wireless', reason: 'test' });
    expect(result.sections.map((s) => s.name)).toEqual(['from_b']);
    expect(a.owner.failures[0]?.hook).toBe('compose.wireless');
  });
});

describe('offered hooks', () => {
  const offer = defineHooks('owner', () => ({
    thing: new AsyncParallelHook<[string]>(['value']),
    pick: new AsyncSeriesBailHook<[number], string>(['n']),
  }));

  it('the owner calls, a dependent taps, the typed arguments flow across', async () => {
    const registry = new OfferedHooks();
    registry.register(offer);
    const owner = testOwner('owner');
    const user = testOwner('user');
    const got: string[] = [];
    registry.view(offer, user.owner, ['owner']).thing.tap((v) => void got.push(v));
    registry.view(offer, user.owner, ['owner']).pick.tap((n) => (n > 1 ? 'big' : undefined));
    const own = registry.view(offer, owner.owner, []);
    await own.thing.call('hello');
    expect(got).toEqual(['hello']);
    await expect(own.pick.call(2)).resolves.toBe('big');
    expect(registry.describe()).toEqual({ owner: ['thing', 'pick'] });
  });

  it('refuse a plugin that did not declare the owner as a dependency', () => {
    const registry = new OfferedHooks();
    registry.register(offer);
    expect(() => registry.view(offer, testOwner('stranger').owner, [])).toThrow(
      expect.objectContaining({ code: ErrorCodes.HOOK_UNDECLARED_DEPENDENCY }),
    );
  });

  it('refuse hooks of a plugin that is not loaded', () => {
    expect(() => new OfferedHooks().view(offer, testOwner('user').owner, ['owner'])).toThrow(
      expect.objectContaining({ code: ErrorCodes.HOOK_OWNER_MISSING }),
    );
  });

  it('do not let a dependent call them', async () => {
    const registry = new OfferedHooks();
    registry.register(offer);
    const view = registry.view(offer, testOwner('user').owner, ['owner']);
    expect(() => view.thing.call('x')).toThrow(expect.objectContaining({ code: ErrorCodes.HOOK_NOT_CALLABLE }));
  });

  it('guard sync hooks too (no time limit, still isolated)', () => {
    const hook = new SyncWaterfallHook<[number]>(['n']);
    const { owner } = testOwner('a');
    makeTapView(hook as never, owner, 'x.sync', undefined, { callable: false }).tap(() => {
      throw new Error('nope');
    });
    expect(hook.call(3)).toBe(3);
    expect(owner.failures).toHaveLength(1);
  });
});
