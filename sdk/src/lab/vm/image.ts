// The Wi-Fi lab VM image: a Debian bookworm root file system made by mmdebstrap (stock
// kernel, which has mac80211_hwsim), a small initramfs and an ext4 image made with
// `mkfs.ext4 -d` (no loop mount). Built once per recipe and cached: the cache key is a
// hash of the package list and everything the build does (arguments, hook scripts, init).
import { createHash, randomBytes } from 'node:crypto';
import {
  type WriteStream,
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { defaultVmCacheDir, processAlive, removeBuildDir, runStep, shellQuote, sleep } from './util.js';

/** What the guest gets (and their hard dependencies; no Recommends). */
export const VM_PACKAGES: readonly string[] = [
  'linux-image-amd64',
  'initramfs-tools',
  'kmod',
  'udev',
  'mount',
  'iproute2',
  'iw',
  'hostapd',
  'wpasupplicant',
  'batctl',
  'nftables',
  'openssh-server',
  'tini',
  'iputils-ping',
];

export const VM_SUITE = 'bookworm';

/** Loaded by the initramfs (MODULES=list): enough to mount the virtio root disk. */
export const VM_INITRAMFS_MODULES: readonly string[] = ['virtio_pci', 'virtio_blk', 'virtio_net', 'ext4'];

/** The guest's address on QEMU's user network (slirp's defaults). */
export const VM_GUEST_ADDRESS = '10.0.2.15';

/** Printed on the serial console by the init once sshd runs. */
export const VM_READY_MARKER = 'wrtkit-vm: ready';

/** Default time limit of an image build. */
export const VM_BUILD_TIMEOUT_MS = 6 * 60_000;

/** Bumped when the recipe changes in a way the hash would not see. */
const RECIPE_VERSION = 1;

/** Files dpkg does not unpack: docs, man pages, locales, module folders the lab never loads. */
const DPKG_EXCLUDES: readonly string[] = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/bash-completion/*',
  ...[
    'drivers/gpu',
    'drivers/media',
    'drivers/infiniband',
    'drivers/staging',
    'drivers/net/ethernet',
    'drivers/net/wireless',
    'drivers/net/can',
    'drivers/scsi',
    'drivers/usb',
    'drivers/bluetooth',
    'drivers/isdn',
    'drivers/iio',
    'drivers/mtd',
    'drivers/hwmon',
    'drivers/input',
    'drivers/video',
    'drivers/mmc',
    'drivers/nfc',
    'drivers/thunderbolt',
    'sound',
    'fs/btrfs',
    'fs/xfs',
    'fs/ocfs2',
    'fs/gfs2',
    'fs/nfs',
    'fs/nfsd',
    'fs/smb',
    'fs/ceph',
    'fs/f2fs',
    'fs/bcachefs',
    'net/bluetooth',
  ].flatMap((dir) => [`path-exclude=/lib/modules/*/kernel/${dir}/*`, `path-exclude=/usr/lib/modules/*/kernel/${dir}/*`]),
  // ...but mac80211_hwsim (drivers/net/wireless/mac80211_hwsim.ko on 6.1, virtual/ later)
  ...['/lib', '/usr/lib'].flatMap((lib) => [
    `path-include=${lib}/modules/*/kernel/drivers/net/wireless/mac80211_hwsim.ko*`,
    `path-include=${lib}/modules/*/kernel/drivers/net/wireless/virtual/*`,
  ]),
];

/** The guest's init (init= on the kernel command line). */
const INIT_SCRIPT = `#!/bin/sh
# PID 1 of the wrtkit Wi-Fi lab VM. Starts itself again under tini, which stays PID 1
# and reaps orphans; stage 2 mounts the pseudo file systems, sets up QEMU's user network
# statically, starts sshd and says so on the console.
if [ "$$" = 1 ] && [ "\${1:-}" != stage2 ]; then
  exec /usr/bin/tini -- /sbin/wrtkit-vm-init stage2
fi
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "wrtkit-vm: $*"; }
fs() { # type target [options]
  mountpoint -q "$2" && return 0
  mkdir -p "$2"
  mount -t "$1" \${3:+-o "$3"} "$1" "$2" || say "cannot mount $1 on $2"
}
say "init starting"
fs proc /proc
fs sysfs /sys
fs devtmpfs /dev
fs devpts /dev/pts gid=5,mode=620,ptmxmode=666
fs tmpfs /dev/shm mode=1777
fs tmpfs /run mode=0755
fs tmpfs /tmp mode=1777
fs debugfs /sys/kernel/debug
mount -o remount,rw / 2>/dev/null
hostname wrtkit-vm
ip link set lo up
[ -e /sys/class/net/eth0 ] || modprobe virtio_net
ip link set eth0 up
ip addr add ${VM_GUEST_ADDRESS}/24 dev eth0
ip route add default via 10.0.2.2
mkdir -p /run/sshd /var/log
/usr/sbin/sshd -E /var/log/sshd.log || say "sshd failed to start"
say "ready"
exec sleep infinity
`;

const SSHD_CONFIG = `# wrtkit Wi-Fi lab VM: key-only root login, no lookups
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
PrintLastLog no
# every command is a session on one multiplexed connection; tests run several at once
MaxSessions 100
MaxStartups 100
`;

/** Before the packages are installed: the initramfs config has to be there when the kernel's postinst builds it. */
const ESSENTIAL_HOOK = `set -eu
root="$1"
mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/usr/share/initramfs-tools/modules.d"
printf 'MODULES=list\\nCOMPRESS=gzip\\n' >"$root/etc/initramfs-tools/conf.d/wrtkit-vm"
printf '%s\\n' ${VM_INITRAMFS_MODULES.join(' ')} >"$root/usr/share/initramfs-tools/modules.d/wrtkit-vm"
`;

/** After the packages: init, root's ssh key, sshd config, names. */
const CUSTOMIZE_HOOK = `set -eu
root="$1"
here="$(dirname "$0")"
install -m 0755 "$here/init" "$root/sbin/wrtkit-vm-init"
install -d -m 0700 "$root/root/.ssh"
install -m 0600 "$here/authorized_keys" "$root/root/.ssh/authorized_keys"
install -m 0644 "$here/sshd.conf" "$root/etc/ssh/sshd_config.d/wrtkit-vm.conf"
echo wrtkit-vm >"$root/etc/hostname"
printf '127.0.0.1 localhost\\n127.0.1.1 wrtkit-vm\\n::1 localhost\\n' >"$root/etc/hosts"
: >"$root/etc/fstab"
rm -f "$root/etc/machine-id"
`;

export interface VmImageOptions {
  /** Default: `$WRTKIT_VM_CACHE_DIR`, else `.cache/wifi-vm` in the monorepo. */
  cacheDir?: string;
  /** Default VM_PACKAGES. */
  packages?: readonly string[];
  /**
   * mmdebstrap MIRROR arguments. Default: `$WRTKIT_VM_MIRROR` (one argument), else the
   * host's own apt sources files that name the suite (see hostAptSources()).
   */
  mirrors?: readonly string[];
  /** Time limit of a build (default 6 min); also how long to wait for another process's build. */
  timeoutMs?: number;
  /** Build output lines as they come (mmdebstrap, mkfs). */
  onLog?: (line: string) => void;
}

export interface VmImageManifest {
  key: string;
  suite: string;
  packages: string[];
  kernelVersion: string;
  builtAt: string;
  buildMs: number;
  /** Apparent size of rootfs.img (sparse). */
  imageBytes: number;
  /** Bytes of the root tree that went into it. */
  usedBytes: number;
  mirrors: string[];
}

export interface VmImage {
  key: string;
  dir: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  /** Private key of the ssh key pair made for this image (root's authorized key inside). */
  sshKey: string;
  manifest: VmImageManifest;
  /** True when the image came from the cache. */
  cached: boolean;
  /** Time this call took (a cache hit is a few ms). */
  ms: number;
}

/** The host's apt sources files (deb822 or one-line) that mention `suite`. */
export function hostAptSources(suite = VM_SUITE): string[] {
  const candidates = ['/etc/apt/sources.list'];
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d').sort()) {
      if (f.endsWith('.list') || f.endsWith('.sources')) candidates.push(join('/etc/apt/sources.list.d', f));
    }
  } catch {
    // no sources.list.d
  }
  return candidates.filter((file) => {
    try {
      return readFileSync(file, 'utf8')
        .split('\n')
        .some((line) => !line.trimStart().startsWith('#') && new RegExp(`\\b${suite}\\b`).test(line));
    } catch {
      return false;
    }
  });
}

