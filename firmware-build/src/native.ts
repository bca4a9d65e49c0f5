/**
 * The native parts a firmware build compiles on the build host: the eBPF datapath of
 * the offload plugin, for both byte orders (the objects are architecture-independent
 * apart from that, so the PKGARCH all package carries both). The C programs (core/native,
 * native/offloadd) are target-specific: they go to the source feed for the OpenWrt SDK.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EbpfObject {
  /** File name, e.g. `offload.bpfel.o`. */
  name: string;
  file: string;
  endian: 'bpfel' | 'bpfeb';
}

/** Builds ebpf/<dir> with its Makefile into `buildDir` and returns its objects (both byte orders). */
export function buildEbpf(repoRoot: string, dir: string, buildDir: string): EbpfObject[] {
  try {
    execFileSync('make', ['-s', '-C', join(repoRoot, 'ebpf', dir), `BUILD_DIR=${buildDir}`, 'all'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw Object.assign(new Error(`eBPF ${dir}: make failed${stderr ? `:\n${stderr}` : ''} (needs clang, libbpf-dev)`), {
      code: 'WRTKIT_ERR_BUILD_NATIVE',
    });
  }
  return (['bpfel', 'bpfeb'] as const).flatMap((endian) => {
    const name = `${dir}.${endian}.o`;
    const file = join(buildDir, name);
    if (!existsSync(file))
      throw Object.assign(new Error(`eBPF ${dir}: ${name} was not built`), { code: 'WRTKIT_ERR_BUILD_NATIVE' });
    return [{ name, file, endian }];
  });
}

/** ELF checks of a BPF object: class, byte order (e_ident[EI_DATA]) and machine (EM_BPF = 247). */
export function describeElf(file: string): { bpf: boolean; endian: 'bpfel' | 'bpfeb' | 'unknown' } {
  const b = readFileSync(file);
  if (b.length < 20 || b.readUInt32BE(0) !== 0x7f454c46) return { bpf: false, endian: 'unknown' };
  const little = b[5] === 1;
  const machine = little ? b.readUInt16LE(18) : b.readUInt16BE(18);
  return { bpf: machine === 247, endian: little ? 'bpfel' : b[5] === 2 ? 'bpfeb' : 'unknown' };
}
