/**
 * Taps run in stage order, never load order. The host's own taps sit outside the band
 * plugins may use, so "core first" and "core last" always hold.
 */
export const Stage = {
  CorePre: -100,
  Plugin: 0,
  CorePost: 100,
} as const;

/** Plugins may nudge their taps within this range around Stage.Plugin. */
export const PLUGIN_STAGE_LIMIT = 99;

export function isPluginStage(stage: number): boolean {
  return Number.isInteger(stage) && Math.abs(stage) <= PLUGIN_STAGE_LIMIT;
}
