// Teardown that happens whatever the test does: the lab's own destroy(), a process
// exit/SIGINT/SIGTERM/SIGHUP/IPC-disconnect safety net in the test process (a vitest
// worker whose main process died gets no signal, only the disconnect, and lives on), and
// a detached reaper per lab
// that cleans up when the test process dies without running any handler (SIGKILL, a
// crashed worker). Each lab is written down in a registry file (its namespaces with their
// nsfs inodes, its temp dirs) so the reaper and leftovers() know what to look for.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where lab registries live (tmpfs; root only). `WRTKIT_LAB_RUN_DIR` overrides. */
export const labRunDir = (): string => process.env.WRTKIT_LAB_RUN_DIR ?? '/run/wrtkit-lab';
/** Where `ip netns` keeps named namespaces. */
export const NETNS_DIR = '/run/netns';
/** Every generated lab prefix starts with this. */
export const DEFAULT_PREFIX = 'wkl';
/** Temp dirs are `<tmpdir>/wrtkit-lab-<prefix>-<label>-XXXXXX`. */
export const tempDirBase = (prefix: string): string => join(tmpdir(), `wrtkit-lab-${prefix}`);

export interface Registry {
  prefix: string;
  owner: number;
  createdAt: string;
  namespaces: Array<{ name: string; inode: number }>;
  dirs: string[];
}

/** The nsfs inode of a named namespace (what /proc/<pid>/ns/net points to). */
export function netnsInode(name: string): number | undefined {
  try {
    return statSync(join(NETNS_DIR, name)).ino;
  } catch {
    return undefined;
  }
}

