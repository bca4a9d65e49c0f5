/**
 * Images through the OpenWrt ImageBuilder: `make image PROFILE=… PACKAGES=… FILES=…
 * BIN_DIR=…` with the feed this build wrote added to the ImageBuilder's repositories. Before
 * an image is built its flash budget is checked: what the wrtkit packages add must fit in
 * the room the profile leaves, or the build refuses with the numbers (an image that does
 * not fit bricks nothing, but it wastes a builder's afternoon and a community's trust).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface FlashBudget {
  /** e.g. `ath79/generic tplink_archer-c7-v2` */
  what: string;
  /** The profile's flash for the firmware (its IMAGE_SIZE), KiB. */
  flashKib: number;
  /** What the firmware takes without the wrtkit packages, KiB. */
  baseKib: number;
  /** What the wrtkit packages add (compressed, as in the squashfs), KiB. */
  addKib: number;
}

export interface BudgetVerdict {
  fits: boolean;
  freeKib: number;
  message: string;
}

/** Does it fit? The message names the numbers either way. */
export function checkBudget(b: FlashBudget): BudgetVerdict {
  const freeKib = b.flashKib - b.baseKib;
  const fits = b.addKib <= freeKib;
  const numbers = `the wrtkit packages need ${b.addKib} KiB, ${freeKib} KiB are free (flash ${b.flashKib} KiB − firmware without them ${b.baseKib} KiB)`;
  return {
    fits,
    freeKib,
    message: fits ? `${b.what}: fits: ${numbers}` : `${b.what}: does not fit: ${numbers}; not building this image`,
  };
}

/**
 * The IMAGE_SIZE of a profile as the ImageBuilder knows it (`make info` does not say it;
 * the device definitions do, in `.profiles.mk` / `DEVICE_<profile>_IMAGE_SIZE := 15872k`).
 * undefined when the ImageBuilder does not tell.
 */
export function profileImageKib(imagebuilder: string, profile: string): number | undefined {
  const file = join(imagebuilder, '.profiles.mk');
  if (!existsSync(file)) return undefined;
  const escaped = profile.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const m = new RegExp(`^DEVICE_${escaped}_IMAGE_SIZE\\s*:?=\\s*(\\d+)([kKmM]?)\\s*$`, 'm').exec(readFileSync(file, 'utf8'));
  if (!m) return undefined;
  const n = Number(m[1]);
  return /m/i.test(m[2] ?? '') ? n * 1024 : /k/i.test(m[2] ?? '') ? n : Math.ceil(n / 1024);
}

export interface ImageRequest {
  imagebuilder: string;
  profile: string;
  packages: string[];
  /** A directory of files laid over the image's root (FILES=). */
  files?: string;
  binDir: string;
  /** The feed directory this build wrote (file:// repository for the ImageBuilder). */
  feedDir: string;
  feedName: string;
}

/**
 * Runs `make image` with the feed added to the ImageBuilder's repositories.conf for the
 * run (the file is put back as it was afterwards: the ImageBuilder is the builder's).
 * Returns make's exit status and the tail of its output for the error message.
 */
export function makeImage(req: ImageRequest): { status: number; tail: string } {
  const repos = join(req.imagebuilder, 'repositories.conf');
  const original = existsSync(repos) ? readFileSync(repos, 'utf8') : undefined;
  const line = `src ${req.feedName} file://${req.feedDir}`;
  // the ImageBuilder checks the feed's signature with the keys in its keys/ (opkg's way)
  const keys = existsSync(req.feedDir) ? readdirSync(req.feedDir).filter((f) => f.endsWith('.pub')) : [];
  const placed = keys
    .map((f) => ({ from: join(req.feedDir, f), to: join(req.imagebuilder, 'keys', f.replace(/\.pub$/, '')) }))
    .filter((k) => !existsSync(k.to));
  for (const k of placed) {
    mkdirSync(dirname(k.to), { recursive: true });
    writeFileSync(k.to, readFileSync(k.from));
  }
  if (original === undefined) writeFileSync(repos, `${line}\n`);
  else if (!original.split('\n').includes(line))
    appendFileSync(repos, `${original.endsWith('\n') || original === '' ? '' : '\n'}${line}\n`);
  try {
    mkdirSync(req.binDir, { recursive: true });
    const args = [
      '-C',
      req.imagebuilder,
      'image',
      `PROFILE=${req.profile}`,
      `PACKAGES=${req.packages.join(' ')}`,
      `BIN_DIR=${req.binDir}`,
    ];
    if (req.files) args.push(`FILES=${req.files}`);
    const r = spawnSync('make', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    return { status: r.status ?? 1, tail: text };
  } finally {
    for (const k of placed) rmSync(k.to, { force: true });
    if (original === undefined) rmSync(repos, { force: true });
    else writeFileSync(repos, original);
  }
}

/**
 * The size of the image a `make image` wrote into binDir, KiB: the sysupgrade image when
 * there is one (what is flashed over an installed OpenWrt), else the largest file.
 */
export function imageKib(binDir: string): number | undefined {
  if (!existsSync(binDir)) return undefined;
  const files = readdirSync(binDir)
    .filter((f) => /\.(bin|img|itb|gz|trx|chk)$/.test(f))
    .map((f) => ({ f, size: statSync(join(binDir, f)).size }));
  if (files.length === 0) return undefined;
  const sysupgrade = files.filter((x) => x.f.includes('sysupgrade'));
  const pick = (sysupgrade.length ? sysupgrade : files).reduce((a, b) => (b.size > a.size ? b : a));
  return Math.ceil(pick.size / 1024);
}

/** The target/subtarget an ImageBuilder builds for, from its .config (CONFIG_TARGET_BOARD / _SUBTARGET); undefined when it does not say. */
export function imageBuilderTarget(imagebuilder: string): string | undefined {
  const file = join(imagebuilder, '.config');
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const board = /^CONFIG_TARGET_BOARD="([^"]+)"/m.exec(text)?.[1];
  const sub = /^CONFIG_TARGET_SUBTARGET="([^"]+)"/m.exec(text)?.[1];
  return board && sub ? `${board}/${sub}` : undefined;
}
