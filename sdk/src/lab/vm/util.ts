// Small helpers shared by the VM image builder and the VM: running a step with a time
// limit in its own process group, shell quoting, mounts under a directory, free ports.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasProgram } from '../support.js';

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Escapes a value inside a QEMU `-drive`/`-chardev` option list (commas are doubled). */
export function qemuEscape(value: string): string {
  return value.replace(/,/g, ',,');
}

export interface StepResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Runs argv in its own process group (and dying with this process), stdout and stderr together, each chunk handed to
 * `onOutput`. At the deadline the whole group gets SIGTERM, then SIGKILL 5 s later (so
 * apt/dpkg children of mmdebstrap go too).
 */
export function runStep(
  argv: readonly string[],
  options: { timeoutMs: number; onOutput?: (chunk: string) => void; env?: Record<string, string> },
): Promise<StepResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    // PDEATHSIG: the step dies with this process (a killed mmdebstrap's mounts are
    // removed by removeBuildDir before its build dir is).
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, ...options.env },
    });
    let output = '';
    let timedOut = false;
    const onData = (chunk: string) => {
      output += chunk;
      if (output.length > 4_000_000) output = output.slice(-2_000_000);
      options.onOutput?.(chunk);
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let hard: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      hard = setTimeout(() => killGroup('SIGKILL'), 5_000);
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run \`${argv.join(' ')}\`: ${error.message}`));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      if (hard) {
        // the leader is gone; make sure its group is too
        killGroup('SIGKILL');
        clearTimeout(hard);
      }
      resolvePromise({ exitCode, signal, output, timedOut, ms: Date.now() - started });
    });
  });
}

/** Mount points at or below `dir` (deepest first), from /proc/self/mountinfo. */
export function mountsUnder(dir: string): string[] {
  const base = resolve(dir);
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(decode)
    .filter((p) => p === base || p.startsWith(`${base}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a build directory — but first unmounts whatever a killed mmdebstrap may have
 * left mounted inside it (proc, sys, a bind of /dev): `rm -r` across such a mount would
 * delete the host's files. Refuses (throws) when a mount cannot be removed.
 */
export async function removeBuildDir(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const mount of mountsUnder(dir)) {
    await runStep(['umount', '--recursive', '--lazy', mount], { timeoutMs: 30_000 });
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`not removing ${dir}: still mounted: ${left.join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

/** Whether a process exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The VM cache: `$WRTKIT_VM_CACHE_DIR`, else `.cache/wifi-vm` in the monorepo this file
 * belongs to (the directory whose package.json has `workspaces`), else in the current
 * directory.
 */
export function defaultVmCacheDir(): string {
  const fromEnv = process.env.WRTKIT_VM_CACHE_DIR;
  if (fromEnv) return resolve(fromEnv);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    try {
      if (existsSync(pkg) && 'workspaces' in (JSON.parse(readFileSync(pkg, 'utf8')) as object)) {
        return join(dir, '.cache', 'wifi-vm');
      }
    } catch {
      // unreadable package.json: keep looking
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return resolve('.cache', 'wifi-vm');
}

/** Programs the host needs (Debian package in the message). */
export const HOST_PROGRAMS: ReadonlyArray<[program: string, pkg: string]> = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['mmdebstrap', 'mmdebstrap'],
  ['mkfs.ext4', 'e2fsprogs'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['setpriv', 'util-linux'],
  ['tar', 'tar'],
];

export type VmSupport = { ok: true } | { ok: false; reason: string };

/**
 * Whether the Wi-Fi lab VM can be built and booted here: Linux x86_64, root (mmdebstrap's
 * root mode, mkfs of a root-owned tree) and the host programs (scripts/apt-packages.txt).
 * Synchronous, for `describe.skipIf`.
 */
export function vmSupported(): VmSupport {
  if (process.platform !== 'linux') return { ok: false, reason: 'the lab VM needs Linux' };
  if (process.arch !== 'x64') return { ok: false, reason: `the lab VM needs an x86_64 host (this is ${process.arch})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'the lab VM image build needs root' };
  const missing = HOST_PROGRAMS.filter(([program]) => !hasProgram(program));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    return {
      ok: false,
      reason: `the lab VM needs ${missing.map(([p]) => p).join(', ')} (Debian: apt-get install ${pkgs})`,
    };
  }
  return { ok: true };
}
