import { AsyncParallelHook, defineHooks } from '@wrtkit/sdk';


/** One beat, as other plugins receive it. */
export interface Beat {
  /** Beats since the plugin was first installed (persists across restarts). */
  count: number;
  label: string;
  /** Wall-clock ms. */
  at: number;
}

/**
 * The hooks heartbeat offers. Other plugins import this module, declare `heartbeat` in
 * their dependencies and tap: `ctx.hooksOf(heartbeatHooks).beat.tap(b => ...)`.
 */
export const heartbeatHooks = defineHooks('heartbeat', () => ({
  beat: new AsyncParallelHook<[Beat]>(['beat']),
}));
