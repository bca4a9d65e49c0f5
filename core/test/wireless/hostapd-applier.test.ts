/**
 * The hostapd backend against a fake hostapd: which BSS is told what, that nothing is
 * sent when nothing hostapd reads changed, and that failures name the UCI path and the
 * control socket. Files go to a temporary directory through the real Node platform.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostapdControl } from '../../src/compose/wireless/hostapd-control.js';
import { HostapdApplier } from '../../src/compose/wireless/hostapd.js';
import { ErrorCodes, WrtkitError } from '../../src/errors.js';
import { createLogger, type LogRecord } from '../../src/log/logger.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { UciPackage, diffPackages, parseUci } from '../../src/uci/index.js';

const platform = await createNodePlatform([]);

/** A hostapd per BSS that answers as the real one does and records what it was sent. */
class FakeHostapd implements HostapdControl {
  readonly sent: Array<[string, string]> = [];
  readonly state = new Map<string, string>();
  refuse: string | undefined;

  async request(ifname: string, command: string): Promise<string> {
    this.sent.push([ifname, command]);
    const state = this.state.get(ifname) ?? 'ENABLED';
    if (command === 'STATUS') return `state=${state}\nchannel=6\n`;
    if (command === this.refuse) return 'FAIL\n';
    if (command === 'DISABLE') {
      if (state === 'DISABLED') return 'FAIL\n';
      this.state.set(ifname, 'DISABLED');
    }
    if (command === 'ENABLE') {
      if (state === 'ENABLED') return 'FAIL\n';
      this.state.set(ifname, 'ENABLED');
    }
    return 'OK\n';
  }

  /** The commands since the last call, per BSS. */
  take(): Array<[string, string]> {
    return this.sent.splice(0);
  }
}

const roots: string[] = [];
afterEach(() => roots.splice(0).forEach((r) => rmSync(r, { recursive: true, force: true })));

function setup(initial: string, running = ['wlan0', 'wlan1']) {
  const root = mkdtempSync(join(tmpdir(), 'wrtkit-hostapd-'));
  roots.push(root);
  const dirs = { configDir: join(root, 'etc/config'), confDir: join(root, 'etc/hostapd'), ctrlDir: join(root, 'run/hostapd') };
  mkdirSync(dirs.configDir, { recursive: true });
  mkdirSync(dirs.ctrlDir, { recursive: true });
  // The applier only checks that the control socket exists; the fake answers in its place.
  for (const ifname of running) writeFileSync(join(dirs.ctrlDir, ifname), '');
  writeFileSync(join(dirs.configDir, 'wireless'), initial);
  const records: LogRecord[] = [];
  const hostapd = new FakeHostapd();
  const load = () => parseUci(readFileSync(join(dirs.configDir, 'wireless'), 'utf8'), { name: 'wireless' }).package;
  const applier = new HostapdApplier({
    fs: platform.fs,
    ...dirs,
    driver: 'none',
    control: hostapd,
    loadCommitted: () => (existsSync(join(dirs.configDir, 'wireless')) ? load() : undefined),
    log: createLogger((record) => records.push(record), 'wrtkit').logger,
  });
  /** Applies an edit of the committed package, as the composer does. */
  const apply = async (edit: (w: UciPackage) => void) => {
    const base = load();
    const desired = base.clone();
    edit(desired);
    await applier.apply('wireless', desired, diffPackages(base, desired));
  };
  const conf = (ifname: string) => readFileSync(join(dirs.confDir, `${ifname}.conf`), 'utf8');
  return { root, dirs, hostapd, apply, conf, records, applier };
}

const TWO_APS =
  "config wifi-device 'radio0'\n\toption channel '6'\n\toption band '2g'\n\n" +
  "config wifi-iface 'main'\n\toption device 'radio0'\n\toption ifname 'wlan0'\n\toption ssid 'Home'\n\toption encryption 'psk2'\n\toption key 'home-passphrase'\n\n" +
  "config wifi-iface 'guest'\n\toption device 'radio0'\n\toption ifname 'wlan1'\n\toption ssid 'Guest'\n";

