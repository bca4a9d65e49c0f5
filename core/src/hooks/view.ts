import { ErrorCodes, WrtkitError } from '../errors.js';
import type {
  BootInfo,
  ClientAuthorizationEvent,
  ComposeContext,
  ComposedPackage,
  ComposeValue,
  ConfigChange,
  ConnectivityEvent,
  LinkEvent,
  PeerEvent,
  ShutdownInfo,
  StationEvent,
} from './events.js';
import { type AnyHook, type TapOwner, guardTap, hookKind, isAsyncKind } from './guard.js';
import type { HostHooks } from './host-hooks.js';
import { isPluginStage } from './stages.js';

/** Options a plugin may give a tap. Its name is always the plugin's name. */
export interface TapOptions {
  /** Order within the plugin band (-99..99, default 0); lower runs first. */
  stage?: number;
  /** Run before the taps of this plugin. */
  before?: string | string[];
  /** Time limit for one call, overriding the host's hook_timeout. */
  timeoutMs?: number;
}

/** A hook as a plugin sees it: it can tap it, during setup. */
export interface TapView<TArgs extends unknown[], TResult> {
  readonly name: string;
  /**
   * Adds fn, named after the plugin. Returning nothing is always allowed: on a bail
   * hook it means "not me", on a waterfall it keeps the (possibly changed) value.
   */
  tap(fn: (...args: TArgs) => TResult | void | Promise<TResult | void>, options?: TapOptions): void;
}

/** A hook a plugin may also call (events it publishes, hooks it offers). */
export interface CallView<TArgs extends unknown[], TResult> extends TapView<TArgs, TResult> {
  /** Runs every tap; taps that fail are reported and skipped, so this does not throw. */
  call(...args: TArgs): Promise<TResult>;
}

/** The host's hooks as one plugin sees them. */
export interface PluginHooks<TConfig = unknown> {
  boot: TapView<[BootInfo], void>;
  ready: TapView<[], void>;
  /** Fires with this plugin's own config changes only (validated, never invalid). */
  configChanged: TapView<[ConfigChange<TConfig>], void>;
  shutdown: TapView<[ShutdownInfo], void>;
  link: CallView<[LinkEvent], void>;
  station: CallView<[StationEvent], void>;
  connectivity: CallView<[ConnectivityEvent], void>;
  clientAuthorization: CallView<[ClientAuthorizationEvent], void>;
  peer: CallView<[PeerEvent], void>;
  /** Waterfalls over the desired UCI packages; needs `uci` permission for the package. */
  compose: Record<ComposedPackage, TapView<[ComposeValue, ComposeContext], ComposeValue>>;
}

type ArgsOf<H> = H extends { promise(...args: infer A): Promise<unknown> } ? A : never;
type ResultOf<H> = H extends { promise(...args: never[]): Promise<infer R> } ? R : never;
/** What a plugin gets for a group of hooks a plugin offers (only the owner may call). */
export type OfferedHooksView<T> = {
  readonly [K in keyof T]: CallView<ArgsOf<T[K]>, ResultOf<T[K]>>;
};

/** The plugin-side state the views consult. */
export interface ViewOwner extends TapOwner {
  /** Taps are only accepted while setup runs: tapable cannot untap (webpack/tapable#75). */
  acceptingTaps(): boolean;
  readonly generation: number;
  /** Whether the plugin declared the UCI package in permissions.uci. */
  mayWriteUci(pkg: string): boolean;
}

/** Guarded lifecycle taps of one generation, so a retried plugin's boot/ready can be replayed. */
export type RecordedTaps = Map<string, Array<(...args: unknown[]) => unknown>>;

