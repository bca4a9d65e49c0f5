import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import { type ArgsOf, type ArgsSchema, formatArgsErrors, validateArgs } from '../schema/args.js';

/**
 * Who may call a method through rpcd (LuCI, HTTP JSON-RPC), as the generated ACLs say:
 * - `write`: users granted the owner's group with write access (the default);
 * - `read`: also users granted it read-only: the method changes nothing;
 * - `public`: anyone, without logging in (rpcd's `unauthenticated` group), e.g. what a
 *   captive portal shows before the client has a voucher, or the call that redeems one.
 *   Its arguments come from strangers: it must do and tell nothing a stranger should not.
 */
export type MethodAccess = 'read' | 'write' | 'public';

/**
 * A method table is what a host or plugin object offers to the outside, as usteer's
 * `UBUS_METHOD("set_config", handler, policy)` does in C: each method with its input
 * schema, who may call it, and its handler. The same table drives argument
 * validation, the control socket, ubus (later) and rpcd ACLs.
 */
export interface MethodSpec<TArgs = Record<string, unknown>, TResult = unknown> {
  description?: string;
  /** Who may call it through rpcd: the generated ACLs follow it. */
  access: MethodAccess;
  schema: ArgsSchema;
  handler(args: TArgs): TResult | Promise<TResult>;
}

export type MethodTable = Readonly<Record<string, MethodSpec<any, unknown>>>;

/**
 * Declares one method; the handler's argument type is inferred from the schema (given
 * first, so TypeScript reads the schema before it types the handler).
 *
 *   status: method({ access: 'read', schema: { type: 'object', properties: {} } }, () => ({ ok: true }))
 */
export function method<const S extends ArgsSchema, R>(
  spec: { description?: string; access?: MethodAccess; schema: S },
  handler: (args: ArgsOf<S>) => R | Promise<R>,
): MethodSpec<ArgsOf<S>, R> {
  const out: MethodSpec<ArgsOf<S>, R> = { access: spec.access ?? 'write', schema: spec.schema, handler };
  if (spec.description !== undefined) out.description = spec.description;
  return out;
}

export interface MethodObject {
  name: string;
  /** The plugin serving it, or undefined for the host's own object. */
  plugin: string | undefined;
  table: MethodTable;
}

export interface MethodDescription {
  object: string;
  plugin?: string;
  methods: Record<string, { access: MethodAccess; description?: string; schema: ArgsSchema }>;
}

/** Objects by name; the control socket (and later ubus) dispatch through it. */
export type RegistryChange = { type: 'added' | 'removed'; object: MethodObject };

export class MethodRegistry {
  private readonly objects = new Map<string, MethodObject>();
  private readonly watchers = new Set<(change: RegistryChange) => void>();

  constructor(private readonly isPluginAvailable: (plugin: string) => boolean = () => true) {}

  register(name: string, table: MethodTable, plugin?: string): void {
    if (!/^[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*$/.test(name)) {
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `object name "${name}" is not valid (letters, digits, _ - and dots)`, {
        ...(plugin ? { plugin } : {}),
      });
    }
    const existing = this.objects.get(name);
    if (existing && existing.plugin !== plugin) {
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `object ${name} is already served by ${existing.plugin ?? 'the host'}`, {
        ...(plugin ? { plugin } : {}),
      });
    }
    const object: MethodObject = { name, plugin, table };
    this.objects.set(name, object);
    this.emit({ type: 'added', object });
  }

  unregisterPlugin(plugin: string): void {
    for (const [name, object] of this.objects) {
      if (object.plugin !== plugin) continue;
      this.objects.delete(name);
      this.emit({ type: 'removed', object });
    }
  }

  /** Hears about objects coming and going (the ubus bridge mirrors them). */
  watch(watcher: (change: RegistryChange) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  list(): MethodObject[] {
    return [...this.objects.values()];
  }

  private emit(change: RegistryChange): void {
    for (const watcher of this.watchers) watcher(change);
  }

  get(name: string): MethodObject | undefined {
    return this.objects.get(name);
  }

  describe(): MethodDescription[] {
    return [...this.objects.values()].map((o) => {
      const methods: MethodDescription['methods'] = {};
      for (const [name, spec] of Object.entries(o.table)) {
        methods[name] = {
          access: spec.access,
          schema: spec.schema,
          ...(spec.description ? { description: spec.description } : {}),
        };
      }
      return { object: o.name, ...(o.plugin ? { plugin: o.plugin } : {}), methods };
    });
  }

  /** Validates and runs a call; every failure is a WrtkitError with a stable code. */
  async invoke(objectName: string, methodName: string, args: unknown): Promise<unknown> {
    const object = this.objects.get(objectName);
    if (!object)
      throw new WrtkitError(ErrorCodes.METHOD_NOT_FOUND, `no object ${objectName}`, { details: { object: objectName } });
    if (object.plugin !== undefined && !this.isPluginAvailable(object.plugin)) {
      throw new WrtkitError(ErrorCodes.PLUGIN_DISABLED, `plugin ${object.plugin} is not running`, { plugin: object.plugin });
    }
    return invokeMethod(object.table, objectName, methodName, args, object.plugin);
  }
}

/**
 * Runs one method of a table: unknown method, arguments that break the schema and a
 * handler that throws all become WrtkitErrors with stable codes (which the control socket
 * and ubus turn into their own error forms).
 */
export async function invokeMethod(
  table: MethodTable,
  objectName: string,
  methodName: string,
  args: unknown,
  plugin?: string,
): Promise<unknown> {
  const spec = Object.prototype.hasOwnProperty.call(table, methodName) ? table[methodName] : undefined;
  if (!spec) {
    throw new WrtkitError(ErrorCodes.METHOD_NOT_FOUND, `object ${objectName} has no method ${methodName}`, {
      details: { object: objectName, method: methodName, methods: Object.keys(table) },
    });
  }
  const input = args === undefined || args === null ? {} : args;
  const errors = validateArgs(spec.schema, input);
  if (errors.length > 0) {
    throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `${objectName}.${methodName}: ${formatArgsErrors(errors)}`, {
      ...(plugin ? { plugin } : {}),
      details: { errors },
    });
  }
  try {
    return await spec.handler(input as Record<string, unknown>);
  } catch (error) {
    if (error instanceof WrtkitError) throw error;
    throw new WrtkitError(ErrorCodes.METHOD_FAILED, `${objectName}.${methodName} failed: ${messageOf(error)}`, {
      ...(plugin ? { plugin } : {}),
      cause: error,
    });
  }
}
