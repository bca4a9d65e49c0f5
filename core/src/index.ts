// Public API of @wrtkit/core: what plugins and tools import. Code lives in the modules.
export { ErrorCodes, WrtkitError, isWrtkitError, messageOf, serializeError } from './errors.js';
export type { ErrorCode, ErrorContext, SerializedError } from './errors.js';
export { Tokens } from './di/tokens.js';
export { definePlugin, isPluginDefinition } from './plugin/define.js';
export type { PluginContext, PluginDefinition, Teardown } from './plugin/define.js';
export { defineCommand } from './plugin/command.js';
export type { CommandContext, CommandDefinition } from './plugin/command.js';
export type { PluginManifest, PluginPermissions } from './plugin/manifest.js';
export { defineHooks } from './hooks/offers.js';
export type { HookOffer } from './hooks/offers.js';
export type { CallView, OfferedHooksView, PluginHooks, TapOptions, TapView } from './hooks/view.js';
export { Stage } from './hooks/stages.js';
export { ComposedPackages } from './hooks/events.js';
export type {
  BootInfo,
  ClientAuthorizationEvent,
  ComposeContext,
  ComposedPackage,
  ConfigChange,
  ConnectivityEvent,
  LinkEvent,
  PeerEvent,
  ShutdownInfo,
  StationEvent,
} from './hooks/events.js';
export type { HostHooks } from './hooks/host-hooks.js';
export { method, MethodRegistry } from './control/methods.js';
export type { MethodAccess, MethodSpec, MethodTable } from './control/methods.js';
export { validateArgs } from './schema/args.js';
export type { ArgsError, ArgsOf, ArgsSchema } from './schema/args.js';
export type { ConfigIssue, ConfigValidator } from './config/validate.js';
export type { JsonSchema } from './config/uci-json.js';
export type { UciReader } from './config/uci-reader.js';
export { SystemClock } from './clock/clock.js';
export type { Cancel, Clock } from './clock/clock.js';
export { FakeClock } from './clock/fake-clock.js';
export type { LogFields, LogLevel, LogRecord, LogSink, Logger } from './log/logger.js';
export type { StateStore } from './state/store.js';
export type { PluginProcesses } from './system/processes.js';
export { Supervisor } from './system/supervisor.js';
export type { SupervisorInfo, SupervisorOptions } from './system/supervisor.js';
export { UciPackage, UciSection, exportUci, parseUci } from './uci/index.js';
export type { UciChange } from './uci/index.js';
export type { ChildProcess, Platform, ProcessResult, Processes, RunOptions } from './platform/platform.js';
export { UbusClient, UbusStatusError, UBUS_SOCKET } from './ubus/client.js';
export type { CallOptions, ServedObject, UbusObjectInfo } from './ubus/client.js';
export { replies } from './ubus/objects.js';
export { int8, int16, int32, int64, double } from './ubus/blobmsg.js';
export { Status as UbusStatus } from './ubus/constants.js';
export type { PluginUbus } from './ubus/scoped.js';
export { Host } from './host/host.js';
export type { HostOptions, HostStatus, ReloadReport } from './host/host.js';
export type { PluginState, PluginStatus } from './host/plugin-runtime.js';
export { HOST_API_VERSION, WRTKIT_VERSION } from './version.js';
export { serveHttp } from './http/server.js';
export { escapeHtml } from './http/html.js';
export { encodeForm, parseForm, percentDecode } from './http/form.js';
export type { HttpHandler, HttpRequest, HttpResponse, HttpServer, HttpServerOptions } from './http/types.js';
