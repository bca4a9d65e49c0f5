// A package like the ones firmware-build makes for a plugin: JS under /usr/share/wrtkit, an
// init script, a UCI config kept across upgrades, a postinst of its own.
import type { PackageSpec } from '../../src/model.js';

const text = (s: string) => new TextEncoder().encode(s);

export const EPOCH = 1_700_000_000; // 2023-11-14T22:13:20Z

export function sampleSpec(overrides: Partial<PackageSpec> = {}): PackageSpec {
  return {
    name: 'wrtkit-demo',
    version: '0.1.0-r1',
    architecture: 'all',
    depends: ['wrtkit', 'ucode'],
    section: 'utils',
    license: 'GPL-2.0-only',
    maintainer: 'wrtkit <dev@wrtkit.example>',
    source: 'plugins/demo',
    description: 'A demo plugin.\nIt shows what a package holds.',
    files: [
      { path: '/usr/share/wrtkit/plugins/demo/index.js', data: text('export default {};\n'), mode: 0o644 },
      { path: '/etc/init.d/wrtkit-demo', data: text('#!/bin/sh /etc/rc.common\nSTART=95\n'), mode: 0o755 },
      { path: '/etc/config/wrtkit-demo', data: text("config demo 'main'\n\toption enabled '1'\n"), mode: 0o600 },
      // '-' sorts before '/': GNU tar's --sort=name still puts ./usr/share/wrtkit/ (a
      // directory entry) before ./usr/share/wrtkit-extra.
      { path: '/usr/share/wrtkit-extra', data: text('extra\n'), mode: 0o644 },
    ],
    conffiles: ['/etc/config/wrtkit-demo', '/etc/wrtkit-demo.state'],
    scripts: { postinst: '#!/bin/sh\necho installed\n', prerm: '#!/bin/sh\necho removing\n' },
    ...overrides,
  };
}