function resolveMirrors(options: VmImageOptions): string[] {
  if (options.mirrors) return [...options.mirrors];
  if (process.env.WRTKIT_VM_MIRROR) return [process.env.WRTKIT_VM_MIRROR];
  return hostAptSources();
}

function recipeFiles(publicKey: string): Record<string, string> {
  return {
    init: INIT_SCRIPT,
    'sshd.conf': SSHD_CONFIG,
    'essential.sh': ESSENTIAL_HOOK,
    'customize.sh': CUSTOMIZE_HOOK,
    authorized_keys: publicKey,
  };
}

function mmdebstrapArgv(packages: readonly string[], recipeDir: string, rootfs: string, mirrors: readonly string[]): string[] {
  return [
    'mmdebstrap',
    '--mode=root',
    '--variant=apt',
    '--format=directory',
    `--include=${packages.join(',')}`,
    '--aptopt=Acquire::Check-Valid-Until "false"',
    '--aptopt=Acquire::Languages "none"',
    ...DPKG_EXCLUDES.map((o) => `--dpkgopt=${o}`),
    `--essential-hook=sh ${shellQuote(join(recipeDir, 'essential.sh'))} "$1"`,
    `--customize-hook=sh ${shellQuote(join(recipeDir, 'customize.sh'))} "$1"`,
    VM_SUITE,
    rootfs,
    ...mirrors,
  ];
}

