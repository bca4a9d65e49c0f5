import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/engines.js';

/** Where `make -C core/native` puts the module on the build host. */
export const nativeModulePath = join(repoRoot, '.cache/native/wrtkit-native.so');

/**
 * Builds core/native against the trixie QuickJS headers (scripts/fetch-qjs.sh) and
 * returns the module's path. Test files may call it concurrently: the Makefile links
 * into a temporary file and renames it, so nobody loads a half-written library.
 */
export function buildNative(): string {
  if (!existsSync(join(repoRoot, '.cache/qjs/include/quickjs.h'))) {
    throw new Error('QuickJS headers missing: run `bash scripts/fetch-qjs.sh`');
  }
  execFileSync('make', ['-s', '-C', join(repoRoot, 'core/native')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return nativeModulePath;
}