/** Builds a TapView (or CallView) over one raw hook for one plugin. */
export function makeTapView(
  hook: AnyHook,
  owner: ViewOwner,
  hookName: string,
  recorded: RecordedTaps | undefined,
  options: { callable: boolean; filter?: (...args: unknown[]) => boolean },
): CallView<unknown[], unknown> {
  const kind = hookKind(hook);
  const view: CallView<unknown[], unknown> = {
    name: hookName,
    tap(fn, tapOptions = {}) {
      if (!owner.acceptingTaps()) {
        throw new WrtkitError(
          ErrorCodes.HOOK_TAP_AFTER_SETUP,
          `plugin ${owner.name} tapped ${hookName} after setup; taps are only accepted during setup`,
          { plugin: owner.name, hook: hookName },
        );
      }
      const stage = tapOptions.stage ?? 0;
      if (!isPluginStage(stage)) {
        throw new WrtkitError(ErrorCodes.HOOK_STAGE, `plugin ${owner.name}: stage ${stage} on ${hookName} is outside -99..99`, {
          plugin: owner.name,
          hook: hookName,
        });
      }
      const filter = options.filter;
      const userFn = filter
        ? (...args: unknown[]) => (filter(...args) ? fn(...args) : undefined)
        : (fn as (...args: unknown[]) => unknown);
      const guardOptions: Parameters<typeof guardTap>[2] = { hookName, kind, generation: owner.generation };
      if (tapOptions.timeoutMs !== undefined) guardOptions.timeoutMs = tapOptions.timeoutMs;
      const guarded = guardTap(owner, userFn, guardOptions);
      // tapable accepts one name or an array in `before` (its typings only say string).
      const tapInfo: { name: string; stage: number; before?: string } = { name: owner.name, stage };
      if (tapOptions.before !== undefined) tapInfo.before = tapOptions.before as string;
      if (isAsyncKind(kind)) {
        (hook as unknown as { tapPromise(o: typeof tapInfo, f: (...a: unknown[]) => Promise<unknown>): void }).tapPromise(
          tapInfo,
          guarded as (...a: unknown[]) => Promise<unknown>,
        );
      } else {
        hook.tap(tapInfo, guarded as (...a: never[]) => unknown);
      }
      if (recorded) {
        const list = recorded.get(hookName) ?? [];
        list.push(guarded);
        recorded.set(hookName, list);
      }
    },
    call(...args) {
      if (!options.callable) {
        throw new WrtkitError(ErrorCodes.HOOK_NOT_CALLABLE, `plugin ${owner.name} may not call ${hookName}`, {
          plugin: owner.name,
          hook: hookName,
        });
      }
      return (hook.promise as (...a: unknown[]) => Promise<unknown>)(...args);
    },
  };
  return view;
}

/**
 * The host's hooks for one plugin: taps carry the plugin's name and guard; lifecycle
 * and composition hooks can be tapped but only the host calls them.
 */
export function createPluginHooks<TConfig>(hooks: HostHooks, owner: ViewOwner, recorded: RecordedTaps): PluginHooks<TConfig> {
  const tapOnly = (hook: AnyHook, name: string, filter?: (...args: unknown[]) => boolean) => {
    const view = makeTapView(hook, owner, name, recorded, filter ? { callable: false, filter } : { callable: false });
    return { name: view.name, tap: view.tap };
  };
  const callable = (hook: AnyHook, name: string) => makeTapView(hook, owner, name, undefined, { callable: true });
  const compose = (pkg: ComposedPackage) => {
    const view = tapOnly(hooks.compose[pkg] as unknown as AnyHook, `compose.${pkg}`);
    return {
      name: view.name,
      tap(fn: (...args: never[]) => unknown, options?: TapOptions) {
        if (!owner.mayWriteUci(pkg)) {
          throw new WrtkitError(
            ErrorCodes.PERMISSION,
            `plugin ${owner.name} taps compose.${pkg} but does not declare "${pkg}" in permissions.uci of its manifest`,
            { plugin: owner.name, hook: `compose.${pkg}` },
          );
        }
        view.tap(fn as never, options);
      },
    };
  };
  const asHook = (h: unknown) => h as AnyHook;
  return Object.freeze({
    boot: tapOnly(asHook(hooks.boot), 'boot'),
    ready: tapOnly(asHook(hooks.ready), 'ready'),
    configChanged: tapOnly(
      asHook(hooks.configChanged),
      'configChanged',
      (change) => (change as ConfigChange).plugin === owner.name,
    ),
    shutdown: tapOnly(asHook(hooks.shutdown), 'shutdown'),
    link: callable(asHook(hooks.link), 'link'),
    station: callable(asHook(hooks.station), 'station'),
    connectivity: callable(asHook(hooks.connectivity), 'connectivity'),
    clientAuthorization: callable(asHook(hooks.clientAuthorization), 'clientAuthorization'),
    peer: callable(asHook(hooks.peer), 'peer'),
    compose: Object.freeze({
      wireless: compose('wireless'),
      network: compose('network'),
      firewall: compose('firewall'),
      dhcp: compose('dhcp'),
    }),
  }) as unknown as PluginHooks<TConfig>;
}