/** The cache key of an image built with these options (16 hex digits). */
export function vmImageKey(options: VmImageOptions = {}): string {
  const packages = [...(options.packages ?? VM_PACKAGES)].sort();
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      RECIPE_VERSION,
      suite: VM_SUITE,
      packages,
      files: recipeFiles('<key>'),
      argv: mmdebstrapArgv(packages, '<recipe>', '<rootfs>', []),
      modules: VM_INITRAMFS_MODULES,
    }),
  );
  return hash.digest('hex').slice(0, 16);
}

function loadImage(dir: string, key: string, cached: boolean, started: number): VmImage | undefined {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return undefined;
  const image: VmImage = {
    key,
    dir,
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    rootfs: join(dir, 'rootfs.img'),
    sshKey: join(dir, 'id_ed25519'),
    manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as VmImageManifest,
    cached,
    ms: Date.now() - started,
  };
  return [image.kernel, image.initrd, image.rootfs, image.sshKey].every((f) => existsSync(f)) ? image : undefined;
}

/** Error of a failed or timed-out image build; the build log stays at `log`. */
export class VmImageError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
    this.name = 'VmImageError';
  }
}

/**
 * Returns the cached image for these options, or builds it (at most `timeoutMs`, default
 * 6 min). Builds go into a temp dir next to the cache entry and are renamed into place; a
 * lock file makes a second process wait for the first one's build instead of building too.
 * Images of other recipes unused for 10 minutes are removed after a successful build.
 */
