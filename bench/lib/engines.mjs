// The two engines the bundle runs on, and how to start a file on each. Mirrors
// core/test/helpers/engines.ts (the tests' view of the same thing), without TypeScript,
// so that `node bench/run.mjs` needs no loader.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../scripts/rollup-plugins.js';

/** The real qjs (Debian trixie's 2025-04-26, fetched by scripts/fetch-qjs.sh); WRTKIT_QJS overrides. */
export function qjsPath() {
  return process.env.WRTKIT_QJS ?? path.join(repoRoot, '.cache/qjs/bin/qjs');
}

/** Engines present on this machine; qjs is skipped (with a note) when it was never fetched. */
export function availableEngines() {
  const engines = ['node'];
  if (existsSync(qjsPath())) engines.push('qjs');
  else console.warn(`qjs not found at ${qjsPath()}: qjs figures skipped (run \`bash scripts/fetch-qjs.sh\` or set WRTKIT_QJS)`);
  return engines;
}

/**
 * The command that starts qjs. scripts/fetch-qjs.sh installs a /bin/sh wrapper that execs
 * trixie's qjs through trixie's dynamic loader. We run that exec line ourselves: a
 * shell start (~1 ms) is not part of qjs's start on a router, and it would be a large
 * share of the bare-qjs baseline (a few ms). The pid is the same either way (exec).
 */
let qjsCommand;
function qjsArgv() {
  if (qjsCommand) return qjsCommand;
  const file = qjsPath();
  qjsCommand = [file];
  const text = readFileSync(file).subarray(0, 4096).toString('latin1');
  const line = text.startsWith('#!') ? /^exec (.+) "\$@"\s*$/m.exec(text) : null;
  if (line) {
    const tokens = [...line[1].matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
    if (tokens.length > 0 && tokens.every((t) => !t.includes('$')) && existsSync(tokens[0])) qjsCommand = tokens;
  }
  return qjsCommand;
}

/**
 * argv that runs `file` on `engine`. qjs gets --no-unhandled-rejection as on the router:
 * QuickJS 2025-04-26 treats a promise rejected before its handler is attached as
 * unhandled and exits.
 */
export function engineArgv(engine, file, args = []) {
  return engine === 'node' ? [process.execPath, file, ...args] : [...qjsArgv(), '--no-unhandled-rejection', file, ...args];
}
