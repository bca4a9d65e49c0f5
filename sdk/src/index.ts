// tsyringe's decorators need the Reflect metadata API before any plugin class is
// declared; in a built plugin this import is a no-op (the host loaded it once).
import 'reflect-metadata';
// @wrtkit/sdk: what a plugin imports. Everything here is implemented in @wrtkit/core;
// inside a built plugin these imports resolve to the host's own copies (the runtime
// bridge), so a plugin bundle carries none of it.
export {
  ComposedPackages,
  ErrorCodes,
  Stage,
  Tokens,
  UbusStatus,
  UbusStatusError,
  WrtkitError,
  defineHooks,
  definePlugin,
  double,
  int16,
  int32,
  int64,
  int8,
  isWrtkitError,
  method,
  replies,
} from '@wrtkit/core';
export type {
  ArgsOf,
  ArgsSchema,
  BootInfo,
  CallOptions,
  CallView,
  Cancel,
  ClientAuthorizationEvent,
  Clock,
  ComposeContext,
  ComposedPackage,
  ConfigChange,
  ConfigIssue,
  ConfigValidator,
  ConnectivityEvent,
  ErrorCode,
  HookOffer,
  JsonSchema,
  LinkEvent,
  LogFields,
  Logger,
  MethodSpec,
  MethodTable,
  OfferedHooksView,
  PeerEvent,
  PluginContext,
  PluginDefinition,
  PluginHooks,
  PluginManifest,
  PluginPermissions,
  PluginProcesses,
  PluginUbus,
  ProcessResult,
  RunOptions,
  SerializedError,
  ShutdownInfo,
  StateStore,
  StationEvent,
  TapOptions,
  TapView,
  Teardown,
  UbusObjectInfo,
  UciReader,
} from '@wrtkit/core';
export { UciPackage, UciSection } from '@wrtkit/core';
// tapable's hooks, for hooks a plugin offers (defineHooks): one copy shared with the host.
export {
  AsyncParallelBailHook,
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
  SyncBailHook,
  SyncHook,
  SyncWaterfallHook,
} from 'tapable';
// tsyringe's decorators, for a plugin's own services in its DI scope.
export { inject, injectable, singleton } from 'tsyringe';