export async function ensureVmImage(options: VmImageOptions = {}): Promise<VmImage> {
  const started = Date.now();
  const cacheDir = options.cacheDir ?? defaultVmCacheDir();
  const key = vmImageKey(options);
  const dir = join(cacheDir, key);
  const timeoutMs = options.timeoutMs ?? VM_BUILD_TIMEOUT_MS;
  const deadline = started + timeoutMs;
  mkdirSync(cacheDir, { recursive: true });

  for (;;) {
    const hit = loadImage(dir, key, true, started);
    if (hit) {
      touch(dir);
      return hit;
    }
    const lock = join(cacheDir, `${key}.lock`);
    if (takeLock(lock)) {
      try {
        // someone may have finished between our check and the lock
        const raced = loadImage(dir, key, true, started);
        if (raced) return raced;
        await buildInto(cacheDir, dir, key, options, deadline, started);
        const built = loadImage(dir, key, false, started);
        if (!built) throw new VmImageError(`image build finished but ${dir} is incomplete`, join(cacheDir, 'last-build.log'));
        pruneOthers(cacheDir, key);
        return built;
      } finally {
        rmSync(lock, { force: true });
      }
    }
    if (Date.now() > deadline) {
      throw new VmImageError(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for another process's build of ${dir} (lock ${lock})`,
        join(cacheDir, 'last-build.log'),
      );
    }
    await sleep(1000);
  }
}

