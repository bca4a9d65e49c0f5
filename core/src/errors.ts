/**
 * Every error wrtkit raises on purpose carries a stable code from this table, so that
 * tools, tests and users can match on the code instead of on message text
 * (fastify's FST_ERR_* is the model). Messages name the plugin, the hook and the UCI
 * path where one is involved.
 */
export const ErrorCodes = {
  // plugin manifests and loading
  MANIFEST_INVALID: 'WRTKIT_ERR_MANIFEST_INVALID',
  MANIFEST_MISMATCH: 'WRTKIT_ERR_MANIFEST_MISMATCH',
  API_VERSION: 'WRTKIT_ERR_API_VERSION',
  DUPLICATE_PLUGIN: 'WRTKIT_ERR_DUPLICATE_PLUGIN',
  DEPENDENCY_MISSING: 'WRTKIT_ERR_DEPENDENCY_MISSING',
  DEPENDENCY_VERSION: 'WRTKIT_ERR_DEPENDENCY_VERSION',
  DEPENDENCY_CYCLE: 'WRTKIT_ERR_DEPENDENCY_CYCLE',
  DEPENDENCY_FAILED: 'WRTKIT_ERR_DEPENDENCY_FAILED',
  PLUGIN_LOAD: 'WRTKIT_ERR_PLUGIN_LOAD',
  PLUGIN_SETUP: 'WRTKIT_ERR_PLUGIN_SETUP',
  PLUGIN_TEARDOWN: 'WRTKIT_ERR_PLUGIN_TEARDOWN',
  PLUGIN_DISABLED: 'WRTKIT_ERR_PLUGIN_DISABLED',
  PLUGIN_NOT_FOUND: 'WRTKIT_ERR_PLUGIN_NOT_FOUND',
  // the hook bus
  HOOK_FAILED: 'WRTKIT_ERR_HOOK_FAILED',
  HOOK_TIMEOUT: 'WRTKIT_ERR_HOOK_TIMEOUT',
  HOOK_STAGE: 'WRTKIT_ERR_HOOK_STAGE',
  HOOK_NOT_CALLABLE: 'WRTKIT_ERR_HOOK_NOT_CALLABLE',
  HOOK_OWNER_MISSING: 'WRTKIT_ERR_HOOK_OWNER_MISSING',
  HOOK_UNDECLARED_DEPENDENCY: 'WRTKIT_ERR_HOOK_UNDECLARED_DEPENDENCY',
  HOOK_TAP_AFTER_SETUP: 'WRTKIT_ERR_HOOK_TAP_AFTER_SETUP',
  // configuration
  CONFIG_INVALID: 'WRTKIT_ERR_CONFIG_INVALID',
  UCI_PARSE: 'WRTKIT_ERR_UCI_PARSE',
  UCI_NOT_FOUND: 'WRTKIT_ERR_UCI_NOT_FOUND',
  UCI_INVALID_ARGUMENT: 'WRTKIT_ERR_UCI_INVALID_ARGUMENT',
  APPLY_FAILED: 'WRTKIT_ERR_APPLY_FAILED',
  // permissions and system services
  PERMISSION: 'WRTKIT_ERR_PERMISSION',
  IO: 'WRTKIT_ERR_IO',
  PROCESS_SPAWN: 'WRTKIT_ERR_PROCESS_SPAWN',
  PROCESS_TIMEOUT: 'WRTKIT_ERR_PROCESS_TIMEOUT',
  STATE_WRITE: 'WRTKIT_ERR_STATE_WRITE',
  UNSUPPORTED: 'WRTKIT_ERR_UNSUPPORTED',
  // control socket / method tables
  METHOD_NOT_FOUND: 'WRTKIT_ERR_METHOD_NOT_FOUND',
  INVALID_ARGUMENT: 'WRTKIT_ERR_INVALID_ARGUMENT',
  CONTROL_UNAVAILABLE: 'WRTKIT_ERR_CONTROL_UNAVAILABLE',
  CONTROL_PROTOCOL: 'WRTKIT_ERR_CONTROL_PROTOCOL',
  UBUS_PROTOCOL: 'WRTKIT_ERR_UBUS_PROTOCOL',
  UBUS_STATUS: 'WRTKIT_ERR_UBUS_STATUS',
  UBUS_TIMEOUT: 'WRTKIT_ERR_UBUS_TIMEOUT',
  UBUS_DISCONNECTED: 'WRTKIT_ERR_UBUS_DISCONNECTED',
  METHOD_FAILED: 'WRTKIT_ERR_METHOD_FAILED',
  USAGE: 'WRTKIT_ERR_USAGE',
  // the HTTP server (core/src/http)
  /** A request the server refused (malformed, too large, too slow); details.status is the answer sent. */
  HTTP_REQUEST: 'WRTKIT_ERR_HTTP_REQUEST',
  /** A handler returned something that is not a response (bad status, header or body); the client got a 500. */
  HTTP_RESPONSE: 'WRTKIT_ERR_HTTP_RESPONSE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface ErrorContext {
  /** The plugin the error belongs to, when there is one. */
  plugin?: string;
  /** The hook that was running, when there is one. */
  hook?: string;
  /** A UCI path such as `dynapoint.internet.interval`. */
  uciPath?: string;
  /** The underlying error. */
  cause?: unknown;
  /** Anything else worth showing (kept JSON-serialisable). */
  details?: Record<string, unknown>;
}

export class WrtkitError extends Error {
  readonly code: ErrorCode;
  readonly plugin: string | undefined;
  readonly hook: string | undefined;
  readonly uciPath: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  override readonly cause: unknown;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message);
    this.name = 'WrtkitError';
    this.code = code;
    this.plugin = context.plugin;
    this.hook = context.hook;
    this.uciPath = context.uciPath;
    this.details = context.details;
    this.cause = context.cause;
  }

  /** A plain object for logs, the control socket and `wrtkit plugins --json`. */
  toJSON(): SerializedError {
    const out: SerializedError = { code: this.code, message: this.message };
    if (this.plugin !== undefined) out.plugin = this.plugin;
    if (this.hook !== undefined) out.hook = this.hook;
    if (this.uciPath !== undefined) out.uciPath = this.uciPath;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

export interface SerializedError {
  code: string;
  message: string;
  plugin?: string;
  hook?: string;
  uciPath?: string;
  details?: Record<string, unknown>;
}

export function isWrtkitError(value: unknown, code?: ErrorCode): value is WrtkitError {
  return value instanceof WrtkitError && (code === undefined || value.code === code);
}

/** The message of anything thrown, for wrapping foreign errors. */
export function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Turns anything thrown into a serialisable error record. */
export function serializeError(value: unknown): SerializedError {
  if (value instanceof WrtkitError) return value.toJSON();
  return { code: 'WRTKIT_ERR_UNKNOWN', message: messageOf(value) };
}
