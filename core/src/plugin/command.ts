import type { UciReader } from '../config/uci-reader.js';
import type { Platform } from '../platform/platform.js';

/**
 * A command a plugin adds to the `wrtkit` CLI: `wrtkit voucher add …`, and on the router
 * `voucher add …` through a two-line launcher its package installs. It runs in the CLI's
 * process, not in the host: it reaches the running host through `call`, as `wrtkit call`
 * does, and reads UCI and files itself.
 */
export interface CommandDefinition {
  /** As in the manifest's `commands`: 1-32 characters, lower case, digits, `-` and `_`, a letter first. */
  name: string;
  /** One line for `wrtkit --help`. */
  summary: string;
  /** Shown by `wrtkit help <name>`, and after a WRTKIT_ERR_USAGE error the command throws. */
  usage: string;
  /** Resolves with the exit status (0 success, 1 failure, 2 usage error, 3 host not reachable). */
  run(ctx: CommandContext): Promise<number> | number;
}

export interface CommandContext {
  /** The arguments after the command name, untouched (`--help` included). */
  readonly argv: string[];
  readonly platform: Platform;
  /** Writes to stdout; a newline is added when the text has none. */
  out(text: string): void;
  /** Writes to stderr; a newline is added when the text has none. */
  err(text: string): void;
  /**
   * Calls a method of the running host or a plugin, over ubus or the control socket as
   * `wrtkit call` does. Rejects with WRTKIT_ERR_CONTROL_UNAVAILABLE when no host is
   * reachable, and with the host's own code (WRTKIT_ERR_INVALID_ARGUMENT, …) when the
   * call fails there.
   */
  call(object: string, method: string, args?: Record<string, unknown>): Promise<unknown>;
  /** The UCI config directory (`--config-dir`, default /etc/config). */
  readonly configDir: string;
  /** Committed UCI packages from configDir. */
  readonly uci: UciReader;
  /** `--json` was given before the command name: print JSON instead of tables. */
  readonly json: boolean;
}

/** Command names: what a user types, and a file name on the router (`/usr/bin/<name>`). */
export const COMMAND_NAME_PATTERN = '^[a-z][a-z0-9_-]{0,31}$';

export const COMMAND_BRAND = Symbol.for('wrtkit.command');

/** Declares a command; the result is the default export of the command's module. */
export function defineCommand(definition: CommandDefinition): CommandDefinition {
  return Object.freeze({ ...definition, [COMMAND_BRAND]: true });
}

export function isCommandDefinition(value: unknown): value is CommandDefinition {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as Record<symbol, unknown>)[COMMAND_BRAND] === true &&
    typeof (value as CommandDefinition).run === 'function'
  );
}