/** pid → nsfs inode of its network namespace, for every process we can see. */
export function processNetns(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/ns/net`));
      if (m) out.set(Number(entry), Number(m[1]));
    } catch {
      // gone, a zombie, or a kernel thread
    }
  }
  return out;
}

/** Processes inside any of these namespaces (by inode). */
export function pidsIn(inodes: Iterable<number>): number[] {
  const wanted = new Set(inodes);
  if (wanted.size === 0) return [];
  return [...processNetns()].filter(([pid, ino]) => wanted.has(ino) && pid !== process.pid).map(([pid]) => pid);
}

export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The detached reaper: waits for its stdin to close (the test process is gone, however it
 * ended), then, if the lab's registry is still there, kills every process in the lab's
 * namespaces, deletes them and the temp dirs. Constant code; the registry path is argv.
 */
const REAPER = `
const fs = require('node:fs'), cp = require('node:child_process');
const file = process.argv[1];
process.stdin.resume();
process.stdin.on('error', () => {});
process.stdin.on('close', () => {
  let reg;
  try { reg = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { process.exit(0); }
  const inodes = new Set(reg.namespaces.map((n) => n.inode));
  for (let round = 0; round < 50; round++) {
    const pids = [];
    for (const e of fs.readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(e)) continue;
      try { const m = /^net:\\[(\\d+)\\]$/.exec(fs.readlinkSync('/proc/' + e + '/ns/net')); if (m && inodes.has(Number(m[1]))) pids.push(Number(e)); } catch {}
    }
    if (pids.length === 0) break;
    for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch {} }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  for (const n of reg.namespaces) { try { cp.execFileSync('ip', ['netns', 'del', n.name], { stdio: 'ignore' }); } catch {} }
  for (const d of reg.dirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} }
  try { fs.rmSync(file, { force: true }); } catch {}
  process.exit(0);
});
`;

/** Teardown bookkeeping of one lab. */
export class Janitor {
  readonly registryPath: string;
  private readonly registry: Registry;
  private reaper: ChildProcess | undefined;
  private done = false;

  constructor(readonly prefix: string) {
    this.registryPath = join(labRunDir(), `${prefix}.json`);
    this.registry = { prefix, owner: process.pid, createdAt: new Date().toISOString(), namespaces: [], dirs: [] };
  }

  /** Writes the registry and starts the reaper; call before creating anything. */
  start(): void {
    mkdirSync(labRunDir(), { recursive: true, mode: 0o700 });
    this.save();
    this.reaper = spawn(process.execPath, ['-e', REAPER, this.registryPath], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.reaper.on('error', () => {}); // the in-process safety net still works
    this.reaper.stdin?.on('error', () => {});
    this.reaper.unref();
    (this.reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    live.add(this);
    armSignals();
  }

  addNamespace(name: string): number {
    const inode = netnsInode(name);
    if (inode === undefined) throw new Error(`lab: namespace ${name} vanished right after \`ip netns add\``);
    this.registry.namespaces.push({ name, inode });
    this.save();
    return inode;
  }

  addDir(dir: string): void {
    this.registry.dirs.push(dir);
    this.save();
  }

  get inodes(): number[] {
    return this.registry.namespaces.map((n) => n.inode);
  }

  get namespaces(): string[] {
    return this.registry.namespaces.map((n) => n.name);
  }

  /** Kills, deletes, removes; safe to call again. */
  async teardown(): Promise<void> {
    if (this.done) return;
    for (let round = 0; round < 100; round++) {
      const pids = pidsIn(this.inodes);
      if (pids.length === 0) break;
      killAll(pids);
      await sleep(20);
    }
    await Promise.all(
      this.namespaces.map(
        (name) =>
          new Promise<void>((resolve) => {
            const child = spawn('ip', ['netns', 'del', name], { stdio: 'ignore' });
            child.on('error', () => resolve());
            child.on('close', () => resolve());
          }),
      ),
    );
    this.finish();
  }

  /** The same, synchronously: for process exit and signal handlers. */
  teardownSync(): void {
    if (this.done) return;
    for (let round = 0; round < 100; round++) {
      const pids = pidsIn(this.inodes);
      if (pids.length === 0) break;
      killAll(pids);
      sleepSync(20);
    }
    for (const name of this.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    this.finish();
  }

  private finish(): void {
    for (const dir of this.registry.dirs) rmSync(dir, { recursive: true, force: true });
    rmSync(this.registryPath, { force: true });
    this.done = true;
    this.reaper?.stdin?.destroy(); // the reaper sees the pipe close, finds no registry, exits
    live.delete(this);
    if (live.size === 0) disarmSignals();
  }

  private save(): void {
    const tmp = `${this.registryPath}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.registry));
    renameSync(tmp, this.registryPath);
  }
}

// ---- the in-process safety net ------------------------------------------------------

const live = new Set<Janitor>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let exitHooked = false;
let armed = false;

function teardownAllSync(): void {
  for (const janitor of [...live]) {
    try {
      janitor.teardownSync();
    } catch {
      // keep going: the reaper is still there
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  teardownAllSync();
  // Alone on this signal: behave as if we had never listened (the default is to die).
  if (process.listenerCount(signal) === 1) {
    disarmSignals();
    process.kill(process.pid, signal);
  }
}

function armSignals(): void {
  if (!exitHooked) {
    process.on('exit', teardownAllSync);
    exitHooked = true;
  }
  if (armed) return;
  for (const signal of SIGNALS) process.on(signal, onSignal);
  // A worker of a test runner (vitest's forks) whose parent died: the IPC channel closes.
  if (process.channel) process.on('disconnect', teardownAllSync);
  armed = true;
}

function disarmSignals(): void {
  if (!armed) return;
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  process.removeListener('disconnect', teardownAllSync);
  armed = false;
}

// ---- leftovers -----------------------------------------------------------------------

/** What a lab (or labs) left behind. All lists empty means clean. */
export interface Leftovers {
  /** Named namespaces starting with the prefix. */
  namespaces: string[];
  /** Processes inside those namespaces, or inside a recorded lab namespace no longer named. */
  processes: Array<{ pid: number; netns: string; command: string }>;
  /** Lab temp dirs (`<tmpdir>/wrtkit-lab-<prefix>…`) still there. */
  dirs: string[];
  /** Registry files of labs not destroyed (yet). */
  registries: string[];
}

function readRegistries(prefix: string): Array<{ path: string; registry: Registry | undefined }> {
  let files: string[] = [];
  try {
    files = readdirSync(labRunDir()).filter((f) => f.startsWith(prefix) && f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.map((f) => {
    const path = join(labRunDir(), f);
    try {
      return { path, registry: JSON.parse(readFileSync(path, 'utf8')) as Registry };
    } catch {
      return { path, registry: undefined };
    }
  });
}

/**
 * Lists what labs whose prefix starts with `prefix` (default: every lab, `wkl`) left
 * behind: namespaces, processes in them, temp dirs, registries. Labs still running count
 * too, so call it after `destroy()` with the lab's own `prefix`, or at the end of a run.
 */
export function leftovers(prefix: string = DEFAULT_PREFIX): Leftovers {
  let namespaces: string[] = [];
  try {
    namespaces = readdirSync(NETNS_DIR)
      .filter((n) => n.startsWith(prefix))
      .sort();
  } catch {
    // no named namespaces at all
  }
  const byInode = new Map<number, string>();
  const registries = readRegistries(prefix);
  for (const { registry } of registries) {
    for (const ns of registry?.namespaces ?? []) byInode.set(ns.inode, `${ns.name} (deleted)`);
  }
  for (const name of namespaces) {
    const inode = netnsInode(name);
    if (inode !== undefined) byInode.set(inode, name);
  }
  const processes = [...processNetns()]
    .filter(([pid, ino]) => byInode.has(ino) && pid !== process.pid)
    .map(([pid, ino]) => ({ pid, netns: byInode.get(ino) as string, command: commandOf(pid) }));
  const base = `wrtkit-lab-${prefix}`;
  const dirs = new Set<string>();
  try {
    for (const d of readdirSync(tmpdir())) if (d.startsWith(base)) dirs.add(join(tmpdir(), d));
  } catch {
    // no tmpdir?
  }
  for (const { registry } of registries) for (const d of registry?.dirs ?? []) if (existsSync(d)) dirs.add(d);
  return { namespaces, processes, dirs: [...dirs].sort(), registries: registries.map((r) => r.path).sort() };
}
