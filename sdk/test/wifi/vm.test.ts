/**
 * The Wi-Fi lab VM foundation: build (or reuse) the image, boot Debian's stock kernel
 * under QEMU/TCG, load mac80211_hwsim with three radios, find the Wi-Fi daemons, copy files
 * in, shut down leaving no QEMU — and a boot that runs out of time fails naming the serial
 * log, also leaving nothing. Prints the time of every step.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  LabVm,
  VM_BOOT_TIMEOUT_MS,
  VM_BUILD_TIMEOUT_MS,
  VmBootError,
  type VmImage,
  ensureVmImage,
  vmSupported,
} from '../../src/lab/vm/index.js';

const support = vmSupported();
if (!support.ok) console.warn(`wifi lab VM tests skipped: ${support.reason}`);
const skipNote = support.ok ? '' : ` (skipped: ${support.reason})`;

const timings: Array<[step: string, ms: number]> = [];
const record = (step: string, ms: number) => {
  timings.push([step, ms]);
  console.log(`[wifi-vm timing] ${step}: ${ms} ms`);
};

/** QEMU processes running this image (scanning /proc, as pgrep would). */
function qemuProcesses(rootfs: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('qemu-system') && cmdline.includes(rootfs)) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

describe.skipIf(!support.ok)(`wifi lab VM${skipNote}`, () => {
  let image: VmImage;
  let vm: LabVm | undefined;
  let work = '';

  beforeAll(
    async () => {
      work = mkdtempSync(join(tmpdir(), 'wrtkit-vm-test-'));
      image = await ensureVmImage({ onLog: (line) => line.startsWith('[wifi-vm] image') && console.log(line) });
      record(image.cached ? 'image: cache hit' : 'image: build', image.ms);
      console.log(
        `[wifi-vm] image ${image.dir}: kernel ${image.manifest.kernelVersion}, ${Math.round(image.manifest.usedBytes / 2 ** 20)} MiB used, rootfs.img ${Math.round(image.manifest.imageBytes / 2 ** 20)} MiB (sparse)`,
      );
      vm = await LabVm.boot({ image });
      record('boot to ssh', vm.bootMs);
    },
    VM_BUILD_TIMEOUT_MS + VM_BOOT_TIMEOUT_MS + 30_000,
  );

  afterAll(async () => {
    await vm?.shutdown();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(
      `[wifi-vm timing] summary:\n${timings.map(([s, ms]) => `  ${s.padEnd(34)} ${String(ms).padStart(7)} ms`).join('\n')}`,
    );
  }, 30_000);

  /** Prints the serial console, dmesg and the guest files when the current test fails. */
  const logsOnFailure = (guestFiles: string[] = []) =>
    onTestFailed(async () => {
      if (vm) console.error(await vm.collectLogs({ guestFiles }));
    });

  const timedRun = async (label: string, command: string | string[], options: { input?: string } = {}) => {
    const result = await vm!.run(command, { timeoutMs: 30_000, ...options });
    record(`run: ${label}`, result.ms);
    return result;
  };

  it("runs Debian's stock kernel, QEMU on loopback user networking with restrict=on", async () => {
    logsOnFailure();
    const r = await timedRun('uname -r', ['uname', '-r']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(image.manifest.kernelVersion);
    expect(r.stdout.trim()).toMatch(/-amd64$/);
    const qemu = readFileSync(`/proc/${vm!.pid}/cmdline`, 'utf8').split('\0');
    const nic = qemu[qemu.indexOf('-nic') + 1];
    expect(nic).toContain('restrict=on');
    expect(nic).toContain(`hostfwd=tcp:127.0.0.1:${vm!.port}-:22`);
    expect(qemu).toContain('tcg,thread=multi');
    expect(qemu.find((a) => a.startsWith('file='))).toContain('snapshot=on');
  });

  it('mac80211_hwsim radios=3 gives three wlan interfaces', async () => {
    logsOnFailure();
    const load = await timedRun('modprobe mac80211_hwsim radios=3', ['modprobe', 'mac80211_hwsim', 'radios=3']);
    expect(load.stderr).toBe('');
    expect(load.exitCode).toBe(0);
    const iw = await timedRun('iw dev', ['iw', 'dev']);
    expect(iw.exitCode).toBe(0);
    const names = [...iw.stdout.matchAll(/Interface (\S+)/g)].map((m) => m[1]).sort();
    expect(names).toEqual(['wlan0', 'wlan1', 'wlan2']);
    const phys = await vm!.run('ls /sys/class/ieee80211');
    expect(phys.stdout.trim().split(/\s+/)).toHaveLength(3);
  });

  it('has the Wi-Fi daemons and tools', async () => {
    logsOnFailure();
    const script =
      'for p in hostapd hostapd_cli wpa_supplicant wpa_cli iw batctl nft ping tar; do command -v "$p" || echo "missing $p"; done\nhostapd -v 2>&1 | head -n1\nwpa_supplicant -v | head -n1\n';
    const r = await timedRun('command -v … (script on stdin)', ['sh', '-s'], { input: script });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain('missing');
    expect(r.stdout).toMatch(/hostapd v2\.\d+/);
    expect(r.stdout).toMatch(/wpa_supplicant v2\.\d+/);
  });

  it('run: exit codes, stderr, stdin, argv quoting, time limits, commands at once', async () => {
    logsOnFailure();
    const failing = await vm!.run('echo out; echo err >&2; exit 3');
    expect(failing).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    expect((await vm!.run(['printf', '%s|', 'a b', "it's", '$HOME', '*'])).stdout).toBe("a b|it's|$HOME|*|");
    expect((await vm!.run('wc -c', { input: Buffer.alloc(300_000, 'x') })).stdout.trim()).toBe('300000');
    const slow = await vm!.run(['sleep', '30'], { timeoutMs: 500 });
    expect(slow.timedOut).toBe(true);
    await expect(vm!.exec('false')).rejects.toThrow(/`false` exited with 1/);
    const started = Date.now();
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => vm!.run(['echo', String(i)])));
    record('12 commands at once', Date.now() - started);
    expect(many.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it('copies a directory (nested, modes, symlinks) and a single file in', async () => {
    logsOnFailure();
    const dir = join(work, 'tree');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    mkdirSync(join(dir, 'lib', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'bin', 'hello'), '#!/bin/sh\necho "hello from $(uname -n)"\n');
    chmodSync(join(dir, 'bin', 'hello'), 0o755);
    writeFileSync(join(dir, 'lib', 'deep', 'data.txt'), 'x'.repeat(100_000));
    symlinkSync('deep/data.txt', join(dir, 'lib', 'link.txt'));
    writeFileSync(join(dir, "name with 'quote' and space"), 'ok\n');
    const file = join(work, 'single.conf');
    writeFileSync(file, 'interface=wlan0\n');

    let started = Date.now();
    await vm!.copyIn(dir, '/opt/tree');
    record('copyIn dir (4 files, 100 kB)', Date.now() - started);
    started = Date.now();
    await vm!.copyIn(file, '/etc/wifi/ap0.conf');
    record('copyIn file', Date.now() - started);

    expect((await vm!.exec(['/opt/tree/bin/hello'])).trim()).toBe('hello from wrtkit-vm');
    expect(
      await vm!.exec('readlink /opt/tree/lib/link.txt; wc -c < /opt/tree/lib/link.txt; stat -c %U /opt/tree/bin/hello'),
    ).toBe('deep/data.txt\n100000\nroot\n');
    expect(await vm!.readFile("/opt/tree/name with 'quote' and space")).toBe('ok\n');
    expect(await vm!.readFile('/etc/wifi/ap0.conf')).toBe('interface=wlan0\n');
  });

  it('shuts down and leaves no QEMU process', async () => {
    const pid = vm!.pid;
    expect(pid).toBeGreaterThan(0);
    const started = Date.now();
    await vm!.shutdown();
    record('shutdown', Date.now() - started);
    expect(vm!.running).toBe(false);
    expect(qemuProcesses(image.rootfs)).toEqual([]);
    expect(readFileSync(vm!.serialLog, 'utf8')).toMatch(/reboot: Power down/);
    await vm!.shutdown(); // idempotent
  });

  it('a boot that runs out of time fails naming the serial log, and kills QEMU', async () => {
    const started = Date.now();
    const error = await LabVm.boot({ image, timeoutMs: 3_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    record('boot with a 3 s limit (fails)', Date.now() - started);
    expect(error).toBeInstanceOf(VmBootError);
    expect((error as VmBootError).message).toContain('timed out after 3 s');
    expect((error as VmBootError).message).toContain((error as VmBootError).serialLog);
    expect(qemuProcesses(image.rootfs)).toEqual([]);
  });
});
