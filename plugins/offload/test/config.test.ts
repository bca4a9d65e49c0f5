// /etc/config/offload: defaults, the installed file, bad values refused by UCI path; the
// OpenWrt recipe matches the manifest (version, DEPENDS, what it installs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JsonSchema, parseUci } from '@wrtkit/core';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/src/config/validate.js';
import type { Config } from '../src/generated/config.js';
import validator from '../src/generated/validate-config.js';

const dir = join(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8')) as JsonSchema;
const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
  version: string;
  wrtkit: { permissions: { exec: string[] }; openwrt: { depends: string[] } };
};

const load = (text: string) =>
  validateConfig<Config>('offload', parseUci(text, { name: 'offload', strict: false }).package, schema, validator, 'offload');

const DEFAULTS = {
  enabled: false,
  interfaces: [],
  mode: 'tc',
  ipv6: true,
  exclude_macs: [],
  exclude_cidrs: [],
  daemon: '/usr/sbin/offloadd',
  object: '/lib/bpf/offload.bpfel.o',
  pin_dir: '/sys/fs/bpf/wrtkit-offload',
  control_socket: '/var/run/offloadd.sock',
  heartbeat_ms: 1000,
};

describe('/etc/config/offload', () => {
  it('no file: every default (off)', () => {
    const r = validateConfig<Config>('offload', undefined, schema, validator);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.offload).toEqual(DEFAULTS);
  });

  it('the installed file loads: off, the defaults', () => {
    const r = load(readFileSync(join(dir, 'openwrt/files/etc/config/offload'), 'utf8'));
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (r.ok) expect(r.config.offload).toEqual({ '.name': 'main', ...DEFAULTS });
  });

  it('a full config', () => {
    const r = load(
      "config offload 'main'\n\toption enabled '1'\n\tlist interfaces 'lan1'\n\tlist interfaces 'wan'\n\toption mode 'auto'\n" +
        "\toption ipv6 '0'\n\tlist exclude_macs 'AA:BB:CC:DD:EE:FF'\n\tlist exclude_cidrs '192.168.1.5/32'\n\tlist exclude_cidrs 'fd00::/64'\n" +
        "\toption daemon 'offloadd'\n\toption object '/lib/bpf/offload.bpfeb.o'\n\toption heartbeat_ms '250'\n",
    );
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (r.ok)
      expect(r.config.offload).toMatchObject({
        enabled: true,
        interfaces: ['lan1', 'wan'],
        mode: 'auto',
        ipv6: false,
        exclude_macs: ['AA:BB:CC:DD:EE:FF'],
        exclude_cidrs: ['192.168.1.5/32', 'fd00::/64'],
        daemon: 'offloadd',
        object: '/lib/bpf/offload.bpfeb.o',
        heartbeat_ms: 250,
      });
  });

  it('bad values are refused with their UCI path', () => {
    const r = load(
      "config offload 'main'\n\toption enabled 'maybe'\n\toption mode 'fast'\n\tlist interfaces 'a very long interface name'\n" +
        "\tlist exclude_macs 'aa:bb'\n\tlist exclude_cidrs 'lan'\n\toption daemon '/bin/sh'\n\toption heartbeat_ms '5000'\n" +
        "\toption pin_dir 'relative'\n\toption bogus '1'\n",
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const paths = r.issues.map((i) => i.uciPath);
    for (const path of [
      'offload.main.enabled',
      'offload.main.mode',
      'offload.main.interfaces',
      'offload.main.exclude_macs',
      'offload.main.exclude_cidrs',
      'offload.main.daemon',
      'offload.main.heartbeat_ms',
      'offload.main.pin_dir',
      'offload.main.bogus',
    ])
      expect(
        paths.some((p) => p?.startsWith(path)),
        `${path} in ${JSON.stringify(paths)}`,
      ).toBe(true);
  });
});

describe('the OpenWrt recipe', () => {
  const makefile = readFileSync(join(dir, 'openwrt/Makefile'), 'utf8');

  it('matches the manifest: version, DEPENDS, the daemon it installs', () => {
    expect(makefile).toContain(`PKG_VERSION:=${manifest.version}`);
    const depends = /^\s+DEPENDS:=(.*)$/m.exec(makefile)?.[1]?.trim().split(/\s+/);
    expect(depends).toEqual(['+wrtkit', ...manifest.wrtkit.openwrt.depends]);
    expect(manifest.wrtkit.permissions.exec).toEqual(['offloadd']);
    expect(makefile).toContain('$(1)/usr/sbin/offloadd');
    expect(makefile).toMatch(/\$\(call CompileBPF,.*offload\.bpf\.c/);
    expect(makefile).toContain('include $(INCLUDE_DIR)/bpf.mk');
    for (const file of ['index.js', 'manifest.json', 'acl.d/wrtkit-$(PLUGIN).json', './files/etc/config/offload'])
      expect(makefile).toContain(file);
  });
});
