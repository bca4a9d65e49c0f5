import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigApplier } from '../../src/compose/applier.js';
import { PerPackageApplier } from '../../src/compose/per-package-applier.js';
import {
  OPENWRT_RELEASE,
  type WirelessSettings,
  createWirelessApplier,
  detectWirelessBackend,
} from '../../src/compose/wireless/backend.js';
import { HostapdApplier } from '../../src/compose/wireless/hostapd.js';
import { OpenWrtWirelessApplier } from '../../src/compose/wireless/openwrt.js';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { ErrorCodes } from '../../src/errors.js';
import { createLogger } from '../../src/log/logger.js';
import type { DirEntry, FileSystem, ProcessResult, Processes } from '../../src/platform/platform.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { UciPackage } from '../../src/uci/index.js';
import { makeHost } from '../helpers/host.js';

const platform = await createNodePlatform([]);
const log = createLogger(() => undefined, 'wrtkit').logger;

function system(options: { programs?: Record<string, string>; files?: string[]; ctrl?: DirEntry[] }) {
  const fs = {
    exists: (path: string) => (options.files ?? []).includes(path),
    list: (path: string) => (path === '/var/run/hostapd' ? (options.ctrl ?? []) : []),
  } as unknown as FileSystem;
  const processes = { which: (program: string) => options.programs?.[program] } as unknown as Processes;
  return { fs, processes, hostapdCtrlDir: '/var/run/hostapd' };
}

describe('choosing the wireless backend', () => {
  const socket: DirEntry = { name: 'wlan0', kind: 'other' };

  it('auto: OpenWrt first (wifi, then its release file), then a hostapd socket, then the file applier', () => {
    expect(detectWirelessBackend('auto', system({ programs: { wifi: '/sbin/wifi' }, ctrl: [socket] }))).toEqual({
      backend: 'openwrt',
      reason: 'found /sbin/wifi',
    });
    expect(detectWirelessBackend('auto', system({ files: [OPENWRT_RELEASE], ctrl: [socket] }))).toEqual({
      backend: 'openwrt',
      reason: 'found /etc/openwrt_release',
    });
    expect(detectWirelessBackend('auto', system({ ctrl: [socket] }))).toEqual({
      backend: 'hostapd',
      reason: 'found hostapd control socket /var/run/hostapd/wlan0',
    });
    // A directory without sockets is a hostapd that is not running.
    expect(detectWirelessBackend('auto', system({ ctrl: [{ name: 'stale.conf', kind: 'file' }] })).backend).toBe('uci');
    expect(detectWirelessBackend('auto', system({}))).toEqual({
      backend: 'uci',
      reason: 'no wifi, no /etc/openwrt_release, no hostapd control socket in /var/run/hostapd',
    });
  });

  it('an explicit setting wins over what is found', () => {
    const found = system({ programs: { wifi: '/sbin/wifi' }, ctrl: [socket] });
    expect(detectWirelessBackend('hostapd', found)).toEqual({
      backend: 'hostapd',
      reason: "wrtkit.main.wireless_backend is 'hostapd'",
    });
    expect(detectWirelessBackend('uci', found).backend).toBe('uci');
    expect(detectWirelessBackend('openwrt', system({})).backend).toBe('openwrt');
  });

  it('creates the applier of each backend; uci is the file applier itself', () => {
    const settings: WirelessSettings = {
      backend: 'auto',
      hostapdConfDir: '/etc/hostapd',
      hostapdCtrlDir: '/var/run/hostapd',
      hostapdDriver: 'nl80211',
    };
    const files = {} as ConfigApplier;
    const deps = {
      platform,
      clock: new FakeClock(),
      configDir: '/etc/config',
      settings,
      command: () => ['wifi', 'reload'],
      loadCommitted: () => undefined,
      log,
      files,
    };
    expect(createWirelessApplier({ backend: 'openwrt', reason: '' }, deps)).toBeInstanceOf(OpenWrtWirelessApplier);
    expect(createWirelessApplier({ backend: 'hostapd', reason: '' }, deps)).toBeInstanceOf(HostapdApplier);
    expect(createWirelessApplier({ backend: 'uci', reason: '' }, deps)).toBe(files);
  });

  it('gives wireless its backend and every other package the default', async () => {
    const calls: string[] = [];
    const recorder = (name: string): ConfigApplier => ({ apply: async (pkg) => void calls.push(`${name}:${pkg}`) });
    const applier = new PerPackageApplier({ wireless: recorder('hostapd') }, recorder('files'));
    for (const pkg of ['wireless', 'network', 'firewall', 'dhcp'] as const) await applier.apply(pkg, new UciPackage(pkg), []);
    expect(calls).toEqual(['hostapd:wireless', 'files:network', 'files:firewall', 'files:dhcp']);
  });
});

