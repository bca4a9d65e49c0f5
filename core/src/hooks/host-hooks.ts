import { AsyncParallelHook, AsyncSeriesHook, AsyncSeriesWaterfallHook } from 'tapable';
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

/** The host's hooks: the kind is in each class name, the payloads in events.ts. */
export interface HostHooks {
  readonly boot: AsyncSeriesHook<[BootInfo]>;
  readonly ready: AsyncParallelHook<[]>;
  readonly configChanged: AsyncSeriesHook<[ConfigChange]>;
  readonly shutdown: AsyncSeriesHook<[ShutdownInfo]>;
  readonly link: AsyncParallelHook<[LinkEvent]>;
  readonly station: AsyncParallelHook<[StationEvent]>;
  readonly connectivity: AsyncParallelHook<[ConnectivityEvent]>;
  readonly clientAuthorization: AsyncParallelHook<[ClientAuthorizationEvent]>;
  readonly peer: AsyncParallelHook<[PeerEvent]>;
  readonly compose: Readonly<Record<ComposedPackage, AsyncSeriesWaterfallHook<[ComposeValue, ComposeContext]>>>;
}

/**
 * Every hook the host offers, declared in one place and frozen: nobody adds hooks to
 * core at run time (plugins offer their own with defineHooks). The class name says the
 * kind; the argument names are what docs/hooks.md shows.
 */
export function createHostHooks(): HostHooks {
  return Object.freeze({
    // lifecycle (fired by the host only)
    boot: new AsyncSeriesHook<[BootInfo]>(['boot'], 'boot'),
    ready: new AsyncParallelHook<[]>([], 'ready'),
    configChanged: new AsyncSeriesHook<[ConfigChange]>(['change'], 'configChanged'),
    shutdown: new AsyncSeriesHook<[ShutdownInfo]>(['shutdown'], 'shutdown'),
    // system and cross-plugin events (fired by the host or by the plugin that knows)
    link: new AsyncParallelHook<[LinkEvent]>(['event'], 'link'),
    station: new AsyncParallelHook<[StationEvent]>(['event'], 'station'),
    connectivity: new AsyncParallelHook<[ConnectivityEvent]>(['event'], 'connectivity'),
    clientAuthorization: new AsyncParallelHook<[ClientAuthorizationEvent]>(['event'], 'clientAuthorization'),
    peer: new AsyncParallelHook<[PeerEvent]>(['event'], 'peer'),
    // config composition: each tap gets the desired package and returns it, changed or not;
    // the host diffs the result against the committed file and applies once.
    compose: Object.freeze({
      wireless: new AsyncSeriesWaterfallHook<[ComposeValue, ComposeContext]>(['config', 'context'], 'compose.wireless'),
      network: new AsyncSeriesWaterfallHook<[ComposeValue, ComposeContext]>(['config', 'context'], 'compose.network'),
      firewall: new AsyncSeriesWaterfallHook<[ComposeValue, ComposeContext]>(['config', 'context'], 'compose.firewall'),
      dhcp: new AsyncSeriesWaterfallHook<[ComposeValue, ComposeContext]>(['config', 'context'], 'compose.dhcp'),
    }),
  });
}


/** Hooks only the host may call; plugins can tap them. */
export const LifecycleHookNames = ['boot', 'ready', 'configChanged', 'shutdown'] as const;
/** Event hooks any plugin may call (emit) and tap. */
export const EventHookNames = ['link', 'station', 'connectivity', 'clientAuthorization', 'peer'] as const;
