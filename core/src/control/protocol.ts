import type { SerializedError } from '../errors.js';

/**
 * The control socket speaks one JSON object per line in each direction. It is what the
 * CLI uses where there is no ubusd (development hosts, CI, the lab); the methods are the
 * same tables that are served on ubus.
 */
export interface ControlRequest {
  id: number | string;
  object: string;
  method: string;
  args?: Record<string, unknown>;
}

export type ControlResponse =
  { id: number | string | null; result: unknown } | { id: number | string | null; error: SerializedError };

/** A request line longer than this is refused (and the connection closed). */
export const MAX_LINE_BYTES = 1024 * 1024;