/** Creates the lock file; a lock whose process is gone is taken over. */
function takeLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSafe(lock).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) return false;
      try {
        unlinkSync(lock);
      } catch {
        // someone else took it over
      }
    }
  }
  return false;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function buildInto(
  cacheDir: string,
  dir: string,
  key: string,
  options: VmImageOptions,
  deadline: number,
  started: number,
): Promise<void> {
  const packages = [...(options.packages ?? VM_PACKAGES)].sort();
  const mirrors = resolveMirrors(options);
  const tmp = join(cacheDir, `.build-${key}-${process.pid}-${randomBytes(3).toString('hex')}`);
  const logPath = join(cacheDir, 'last-build.log');
  const recipe = join(tmp, 'recipe');
  const rootfs = join(tmp, 'rootfs');
  mkdirSync(recipe, { recursive: true });
  const log: WriteStream = createWriteStream(logPath);
  const say = (line: string) => {
    if (!log.writableEnded) log.write(`${line}\n`);
    options.onLog?.(line);
  };
  let partial = '';
  const onOutput = (chunk: string) => {
    if (!log.writableEnded) log.write(chunk);
    if (!options.onLog) return;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onLog(line);
  };
  const step = async (what: string, argv: string[], nice = true) => {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no time left for ${what}`);
    say(`[wifi-vm] ${what}: ${argv.map(shellQuote).join(' ')}`);
    const result = await runStep(nice ? ['nice', '-n', '10', ...argv] : argv, { timeoutMs: left, onOutput });
    say(`[wifi-vm] ${what}: ${result.timedOut ? 'timed out' : `exit ${result.exitCode ?? result.signal}`} after ${result.ms} ms`);
    if (result.timedOut) {
      throw new Error(`${what} did not finish within the build's time limit (${Math.round((deadline - started) / 1000)} s)`);
    }
    if (result.exitCode !== 0) throw new Error(`${what} failed (exit ${result.exitCode ?? result.signal})`);
    return result;
  };

  try {
    say(
      `[wifi-vm] building image ${key} in ${tmp} (packages: ${packages.join(' ')}; mirrors: ${mirrors.join(' ') || 'mmdebstrap default'})`,
    );
    await step(
      'ssh key',
      ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `wrtkit-vm-${key}`, '-f', join(tmp, 'id_ed25519')],
      false,
    );
    const publicKey = readFileSync(join(tmp, 'id_ed25519.pub'), 'utf8');
    for (const [name, text] of Object.entries(recipeFiles(publicKey))) writeFileSync(join(recipe, name), text);

    await step('mmdebstrap', mmdebstrapArgv(packages, recipe, rootfs, mirrors));

    const boot = join(rootfs, 'boot');
    const vmlinuz = readdirSync(boot).find((f) => /^vmlinuz-/.test(f));
    const kernelVersion = vmlinuz?.replace(/^vmlinuz-/, '');
    if (!kernelVersion || !existsSync(join(boot, `initrd.img-${kernelVersion}`))) {
      throw new Error(`no kernel and initramfs in ${boot}: ${readdirSync(boot).join(' ')}`);
    }
    renameSync(join(boot, `vmlinuz-${kernelVersion}`), join(tmp, 'vmlinuz'));
    renameSync(join(boot, `initrd.img-${kernelVersion}`), join(tmp, 'initrd.img'));
    for (const f of readdirSync(boot)) rmSync(join(boot, f), { recursive: true, force: true });

    const du = await step('du', ['du', '-s', '-B1', '-x', rootfs], false);
    const usedBytes = Number(du.output.trim().split(/\s+/)[0]);
    if (!Number.isFinite(usedBytes) || usedBytes <= 0) throw new Error(`cannot size ${rootfs}: ${du.output}`);
    // Room for what tests copy in and write (the disk is a snapshot: nothing persists).
    const MiB = 1024 * 1024;
    const sizeMiB = Math.ceil((usedBytes * 1.25) / MiB) + 512;
    const image = join(tmp, 'rootfs.img');
    await step('mkfs.ext4', ['mkfs.ext4', '-q', '-F', '-L', 'wrtkit-vm', '-m', '0', '-d', rootfs, image, `${sizeMiB}M`]);
    await removeBuildDir(rootfs);

    const manifest: VmImageManifest = {
      key,
      suite: VM_SUITE,
      packages,
      kernelVersion,
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - started,
      imageBytes: statSync(image).size,
      usedBytes,
      mirrors,
    };
    writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    say(`[wifi-vm] image ${key} built in ${manifest.buildMs} ms (${Math.round(usedBytes / MiB)} MiB used, ${sizeMiB} MiB image)`);
    await new Promise<void>((resolve) => log.end(resolve));
    writeFileSync(join(tmp, 'build.log'), readFileSync(logPath));
    try {
      renameSync(tmp, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // another build got there first: use it
      await removeBuildDir(tmp);
    }
  } catch (error) {
    say(`[wifi-vm] build failed: ${(error as Error).message}`);
    if (!log.writableEnded) await new Promise<void>((resolve) => log.end(resolve));
    await removeBuildDir(tmp).catch(() => undefined);
    const tail = readFileSafe(logPath).split('\n').slice(-30).join('\n');
    throw new VmImageError(`wifi-vm image build failed: ${(error as Error).message}\nbuild log: ${logPath}\n${tail}`, logPath);
  }
}

/** Marks an image as used (pruning spares images used lately). */
function touch(dir: string): void {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
  } catch {
    // read-only cache: fine
  }
}

/** An image of another recipe not used for this long is removed after a build. */
const PRUNE_UNUSED_MS = 10 * 60_000;

/**
 * Removes images of other recipes nobody used for 10 minutes (a different package list in
 * a concurrent run keeps its image), and build dirs whose builder is gone.
 */
function pruneOthers(cacheDir: string, key: string): void {
  for (const entry of readdirSync(cacheDir)) {
    const path = join(cacheDir, entry);
    if (/^[0-9a-f]{16}$/.test(entry) && entry !== key) {
      try {
        if (Date.now() - statSync(path).mtimeMs > PRUNE_UNUSED_MS) rmSync(path, { recursive: true, force: true });
      } catch {
        // gone already
      }
      continue;
    }
    const build = /^\.build-[0-9a-f]{16}-(\d+)-/.exec(entry);
    if (build && !processAlive(Number(build[1]))) void removeBuildDir(path).catch(() => undefined);
  }
}
