/**
 * The SDK's public types, checked by the compiler (vitest's expectTypeOf; `tsc` fails on
 * any line below that stops holding). Runtime assertions are incidental.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  type ConnectivityEvent,
  type PluginContext,
  type UciPackage,
  WrtkitError,
  defineHooks,
  definePlugin,
  isWrtkitError,
  method,
} from '../src/index.js';
import { type TestHost, createTestHost } from '../src/testing/index.js';

interface Config {
  main: { interval: number; label: string };
  rule: Array<{ '.name': string; hosts: string[] }>;
}

const offer = defineHooks('producer', () => ({
  decided: new AsyncParallelHook<[{ verdict: 'up' | 'down'; at: number }]>(['decision']),
  pick: new AsyncSeriesBailHook<[string], number>(['name']),
}));

describe('the plugin API types', () => {
  it('types ctx.config from the definition, hook payloads, and offered hooks', () => {
    definePlugin<Config>({
      name: 'typed',
      version: '1.0.0',
      apiVersion: '^1',
      dependencies: { producer: '^1' },
      setup(ctx) {
        expectTypeOf(ctx).toEqualTypeOf<PluginContext<Config>>();
        expectTypeOf(ctx.config.main.interval).toEqualTypeOf<number>();
        expectTypeOf(ctx.config.rule[0]?.hosts).toEqualTypeOf<string[] | undefined>();
        ctx.hooks.connectivity.tap((event) => {
          expectTypeOf(event).toEqualTypeOf<ConnectivityEvent>();
        });
        ctx.hooks.configChanged.tap((change) => {
          expectTypeOf(change.previous).toEqualTypeOf<Config>();
        });
        ctx.hooks.compose.wireless.tap((wireless) => {
          expectTypeOf(wireless).toEqualTypeOf<UciPackage>();
          return wireless;
        });
        const hooks = ctx.hooksOf(offer);
        hooks.decided.tap((decision) => {
          expectTypeOf(decision.verdict).toEqualTypeOf<'up' | 'down'>();
        });
        hooks.pick.tap((name) => (name.length > 3 ? 1 : undefined));
        // @ts-expect-error a lifecycle hook cannot be called by a plugin
        void ctx.hooks.boot.call;
        // @ts-expect-error the event payload is checked
        void ctx.hooks.connectivity.call({ rule: 'x' });
        // @ts-expect-error taps return what the hook expects
        ctx.hooks.compose.network.tap(() => 42);
      },
    });
  });

  it('infers method arguments from the schema', () => {
    const status = method(
      {
        access: 'read',
        schema: {
          type: 'object',
          required: ['mac'],
          properties: {
            mac: { type: 'string' },
            minutes: { type: 'integer', default: 60 },
            tags: { type: 'array', items: { type: 'string' } },
          },
        },
      },
      (args) => {
        expectTypeOf(args.mac).toEqualTypeOf<string>();
        expectTypeOf(args.minutes).toEqualTypeOf<number>();
        expectTypeOf(args.tags).toEqualTypeOf<string[] | undefined>();
        return { ok: true };
      },
    );
    expectTypeOf(status.access).toEqualTypeOf<'read' | 'write' | 'public'>();
  });

  it('narrows coded errors', () => {
    const error: unknown = new WrtkitError('WRTKIT_ERR_PERMISSION', 'no');
    if (isWrtkitError(error, 'WRTKIT_ERR_PERMISSION')) expectTypeOf(error.code).toMatchTypeOf<string>();
  });

  it('takes plugin definitions of any config type in the test host', () => {
    const plugin = definePlugin<Config>({ name: 'typed', version: '1.0.0', apiVersion: '^1', setup() {} });
    type Options = Parameters<typeof createTestHost>[0];
    expectTypeOf({ plugins: [plugin] }).toMatchTypeOf<Options>();
    expectTypeOf({ plugins: [{ definition: plugin, manifest: { permissions: { exec: ['nft'] } } }] }).toMatchTypeOf<Options>();
    expectTypeOf<ReturnType<typeof createTestHost>>().resolves.toEqualTypeOf<TestHost>();
  });
});
