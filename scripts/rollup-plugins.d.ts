// Types for scripts/rollup-plugins.js (plain ESM, imported by tests and benches).
import type { OutputOptions, Plugin } from 'rollup';

export const repoRoot: string;
export const aliases: Record<string, string>;
export function isExternal(id: string): boolean;
export const outputOptions: OutputOptions;
export function wrtkitPlugins(options?: { minify?: boolean; sourceMap?: boolean }): Plugin[];
export function bundle(
  input: string,
  outFile: string,
  options?: { minify?: boolean; sourceMap?: boolean },
): Promise<{ outFile: string; bytes: number; warnings: string[] }>;
