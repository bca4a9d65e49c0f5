import { type MethodTable, invokeMethod } from '../control/methods.js';
import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ArgsSchema } from '../schema/args.js';
import { BlobmsgType, Status } from './constants.js';

/** What `ubus -v list` shows: per method, per argument, the blobmsg type (libubus policies). */
export type ObjectSignature = Record<string, Record<string, number>>;

/** Several DATA replies to one call (libubus handlers may call ubus_send_reply repeatedly). */
export class UbusReplies {
  constructor(readonly parts: ReadonlyArray<Record<string, unknown>>) {}
}

export function replies(...parts: Array<Record<string, unknown>>): UbusReplies {
  return new UbusReplies(parts);
}

function blobmsgTypeOf(schema: ArgsSchema): number {
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length !== 1) return BlobmsgType.UNSPEC;
  switch (types[0]) {
    case 'string':
      return BlobmsgType.STRING;
    case 'integer':
      return BlobmsgType.INT32;
    case 'number':
      return BlobmsgType.DOUBLE;
    case 'boolean':
      return BlobmsgType.INT8;
    case 'array':
      return BlobmsgType.ARRAY;
    case 'object':
      return BlobmsgType.TABLE;
    default:
      return BlobmsgType.UNSPEC;
  }
}

/** The signature ubusd stores for an object, from each method's argument schema. */
export function signatureOf(table: MethodTable): ObjectSignature {
  const signature: ObjectSignature = {};
  for (const [name, spec] of Object.entries(table)) {
    const args: Record<string, number> = {};
    for (const [arg, schema] of Object.entries(spec.schema.properties ?? {})) args[arg] = blobmsgTypeOf(schema);
    signature[name] = args;
  }
  return signature;
}

/** ubus status for an error a method raised. */
export function statusOf(error: unknown): number {
  if (error instanceof WrtkitError) {
    const status = error.details?.status;
    if (error.code === ErrorCodes.UBUS_STATUS && typeof status === 'number') return status;
    switch (error.code) {
      case ErrorCodes.INVALID_ARGUMENT:
        return Status.INVALID_ARGUMENT;
      case ErrorCodes.METHOD_NOT_FOUND:
        return Status.METHOD_NOT_FOUND;
      case ErrorCodes.PLUGIN_DISABLED:
      case ErrorCodes.PLUGIN_NOT_FOUND:
        return Status.NOT_FOUND;
      case ErrorCodes.PERMISSION:
        return Status.PERMISSION_DENIED;
      case ErrorCodes.HOOK_TIMEOUT:
      case ErrorCodes.PROCESS_TIMEOUT:
      case ErrorCodes.UBUS_TIMEOUT:
        return Status.TIMEOUT;
      case ErrorCodes.UNSUPPORTED:
        return Status.NOT_SUPPORTED;
      default:
        return Status.UNKNOWN_ERROR;
    }
  }
  return Status.UNKNOWN_ERROR;
}

/** ubus replies are tables: anything else a handler returns is wrapped as `{ result }`. */
function toReplies(result: unknown): Array<Record<string, unknown>> {
  if (result === undefined || result === null) return [];
  if (result instanceof UbusReplies) return [...result.parts];
  if (typeof result === 'object' && !Array.isArray(result)) return [result as Record<string, unknown>];
  return [{ result }];
}

/**
 * Runs an invoked method and says how to answer: the status and the DATA replies. Errors
 * carry no data, as with libubus (a policy failure is a bare INVALID_ARGUMENT); they are
 * logged, so the reason is in `logread`.
 */
export async function dispatchInvoke(
  table: MethodTable,
  objectName: string,
  method: string,
  args: Record<string, unknown>,
  invoke: (method: string, args: Record<string, unknown>) => Promise<unknown> = (m, a) => invokeMethod(table, objectName, m, a),
  log?: Logger,
): Promise<{ status: number; replies: Array<Record<string, unknown>> }> {
  try {
    return { status: Status.OK, replies: toReplies(await invoke(method, args)) };
  } catch (error) {
    const status = statusOf(error);
    if (status !== Status.METHOD_NOT_FOUND)
      log?.warn(`ubus call ${objectName}.${method} failed`, { status, error: messageOf(error) });
    return { status, replies: [] };
  }
}