describe('OpenWrt backend', () => {
  const roots: string[] = [];
  afterEach(() => roots.splice(0).forEach((r) => rmSync(r, { recursive: true, force: true })));

  function openwrt(found: boolean, exitCode = 0) {
    const root = mkdtempSync(join(tmpdir(), 'wrtkit-openwrt-'));
    roots.push(root);
    const ran: string[][] = [];
    const processes: Processes = {
      which: (program) => (found ? `/sbin/${program}` : undefined),
      run: async (argv) => {
        ran.push([...argv]);
        return {
          argv,
          exitCode,
          signal: null,
          stdout: '',
          stderr: exitCode ? 'radio0 is busy' : '',
          timedOut: false,
          durationMs: 1,
        } as ProcessResult;
      },
      spawn: () => {
        throw new Error('not used');
      },
    };
    const applier = new OpenWrtWirelessApplier(platform.fs, processes, root, () => ['wifi', 'reload'], log);
    const desired = new UciPackage('wireless');
    desired.addSection('wifi-iface', 'default_radio0').set('ssid', 'OpenWrt');
    return {
      root,
      ran,
      apply: () =>
        applier.apply('wireless', desired, [{ cmd: 'change', section: 'default_radio0', option: 'ssid', value: 'OpenWrt' }]),
    };
  }

  it('writes /etc/config/wireless as uci commit does, then runs wifi reload', async () => {
    const t = openwrt(true);
    await t.apply();
    expect(readFileSync(join(t.root, 'wireless'), 'utf8')).toBe(
      "\nconfig wifi-iface 'default_radio0'\n\toption ssid 'OpenWrt'\n\n",
    );
    expect(t.ran).toEqual([['wifi', 'reload']]);
  });

  it('says so when wifi is missing or fails, instead of leaving the config unapplied in silence', async () => {
    const missing = openwrt(false);
    await expect(missing.apply()).rejects.toMatchObject({
      code: ErrorCodes.APPLY_FAILED,
      message: expect.stringMatching(/^wifi not found: .*wireless is written but not reloaded/),
    });
    expect(readFileSync(join(missing.root, 'wireless'), 'utf8')).toContain('OpenWrt');
    const failing = openwrt(true, 1);
    await expect(failing.apply()).rejects.toMatchObject({
      code: ErrorCodes.APPLY_FAILED,
      message: 'wifi reload exited with 1: radio0 is busy',
    });
  });
});

describe('the host and its wireless backend', () => {
  it('logs the backend at start and shows it in status; the other packages keep the file applier', async () => {
    const h = await makeHost((root) => ({
      wrtkit: `config wrtkit 'main'\n\toption wireless_backend 'hostapd'\n\toption hostapd_conf_dir '${root}/hostapd'\n\toption hostapd_ctrl_dir '${root}/run'\n`,
    }));
    try {
      await h.host.start();
      expect(h.host.status().wireless).toEqual({ backend: 'hostapd', reason: "wrtkit.main.wireless_backend is 'hostapd'" });
      expect(h.records.find((r) => r.message === 'wireless backend')?.fields).toEqual({
        backend: 'hostapd',
        reason: "wrtkit.main.wireless_backend is 'hostapd'",
      });
      await h.host.stop();
    } finally {
      h.cleanup();
    }
  });

  it('auto on a development host: the file applier, as before', async () => {
    const h = await makeHost((root) => ({
      wrtkit: `config wrtkit 'main'\n\toption hostapd_ctrl_dir '${root}/run'\n`,
    }));
    try {
      expect(h.host.status().wireless?.backend).toBe(platform.processes.which('wifi') ? 'openwrt' : 'uci');
    } finally {
      h.cleanup();
    }
  });
});
