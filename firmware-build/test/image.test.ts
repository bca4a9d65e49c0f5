/**
 * Images and the flash budget with a stand-in ImageBuilder (a Makefile whose `make image`
 * writes a sysupgrade file as big as its packages make it, and a .profiles.mk with the
 * profiles' IMAGE_SIZE): a profile whose room the wrtkit packages do not fit is refused
 * with the numbers before its image is built, the others are built; the ImageBuilder's
 * repositories.conf is left as it was. (A real ImageBuilder is a download this machine
 * does not have.)
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildImages } from '../src/build.js';
import { checkBudget, imageKib, profileImageKib } from '../src/image.js';
import type { BuiltPackage } from '../src/model.js';
import { Progress } from '../src/progress.js';
import type { Site } from '../src/site/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'wrtkit-image-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** 3000 KiB of base firmware, 100 KiB per package whose name starts with wrtkit. */
function fakeImageBuilder(): string {
  const ib = join(tmp, 'ib');
  mkdirSync(ib, { recursive: true });
  writeFileSync(
    join(ib, 'Makefile'),
    [
      'image:',
      '\t@mkdir -p $(BIN_DIR)',
      '\t@n=0; for p in $(PACKAGES); do case $$p in wrtkit*) n=$$((n+1));; esac; done; \\',
      '\thead -c $$(( (3000 + n * 100) * 1024 )) /dev/zero > $(BIN_DIR)/openwrt-fake-$(PROFILE)-squashfs-sysupgrade.bin; \\',
      '\techo "$(PACKAGES)" > $(BIN_DIR)/packages.txt; grep -c wrtkit repositories.conf > $(BIN_DIR)/repos.txt || true',
      '',
    ].join('\n'),
  );
  writeFileSync(join(ib, '.profiles.mk'), 'DEVICE_roomy_IMAGE_SIZE := 16000k\nDEVICE_tight_IMAGE_SIZE := 3100k\n');
  writeFileSync(join(ib, 'repositories.conf'), 'src/gz openwrt_core https://downloads.openwrt.org/x\n');
  writeFileSync(join(ib, '.config'), 'CONFIG_TARGET_BOARD="x86"\nCONFIG_TARGET_SUBTARGET="64"\n');
  return ib;
}

const pkg = (name: string, kib: number) =>
  ({
    spec: { name },
    bytes: new Uint8Array(kib * 1024),
    filename: `${name}.ipk`,
    sha256: '',
    installedSize: 0,
  }) as unknown as BuiltPackage;

describe('flash budget', () => {
  it('checkBudget names the numbers either way', () => {
    expect(checkBudget({ what: 'x/y p', flashKib: 3100, baseKib: 3000, addKib: 200 })).toEqual({
      fits: false,
      freeKib: 100,
      message:
        'x/y p: does not fit: the wrtkit packages need 200 KiB, 100 KiB are free (flash 3100 KiB − firmware without them 3000 KiB); not building this image',
    });
    expect(checkBudget({ what: 'x/y p', flashKib: 3100, baseKib: 3000, addKib: 100 }).fits).toBe(true);
  });

  it('reads IMAGE_SIZE from the ImageBuilder (k, m, bytes); unknown profiles are undefined', () => {
    const ib = join(tmp, 'sizes');
    mkdirSync(ib, { recursive: true });
    writeFileSync(
      join(ib, '.profiles.mk'),
      'DEVICE_a_IMAGE_SIZE := 15872k\nDEVICE_b_IMAGE_SIZE := 32m\nDEVICE_c.d_IMAGE_SIZE = 1048576\n',
    );
    expect(profileImageKib(ib, 'a')).toBe(15872);
    expect(profileImageKib(ib, 'b')).toBe(32768);
    expect(profileImageKib(ib, 'c.d')).toBe(1024);
    expect(profileImageKib(ib, 'e')).toBeUndefined();
    expect(profileImageKib(tmp, 'a')).toBeUndefined();
  });

  it('refuses the profile that does not fit, with the numbers; builds the ones that do; repositories.conf as it was', async () => {
    const ib = fakeImageBuilder();
    const reposBefore = readFileSync(join(ib, 'repositories.conf'), 'utf8');
    const out = join(tmp, 'out');
    const lines: string[] = [];
    const progress = new Progress({ out: (t) => lines.push(t), err: (t) => lines.push(t) });
    const site = {
      release: '24.10.4',
      community: { name: 'x' },
      plugins: {},
      packages: ['luci-ssl'],
      targets: [
        { target: 'x86/64', profiles: ['roomy', 'tight', 'unsized'], flash_kib: { unsized: 99999 } },
        { target: 'ath79/generic', profiles: ['tplink_archer-c7-v5'] },
      ],
    } as unknown as Site;
    const ok = await buildImages(site, [pkg('wrtkit', 150), pkg('wrtkit-offload', 50)], ib, out, join(tmp, 'feed'), progress);
    expect(ok).toBe(false);
    const text = lines.join('\n');
    // tight: 3000 KiB without wrtkit, 3100 KiB of flash, 200 KiB of packages
    expect(text).toContain(
      'x86/64 tight: does not fit: the wrtkit packages need 200 KiB, 100 KiB are free (flash 3100 KiB − firmware without them 3000 KiB); not building this image',
    );
    expect(existsSync(join(out, 'images/x86/64/tight'))).toBe(false);
    // roomy fits and is built with the site's and the wrtkit packages, from our feed
    expect(text).toContain('x86/64 roomy: fits: the wrtkit packages need 200 KiB, 13000 KiB are free');
    expect(imageKib(join(out, 'images/x86/64/roomy'))).toBe(3200);
    expect(readFileSync(join(out, 'images/x86/64/roomy/packages.txt'), 'utf8').trim()).toBe('luci-ssl wrtkit wrtkit-offload');
    expect(readFileSync(join(out, 'images/x86/64/roomy/repos.txt'), 'utf8').trim()).toBe('1');
    // the site's flash_kib is used when the ImageBuilder does not know the profile
    expect(text).toContain('x86/64 unsized: fits: the wrtkit packages need 200 KiB, 96999 KiB are free');
    expect(readFileSync(join(ib, 'repositories.conf'), 'utf8')).toBe(reposBefore);
    // an ImageBuilder builds one target: the others are skipped, and said so
    expect(text).toContain('ath79/generic: skipped (this ImageBuilder is for x86/64');
    expect(existsSync(join(out, 'images/ath79'))).toBe(false);
  });
});
