// Starting an engine and timing it from the outside, as procd would see it: the clock
// starts right before spawn() and stops when the process says it is ready on stderr
// (or exits, for the empty module). Reading the marker through a pipe adds the same
// small delay to the host and to the baseline, so it cancels out of the ratios.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Resident set size in KiB from /proc (what `top` shows), or undefined once gone. */
export function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// An inherited NODE_OPTIONS (a test runner, a debugger) would change what node does at start.
const env = { ...process.env };
delete env.NODE_OPTIONS;

/**
 * Runs argv until a stderr line matches `ready`, reads its RSS at that moment, sends
 * SIGTERM and waits for the exit. Times in ms from just before spawn().
 */
export function runUntilReady(argv, ready, { timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env });
    const lines = [];
    let partial = '';
    const result = { readyMs: undefined, readyLine: undefined, rssKiB: undefined, stopMs: undefined };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')}: no ${ready} within ${timeoutMs} ms; stderr:\n${lines.join('\n')}`));
    }, timeoutMs);
    child.stderr.on('data', (chunk) => {
      const now = performance.now();
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (result.readyMs === undefined && ready.test(line)) {
          result.readyMs = now - t0;
          result.readyLine = line;
          result.rssKiB = rssKiB(child.pid);
          child.kill('SIGTERM');
        }
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result.readyMs === undefined) {
        reject(new Error(`${argv.join(' ')} exited (${code ?? signal}) before ${ready}; stderr:\n${lines.join('\n')}`));
        return;
      }
      result.stopMs = performance.now() - t0 - result.readyMs;
      resolve({ ...result, code, signal, lines });
    });
  });
}

/** Runs argv to its exit; ms from just before spawn(). */
export function runToExit(argv) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore', env });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited with ${code ?? signal}`));
      else resolve({ ms });
    });
  });
}
