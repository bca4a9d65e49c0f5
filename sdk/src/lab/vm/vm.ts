// A booted Wi-Fi lab VM: QEMU (TCG — KVM hangs Debian's kernel on these machines) with
// the cached image's root disk as a snapshot, user networking with `restrict=on` and one
// host forward 127.0.0.1:<port> → guest:22, the serial console in a file. Commands go over
// ssh with the image's own key; the VM is always shut down (and QEMU dies with the process
// that started it).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { type VmImage, type VmImageOptions, VM_READY_MARKER, ensureVmImage } from './image.js';
import { freePort, qemuEscape, shellQuote, sleep } from './util.js';

/** Default time limit from starting QEMU to a working ssh login. */
export const VM_BOOT_TIMEOUT_MS = 90_000;

export interface VmBootOptions {
  /** An image from ensureVmImage(); default: ensureVmImage(imageOptions). */
  image?: VmImage;
  imageOptions?: VmImageOptions;
  /** QEMU start → ssh works (default 90 s). QEMU is killed when it passes. */
  timeoutMs?: number;
  /** Default 1024. */
  memoryMiB?: number;
  /** Default 2. */
  cpus?: number;
  /** Added to the kernel command line. */
  kernelArgs?: readonly string[];
  /** Where this boot's serial.log and qemu.log go (default `<cache>/runs/<time>-<pid>`; the last 10 runs are kept). */
  logDir?: string;
}

export interface VmRunOptions {
  /** Written to the remote command's stdin (a script for `sh -s`, a file's content…). */
  input?: string | Buffer;
  /** ssh is killed after this long (default 60 s); the result says `timedOut`. The command itself may go on in the guest (no tty, no hang-up): bound it there too (`timeout 10 …`) if that matters. */
  timeoutMs?: number;
  /** Throw a VmCommandError when the exit code is not 0. */
  check?: boolean;
}

export interface VmRunResult {
  /** The remote command's exit code (255 also when ssh itself failed), null when ssh was killed. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export class VmCommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: VmRunResult,
  ) {
    const how = result.timedOut ? `timed out after ${result.ms} ms` : `exited with ${result.exitCode}`;
    const output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-8).join('\n');
    super(`in the VM: \`${command}\` ${how}${output ? `: ${output}` : ''}`);
    this.name = 'VmCommandError';
  }
}

/** Boot failures and time-outs; the message names the serial log and quotes its end. */
export class VmBootError extends Error {
  constructor(
    message: string,
    readonly serialLog: string,
  ) {
    super(message);
    this.name = 'VmBootError';
  }
}

const live = new Set<LabVm>();
let exitHooked = false;

/** Last resort for a test process that exits with VMs still up (QEMU also has PDEATHSIG). */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const vm of live) vm.killNow();
  });
}

function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

