/**
 * # The Wi-Fi lab VM — Debian's stock kernel (mac80211_hwsim, batman-adv) under QEMU
 *
 * The host kernel of CI machines has no mac80211; a VM running Debian bookworm's own
 * kernel does. This module builds (and caches) the VM image, boots it with a time limit,
 * runs commands in it and copies files in over ssh, and always shuts it down. Node.js only
 * (test tooling); needs root, Linux x86_64 and the host packages in
 * scripts/apt-packages.txt (qemu-system-x86, mmdebstrap, openssh-client, …).
 *
 * ```ts
 * import { LabVm, ensureVmImage, vmSupported } from '@wrtkit/sdk/lab';
 *
 * const image = await ensureVmImage();          // cached in .cache/wifi-vm/<key>/
 * const vm = await LabVm.boot({ image });       // ≤ 90 s to a working ssh
 * try {
 *   await vm.exec('modprobe mac80211_hwsim radios=3');
 *   const r = await vm.run(['iw', 'dev']);      // { exitCode, stdout, stderr, timedOut, ms }
 *   await vm.run('sh -s', { input: 'hostapd -B /tmp/ap.conf\n' });
 *   await vm.copyIn('.cache/qjs/root', '/opt/qjs');   // directory contents, or one file
 * } catch (error) {
 *   console.error(await vm.collectLogs({ guestFiles: ['/tmp/hostapd.log'] }));
 *   throw error;
 * } finally {
 *   await vm.shutdown();                        // always; QEMU also dies with this process
 * }
 * ```
 *
 * ## Image (`ensureVmImage(options?)` → `VmImage`)
 *
 * `mmdebstrap --variant=apt` of bookworm with VM_PACKAGES (no Recommends), the host's own
 * apt sources files as mirrors (`$WRTKIT_VM_MIRROR` or `options.mirrors` override),
 * `Acquire::Check-Valid-Until "false"`, no docs/man/locales nor module folders the lab
 * never loads; an initramfs with `MODULES=list` (virtio, ext4); a small init as PID 1
 * (under tini): mounts, static 10.0.2.15/24 on eth0, sshd; `mkfs.ext4 -d` of the tree (no
 * loop mount). An ed25519 key pair made per build stays in the image dir (root's only
 * authorized key). Cache key: a hash of the package list and the whole recipe
 * (`vmImageKey()`); built in a temp dir and renamed into place, a lock file makes
 * concurrent callers wait for one build; images of other recipes unused for 10 min are pruned. Time limit 6 min
 * (`timeoutMs`); a failure throws VmImageError naming the build log
 * (`.cache/wifi-vm/last-build.log`). Cache dir: `$WRTKIT_VM_CACHE_DIR`, else
 * `.cache/wifi-vm` in the monorepo.
 *
 * ## VM (`LabVm.boot(options?)` → `LabVm`)
 *
 * `qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1024 -smp 2` (KVM hangs Debian's
 * kernel on these machines), the root disk with `snapshot=on` (nothing is written back),
 * `-nic user,restrict=on,hostfwd=tcp:127.0.0.1:<free port>-:22` (no way out of the VM;
 * the forward is on loopback only), the serial console in `<cache>/runs/<run>/serial.log`.
 * QEMU runs under `setpriv --pdeathsig KILL`, so it dies with the process that started it.
 * Boot waits for the init's ready line and a working ssh; on time-out (90 s default) or
 * an early QEMU exit, QEMU is killed and VmBootError quotes the end of the serial log.
 *
 * - `run(command | argv, { input?, timeoutMs?, check? })` → `{ exitCode, stdout, stderr,
 *   timedOut, ms }` (ssh as root; a string goes to the guest's shell, an argv is quoted);
 *   `exec(…)` → stdout or throws VmCommandError; `readFile(guestPath)`.
 * - `copyIn(localPath, guestPath)` — a file, or a directory's contents (tar over ssh,
 *   modes and symlinks kept, owned by root).
 * - `collectLogs({ guestFiles? })` — serial console tail, dmesg, guest files.
 * - `shutdown({ graceMs? })` — sysrq power-off, then SIGTERM/SIGKILL to QEMU; idempotent.
 * - `bootMs`, `port`, `pid`, `running`, `serialLog`, `qemuLog`, `logDir`, `image`,
 *   `sshArgv()` (ssh's argv up to the remote command, for your own ssh/scp calls).
 *
 * `vmSupported()` → `{ ok: true } | { ok: false, reason }`, synchronous for `describe.skipIf`.
 */
export {
  VM_BUILD_TIMEOUT_MS,
  VM_GUEST_ADDRESS,
  VM_INITRAMFS_MODULES,
  VM_PACKAGES,
  VM_READY_MARKER,
  VM_SUITE,
  type VmImage,
  VmImageError,
  type VmImageManifest,
  type VmImageOptions,
  ensureVmImage,
  hostAptSources,
  vmImageKey,
} from './image.js';
export { defaultVmCacheDir, type VmSupport, vmSupported } from './util.js';
export {
  LabVm,
  VM_BOOT_TIMEOUT_MS,
  VmBootError,
  type VmBootOptions,
  VmCommandError,
  type VmRunOptions,
  type VmRunResult,
  bootVm,
} from './vm.js';
