/**
 * The firmware builder's commands (firmware-build/bin/firmware.mjs, and `wrtkit build
 * <site file>` / `wrtkit keys` through the SDK's `wrtkit`): parse, run, and turn every
 * failure into a one-line message with its code and an exit status.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_USAGE, KEYS_USAGE, parseBuildArgs, parseKeysArgs, UsageError } from './args.js';
import { REPO_ROOT, runBuild } from './build.js';
import { newKeyPair } from './feed/usign.js';
import { type Output, processOutput } from './progress.js';

export async function main(argv: readonly string[], repoRoot = REPO_ROOT, output: Output = processOutput): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'build') {
      if (rest.includes('--help') || rest.includes('-h')) return say(output, BUILD_USAGE);
      return await runBuild(parseBuildArgs(rest), output, repoRoot);
    }
    if (command === 'keys') {
      const [sub, ...opts] = rest;
      if (sub !== 'new' || opts.includes('--help') || opts.includes('-h'))
        return say(output, KEYS_USAGE, sub === 'new' || sub === undefined ? 0 : 2);
      return keysNew(parseKeysArgs(opts), output);
    }
    return say(
      output,
      `${BUILD_USAGE}\n\n${KEYS_USAGE}`,
      command === '--help' || command === '-h' || command === undefined ? 0 : 2,
    );
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e instanceof UsageError) {
      output.err(`wrtkit ${command}: ${e.message} (--help)`);
      return 2;
    }
    output.err(`wrtkit ${command}: ${e.code ? `${e.code}: ` : ''}${e.message}`);
    // the stack is for whoever debugs the builder, not for every builder
    if (process.env.WRTKIT_DEBUG) output.err(e.stack ?? '');
    return 1;
  }
}

function say(output: Output, text: string, status = 0): number {
  (status === 0 ? output.out : output.err)(text);
  return status;
}

function keysNew(args: { out: string; comment?: string; force: boolean }, output: Output): number {
  const pair = newKeyPair(args.comment);
  const sec = join(args.out, `${pair.keyId}.sec`);
  const pub = join(args.out, `${pair.keyId}.pub`);
  if (!args.force && (existsSync(sec) || existsSync(pub))) {
    output.err(`wrtkit keys new: ${sec} exists (--force to overwrite)`);
    return 1;
  }
  mkdirSync(args.out, { recursive: true });
  writeFileSync(sec, pair.secretKeyFile, { mode: 0o600 });
  writeFileSync(pub, pair.publicKeyFile, { mode: 0o644 });
  output.out(
    `key ${pair.keyId}\n  secret: ${sec} (keep it off the feed server)\n  public: ${pub} (its second line goes into the site file's feed.keys)`,
  );
  return 0;
}