describe('hostapd backend', () => {
  it('writes every BSS file the first time and brings hostapd in line with it', async () => {
    const t = setup(TWO_APS);
    await t.apply((w) => w.section('guest')?.set('network', 'guest'));
    expect(t.conf('wlan0')).toContain('ssid=Home\n');
    expect(t.conf('wlan1')).toContain('ssid=Guest\n');
    // The key is in there: only root reads it.
    expect(statSync(join(t.dirs.confDir, 'wlan0.conf')).mode & 0o777).toBe(0o600);
    const sent = t.hostapd.take();
    // No earlier file to compare with: the radio settings are new too, so the BSS restarts.
    expect(sent.filter(([, c]) => c === 'ENABLE').map(([i]) => i)).toEqual(['wlan0', 'wlan1']);
    expect(sent).toContainEqual(['wlan0', 'SET wpa_passphrase home-passphrase']);
    // What a running hostapd cannot change is never SET.
    expect(sent.some(([, c]) => /^SET (interface|driver|ctrl_interface) /.test(c))).toBe(false);
    expect(readFileSync(join(t.dirs.configDir, 'wireless'), 'utf8')).toContain("option network 'guest'");
  });

  it('tells only the BSS whose section changed: SET what changed, then RELOAD', async () => {
    const t = setup(TWO_APS);
    await t.apply((w) => w.section('main')?.set('hidden', '0'));
    t.hostapd.take();
    t.records.splice(0);
    await t.apply((w) => w.section('guest')?.set('ssid', 'Visitors'));
    expect(t.hostapd.take()).toEqual([
      ['wlan1', 'STATUS'],
      ['wlan1', 'SET ssid Visitors'],
      ['wlan1', 'RELOAD'],
    ]);
    expect(t.conf('wlan1')).toContain('ssid=Visitors\n');
    expect(t.records.filter((r) => r.message === 'hostapd told').map((r) => r.fields)).toEqual([
      { ifname: 'wlan1', was: 'ENABLED', commands: 'STATUS, SET ssid, RELOAD' },
    ]);
  });

  it('sends nothing when nothing hostapd reads changed', async () => {
    const t = setup(TWO_APS);
    await t.apply((w) => w.section('main')?.set('hidden', '0'));
    t.hostapd.take();
    // Not hostapd's: the bridge netifd would use.
    await t.apply((w) => w.section('guest')?.set('network', 'lan'));
    expect(t.hostapd.take()).toEqual([]);
    // No change at all: not even a file is rewritten.
    const before = statSync(join(t.dirs.confDir, 'wlan0.conf')).mtimeMs;
    const base = parseUci(readFileSync(join(t.dirs.configDir, 'wireless'), 'utf8'), { name: 'wireless' }).package;
    await t.applier.apply('wireless', base, []);
    expect(t.hostapd.take()).toEqual([]);
    expect(statSync(join(t.dirs.confDir, 'wlan0.conf')).mtimeMs).toBe(before);
  });

  it("DISABLE when a section becomes disabled '1', ENABLE when it is enabled again", async () => {
    const t = setup(TWO_APS);
    await t.apply((w) => w.section('main')?.set('hidden', '0'));
    t.hostapd.take();
    await t.apply((w) => w.section('guest')?.set('disabled', '1'));
    expect(t.hostapd.take()).toEqual([
      ['wlan1', 'STATUS'],
      ['wlan1', 'DISABLE'],
    ]);
    // Changed while off: hostapd gets the setting at once (ENABLE starts from memory).
    await t.apply((w) => w.section('guest')?.set('ssid', 'Later'));
    expect(t.hostapd.take()).toEqual([
      ['wlan1', 'STATUS'],
      ['wlan1', 'SET ssid Later'],
    ]);
    await t.apply((w) => w.section('guest')?.delete('disabled'));
    expect(t.hostapd.take()).toEqual([
      ['wlan1', 'STATUS'],
      ['wlan1', 'ENABLE'],
    ]);
  });

  it('restarts the BSSes of a radio whose channel changed; a RELOAD would not retune', async () => {
    const t = setup(TWO_APS);
    await t.apply((w) => w.section('main')?.set('hidden', '0'));
    t.hostapd.take();
    await t.apply((w) => w.section('radio0')?.set('channel', '11'));
    expect(t.hostapd.take()).toEqual([
      ['wlan0', 'STATUS'],
      ['wlan0', 'SET channel 11'],
      ['wlan0', 'DISABLE'],
      ['wlan0', 'ENABLE'],
      ['wlan1', 'STATUS'],
      ['wlan1', 'SET channel 11'],
      ['wlan1', 'DISABLE'],
      ['wlan1', 'ENABLE'],
    ]);
  });

  it('stops a BSS whose section was removed, and follows the state hostapd reports', async () => {
    const t = setup(TWO_APS);
    await t.apply((w) => w.section('main')?.set('hidden', '0'));
    t.hostapd.take();
    await t.apply((w) => w.removeSection('guest'));
    expect(t.hostapd.take()).toEqual([
      ['wlan1', 'STATUS'],
      ['wlan1', 'DISABLE'],
    ]);
    // Disabled in UCI but already stopped in hostapd: nothing to do but ask.
    t.hostapd.state.set('wlan0', 'DISABLED');
    await t.apply((w) => w.section('main')?.set('disabled', '1'));
    expect(t.hostapd.take()).toEqual([['wlan0', 'STATUS']]);
  });

  it('refuses an invalid section with its UCI path and writes nothing', async () => {
    const t = setup(TWO_APS);
    const error = await t
      .apply((w) => {
        w.section('guest')?.delete('ifname');
        w.section('main')?.set('ssid', 'Home\nctrl_interface=/tmp/evil');
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrtkitError);
    expect(error).toMatchObject({ code: ErrorCodes.CONFIG_INVALID, uciPath: 'wireless.main.ssid' });
    expect((error as Error).message).toMatch(
      /wireless\.main\.ssid: must not contain newlines.*; wireless\.guest\.ifname: is required/,
    );
    expect(t.hostapd.take()).toEqual([]);
    expect(existsSync(t.dirs.confDir)).toBe(false);
    expect(readFileSync(join(t.dirs.configDir, 'wireless'), 'utf8')).toBe(TWO_APS);
  });

  it('names the control socket when hostapd is not running for a BSS, and still tells the others', async () => {
    const t = setup(TWO_APS, ['wlan0']);
    const error = await t.apply((w) => w.section('main')?.set('hidden', '1')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.APPLY_FAILED, uciPath: 'wireless.guest' });
    const socket = join(t.dirs.ctrlDir, 'wlan1');
    expect((error as Error).message).toBe(
      `wireless.guest: hostapd is not running for wlan1 (no control socket ${socket}); its config is written to ${join(t.dirs.confDir, 'wlan1.conf')}`,
    );
    expect(
      t.hostapd
        .take()
        .filter(([i]) => i === 'wlan0')
        .map(([, c]) => c),
    ).toContain('ENABLE');
    expect(t.conf('wlan1')).toContain('ssid=Guest');
  });

  it('a BSS that is to be off needs no running hostapd', async () => {
    const t = setup(TWO_APS, ['wlan0']);
    await t.apply((w) => {
      w.section('guest')?.set('disabled', '1');
      w.section('main')?.set('hidden', '0');
    });
    expect(t.hostapd.take().some(([i]) => i === 'wlan1')).toBe(false);
  });

  it('reports a command hostapd refused, without the key', async () => {
    const t = setup(TWO_APS);
    t.hostapd.refuse = 'SET wpa_passphrase new-passphrase';
    const error = await t.apply((w) => w.section('main')?.set('key', 'new-passphrase')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.APPLY_FAILED, uciPath: 'wireless.main' });
    expect((error as Error).message).toContain('wireless.main: hostapd wlan0 refused SET wpa_passphrase: FAIL');
    expect((error as Error).message).not.toContain('new-passphrase');
  });

  it('applies to an empty wireless package (a first install)', async () => {
    const t = setup('');
    rmSync(join(t.dirs.configDir, 'wireless'));
    const desired = new UciPackage('wireless');
    desired.addSection('wifi-iface', 'ap').set('ifname', 'wlan0');
    desired.section('ap')?.set('ssid', 'First');
    await t.applier.apply('wireless', desired, diffPackages(new UciPackage('wireless'), desired));
    expect(t.hostapd.take().map(([, c]) => c)).toEqual([
      'STATUS',
      'SET ssid First',
      'SET ignore_broadcast_ssid 0',
      'SET wpa 0',
      'SET ieee80211w 0',
      'RELOAD',
    ]);
  });
});
