// The inputs of the contents and source-feed tests, built once per test file: the bundles
// (scripts/build.mjs, not minified for speed) into a temporary directory, and the eBPF
// objects (make -C ebpf/offload, into the repository's .cache like every other user).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
export const ebpfDir = path.join(repoRoot, '.cache/ebpf/offload');

/** Every plugin of the repository, by manifest name. */
export const ALL_PLUGINS = ['beat-counter', 'dynapoint', 'heartbeat', 'offload', 'pirania-nftables'];

export interface Built {
  tmp: string;
  buildDir: string;
  cleanup(): void;
}

export function buildInputs(): Built {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-contents-'));
  const buildDir = path.join(tmp, 'build');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/build.mjs'), '--out', buildDir, '--no-minify', '--quiet'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync('make', ['-s', '-C', path.join(repoRoot, 'ebpf/offload')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { tmp, buildDir, cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

export const SITE = {
  slug: 'quintana-libre',
  uciDefaults: {
    path: '/etc/uci-defaults/90-wrtkit-site',
    script: "#!/bin/sh\nuci -q set wrtkit.main.log_level='debug'\nuci commit wrtkit\nexit 0\n",
  },
};

export const EPOCH = 1_763_776_000;