function pruneRuns(runsDir: string, keep: number): void {
  try {
    const runs = readdirSync(runsDir)
      .map((name) => ({ name, mtime: statSync(join(runsDir, name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const run of runs.slice(keep)) rmSync(join(runsDir, run.name), { recursive: true, force: true });
  } catch {
    // nothing to prune
  }
}

/**
 * The Wi-Fi lab VM. `await LabVm.boot()` builds or reuses the image and returns once ssh
 * works; `run`, `copyIn`, `collectLogs`; `shutdown()` always (idempotent).
 */
export class LabVm {
  /** Milliseconds from QEMU's start to the first successful ssh command. */
  bootMs = 0;
  private qemu: ChildProcess | undefined;
  /** The ssh connection every command multiplexes over (a handshake under TCG takes ~1 s, a session ~0.1 s). */
  private master: ChildProcess | undefined;
  private readonly muxSocket: string;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(
    readonly image: VmImage,
    /** Host port forwarded to the guest's sshd (on 127.0.0.1). */
    readonly port: number,
    /** This boot's log directory: serial.log, qemu.log. */
    readonly logDir: string,
  ) {
    // short: a unix socket path has to fit 108 bytes
    this.muxSocket = join(tmpdir(), `wrtkit-vm-${process.pid}-${port}.mux`);
  }

  /** The guest's serial console (kernel, initramfs and init output). */
  get serialLog(): string {
    return join(this.logDir, 'serial.log');
  }

  /** QEMU's own stdout/stderr. */
  get qemuLog(): string {
    return join(this.logDir, 'qemu.log');
  }

  /** QEMU's pid (undefined once it exited). */
  get pid(): number | undefined {
    return this.running ? this.qemu?.pid : undefined;
  }

  get running(): boolean {
    return this.qemu !== undefined && this.qemu.exitCode === null && this.qemu.signalCode === null;
  }

  /** Builds (or takes from the cache) the image and boots it; see VmBootOptions. */
  static async boot(options: VmBootOptions = {}): Promise<LabVm> {
    const image = options.image ?? (await ensureVmImage(options.imageOptions));
    const timeoutMs = options.timeoutMs ?? VM_BOOT_TIMEOUT_MS;
    const runsDir = join(dirname(image.dir), 'runs');
    const logDir = resolve(options.logDir ?? join(runsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`));
    mkdirSync(logDir, { recursive: true });
    if (!options.logDir) pruneRuns(runsDir, 10);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const vm = new LabVm(image, await freePort(), logDir);
      try {
        await vm.start(options, started + timeoutMs, timeoutMs);
        vm.bootMs = Date.now() - started;
        return vm;
      } catch (error) {
        await vm.shutdown({ graceMs: 0 });
        // the port was taken between freePort() and QEMU binding it: try another
        const portLost =
          /host ?forward|hostfwd/i.test(tail(vm.qemuLog, 10)) && !/ready|Linux version/.test(tail(vm.serialLog, 400));
        if (!portLost || attempt >= 3 || Date.now() > started + timeoutMs) throw error;
      }
    }
  }

  private async start(options: VmBootOptions, deadline: number, timeoutMs: number): Promise<void> {
    const { image } = this;
    rmSync(this.serialLog, { force: true });
    const cmdline = [
      'console=ttyS0',
      'root=/dev/vda',
      'rootfstype=ext4',
      'rw',
      'init=/sbin/wrtkit-vm-init',
      'panic=-1',
      'fsck.mode=skip',
      'net.ifnames=0',
      ...(options.kernelArgs ?? []),
    ].join(' ');
    const argv = [
      // QEMU gets SIGKILL when the process that started it dies, however it dies.
      'setpriv',
      '--pdeathsig',
      'KILL',
      '--',
      'qemu-system-x86_64',
      '-name',
      'wrtkit-wifi-vm',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-accel',
      'tcg,thread=multi',
      '-cpu',
      'max',
      '-m',
      String(options.memoryMiB ?? 1024),
      '-smp',
      String(options.cpus ?? 2),
      '-kernel',
      image.kernel,
      '-initrd',
      image.initrd,
      '-append',
      cmdline,
      '-drive',
      `file=${qemuEscape(image.rootfs)},format=raw,if=virtio,snapshot=on`,
      '-nic',
      `user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:${this.port}-:22`,
      '-chardev',
      `file,id=serial0,path=${qemuEscape(this.serialLog)}`,
      '-serial',
      'chardev:serial0',
      '-no-reboot',
    ];
    const qemuLogFd = openSync(this.qemuLog, 'w');
    try {
      this.qemu = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', qemuLogFd, qemuLogFd] });
    } finally {
      closeSync(qemuLogFd);
    }
    const qemu = this.qemu;
    this.exited = new Promise((resolveExit) => {
      qemu.on('close', () => resolveExit());
      qemu.on('error', () => resolveExit());
    });
    live.add(this);
    hookExit();
    void this.exited.then(() => live.delete(this));

    const fail = (why: string) =>
      new VmBootError(
        `wifi-vm boot ${why}; serial log: ${this.serialLog}, qemu log: ${this.qemuLog}\n--- serial (end) ---\n${tail(this.serialLog)}\n--- qemu ---\n${tail(this.qemuLog, 10)}`,
        this.serialLog,
      );
    // 1. the init's marker on the serial console
    for (;;) {
      if (!this.running) throw fail(`failed: QEMU exited (${qemu.exitCode ?? qemu.signalCode})`);
      if (Date.now() > deadline) throw fail(`timed out after ${Math.round(timeoutMs / 1000)} s (no "${VM_READY_MARKER}")`);
      if (existsSync(this.serialLog) && readFileSync(this.serialLog, 'utf8').includes(VM_READY_MARKER)) break;
      await sleep(250);
    }
    // 2. ssh answers
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw fail(`timed out after ${Math.round(timeoutMs / 1000)} s (ssh to 127.0.0.1:${this.port} never worked)`);
      const probe = await this.run('true', { timeoutMs: Math.min(15_000, left) });
      if (probe.exitCode === 0) break;
      if (!this.running) throw fail(`failed: QEMU exited (${qemu.exitCode ?? qemu.signalCode})`);
      await sleep(300);
    }
    // 3. the shared connection (commands fall back to their own connection without it)
    await this.startMaster(Math.min(15_000, Math.max(0, deadline - Date.now())));
  }

  private async startMaster(waitMs: number): Promise<void> {
    rmSync(this.muxSocket, { force: true });
    const base = this.sshArgv();
    const fd = openSync(join(this.logDir, 'ssh-master.log'), 'w');
    try {
      this.master = spawn(
        'setpriv',
        [
          '--pdeathsig',
          'KILL',
          '--',
          ...base.slice(0, -1),
          '-M',
          '-N',
          '-o',
          `ControlPath=${this.muxSocket}`,
          '-o',
          'ControlPersist=no',
          base.at(-1) as string,
        ],
        { stdio: ['ignore', fd, fd] },
      );
    } finally {
      closeSync(fd);
    }
    this.master.on('error', () => undefined);
    const until = Date.now() + waitMs;
    while (!existsSync(this.muxSocket) && Date.now() < until && this.master.exitCode === null) await sleep(100);
  }

  private async stopMaster(): Promise<void> {
    const master = this.master;
    this.master = undefined;
    if (master && master.exitCode === null && master.signalCode === null) {
      const closed = new Promise((r) => master.on('close', r));
      master.kill('SIGTERM');
      await Promise.race([closed, sleep(2_000)]);
      master.kill('SIGKILL');
    }
    rmSync(this.muxSocket, { force: true });
  }

  /**
   * ssh's arguments up to (not including) the remote command; with the shared connection
   * once it is up (ssh falls back to a connection of its own when it is gone).
   */
  sshArgv(): string[] {
    const mux = this.master ? ['-o', `ControlPath=${this.muxSocket}`, '-o', 'ControlMaster=no'] : [];
    return [
      'ssh',
      '-F',
      '/dev/null',
      '-i',
      this.image.sshKey,
      '-p',
      String(this.port),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'LogLevel=ERROR',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'ServerAliveInterval=5',
      '-o',
      'ServerAliveCountMax=6',
      ...mux,
      'root@127.0.0.1',
    ];
  }

  /**
   * Runs a command in the guest as root over ssh: a string goes to the guest's shell as
   * is; an argv array is shell-quoted word by word. Never throws for a failing command
   * unless `check: true`.
   */
  run(command: string | readonly string[], options: VmRunOptions = {}): Promise<VmRunResult> {
    const remote = typeof command === 'string' ? command : command.map(shellQuote).join(' ');
    return this.ssh(remote, options, options.input);
  }

  /** Like run(…, { check: true }), returning stdout. */
  async exec(command: string | readonly string[], options: Omit<VmRunOptions, 'check'> = {}): Promise<string> {
    return (await this.run(command, { ...options, check: true })).stdout;
  }

  /** A guest file's content. */
  readFile(guestPath: string): Promise<string> {
    return this.exec(['cat', '--', guestPath]);
  }

  /**
   * Copies a host file or directory into the guest (tar over ssh; modes and symlinks kept,
   * owned by root). A directory's contents land in `guestPath` (created); a file becomes
   * `guestPath` (its directory created).
   */
  async copyIn(localPath: string, guestPath: string, options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const source = resolve(localPath);
    const isDir = statSync(source).isDirectory();
    const from = isDir ? source : dirname(source);
    const members = isDir ? ['.'] : [basename(source)];
    const target = isDir ? guestPath : dirname(guestPath);
    let remote = `mkdir -p ${shellQuote(target)} && tar -x -f - -C ${shellQuote(target)} --no-same-owner`;
    if (!isDir && basename(source) !== basename(guestPath)) {
      remote += ` && mv -f -- ${shellQuote(join(target, basename(source)))} ${shellQuote(guestPath)}`;
    }
    const tar = spawn('tar', ['-c', '-f', '-', '-C', from, '--owner=0', '--group=0', '--numeric-owner', '--', ...members], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tarErr = '';
    tar.stderr.setEncoding('utf8').on('data', (d: string) => (tarErr += d));
    const tarExit = new Promise<number | null>((r) => tar.on('close', (code) => r(code)));
    const result = await this.ssh(remote, { timeoutMs }, tar.stdout);
    if (result.timedOut) tar.kill('SIGKILL');
    const tarCode = await tarExit;
    if (tarCode !== 0) throw new Error(`copyIn ${localPath} → ${guestPath}: tar exited ${tarCode}: ${tarErr.trim()}`);
    if (result.exitCode !== 0) throw new VmCommandError(`copyIn ${localPath} → ${guestPath}: ${remote}`, result);
  }

  private ssh(remote: string, options: VmRunOptions, input: string | Buffer | Readable | undefined): Promise<VmRunResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const started = Date.now();
    return new Promise((resolvePromise, reject) => {
      const child = spawn('ssh', [...this.sshArgv().slice(1), '--', remote], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdin.on('error', () => undefined); // the remote side may not read it all
      if (input === undefined) child.stdin.end();
      else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
      else input.pipe(child.stdin);
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ssh: ${error.message}`));
      });
      let done = false;
      const finish = (exitCode: number | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const result: VmRunResult = { exitCode, stdout, stderr, timedOut, ms: Date.now() - started };
        if (options.check && exitCode !== 0) reject(new VmCommandError(remote, result));
        else resolvePromise(result);
      };
      child.on('close', finish);
      // A multiplexed session's output pipes are held by the master until the remote
      // command ends: after a time-out, do not wait for them.
      child.on('exit', (exitCode) => {
        if (!timedOut) return;
        child.stdout.destroy();
        child.stderr.destroy();
        finish(exitCode);
      });
    });
  }

  /**
   * What to print when something failed: the end of the serial console, and — while the
   * VM runs — the guest's kernel log and the given guest files (hostapd logs…).
   */
  async collectLogs(options: { guestFiles?: readonly string[]; serialLines?: number } = {}): Promise<string> {
    const parts = [
      `--- serial console ${this.serialLog} (last ${options.serialLines ?? 60} lines) ---`,
      tail(this.serialLog, options.serialLines ?? 60),
    ];
    if (this.running) {
      const dmesg = await this.run('dmesg | tail -n 60', { timeoutMs: 15_000 });
      parts.push('--- dmesg (last 60 lines) ---', dmesg.exitCode === 0 ? dmesg.stdout : `(ssh failed: ${dmesg.stderr.trim()})`);
      for (const file of options.guestFiles ?? []) {
        const r = await this.run(['tail', '-n', '200', '--', file], { timeoutMs: 15_000 });
        parts.push(`--- ${file} ---`, r.exitCode === 0 ? r.stdout : `(unavailable: ${r.stderr.trim()})`);
      }
    }
    return parts.join('\n');
  }

  /**
   * Stops the VM: a clean power-off through sysrq (the disk is a snapshot, nothing to
   * save), then SIGTERM and SIGKILL to QEMU if it is still there after `graceMs`
   * (default 5 s). Idempotent; resolves once QEMU is gone.
   */
  async shutdown(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = options.graceMs ?? 5_000;
    if (this.stopped && !this.running) return;
    this.stopped = true;
    if (this.running && graceMs > 0) {
      // ssh may hang up before it returns: the guest powers off under it
      await this.run('sync; echo o > /proc/sysrq-trigger', { timeoutMs: Math.min(graceMs, 5_000) }).catch(() => undefined);
      await Promise.race([this.exited, sleep(graceMs)]);
    }
    await this.stopMaster();
    if (this.running) {
      this.qemu?.kill('SIGTERM');
      await Promise.race([this.exited, sleep(3_000)]);
    }
    if (this.running) {
      this.qemu?.kill('SIGKILL');
      await this.exited;
    }
    live.delete(this);
  }

  /** Synchronous SIGKILL (process exit handlers). */
  killNow(): void {
    this.master?.kill('SIGKILL');
    rmSync(this.muxSocket, { force: true });
    if (this.running) this.qemu?.kill('SIGKILL');
  }
}

/** `LabVm.boot(options)`. */
export function bootVm(options: VmBootOptions = {}): Promise<LabVm> {
  return LabVm.boot(options);
}
