// The Wi-Fi lab (issue 10): real hostapd and wpa_supplicant on mac80211_hwsim in the lab
// VM (Debian's stock kernel under QEMU/TCG), with the wrtkit host running inside the VM on
// QuickJS — the same bundles a router runs — and this test driving it from outside.
//
//   phy0: wlan0  "Roam" (WPA2-PSK, 802.11k, BTM)  + wlan0g "Guest" (dynapoint rule 'internet')
//   phy1: wlan1  "Roam" (the roaming target)
//   phy2: wlan2  the station (wpa_supplicant)
//
// The host uses the plain-hostapd wireless backend: each BSS's hostapd runs from the file
// core's formatter writes for /etc/config/wireless, and the host talks to them over their
// control sockets (commands, ATTACH events). Shown: a station associates and the host's
// `station` hook sees it (a tester plugin records what its tap got); dynapoint switching the
// guest BSS off and on leaves the station on the other BSS of that radio associated; a BSS
// transition request through `wrtkit.hostapd bss_transition_request` (core's client,
// BSS_TM_REQ) roams the station to wlan1, and the host sees it arrive there. Every step's
// time is printed (docs/testing.md records them).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neighborReport } from '../../../core/src/compose/wireless/bss-transition.js';
import { formatHostapdConf, hostapdBsses } from '../../../core/src/compose/wireless/hostapd-config.js';
import { parseUci } from '../../../core/src/uci/index.js';
import { type LabVm, bootVm, vmSupported } from '../../src/lab/vm/index.js';
import { type Radio, WIFI_GUEST, WifiLab } from '../../src/lab/wifi.js';

const REPO = resolve(import.meta.dirname, '../../..');
const QJS_ROOT = join(REPO, '.cache/qjs/root');
const NATIVE = process.env.WRTKIT_NATIVE ?? join(REPO, '.cache/native/wrtkit-native.so');

function skipReason(): string {
  const vm = vmSupported();
  if (!vm.ok) return vm.reason;
  if (!existsSync(QJS_ROOT)) return 'no QuickJS tree in .cache/qjs/root (scripts/fetch-qjs.sh)';
  if (!existsSync(NATIVE)) return `no native module at ${NATIVE} (make native)`;
  return '';
}
const SKIP = skipReason();
if (SKIP) console.log(`Wi-Fi lab skipped: ${SKIP}`);

const PSK = 'lab-passphrase';
const timings: Array<[string, number]> = [];
async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    const ms = Date.now() - t0;
    timings.push([step, ms]);
    console.log(`[wifi lab] ${step}: ${(ms / 1000).toFixed(2)} s`);
  }
}

/** Records what the host's `station` hook delivers, with the wall-clock time. */
const TESTER = `export {};
const core = globalThis[Symbol.for('wrtkit.runtime.v1')]['@wrtkit/core'];
export default core.definePlugin({
  name: 'station-log',
  version: '0.1.0',
  apiVersion: '^1',
  setup(ctx) {
    const events = [];
    ctx.hooks.station.tap((e) => { events.push({ ...e, at: ctx.clock.now() }); });
    ctx.serve({
      events: core.method(
        { access: 'read', description: 'station events seen', schema: { type: 'object', properties: {}, additionalProperties: false } },
        () => ({ events }),
      ),
    });
  },
});
`;

function wirelessConfig(radios: Radio[]): string {
  return [
    "config wifi-device 'radio0'",
    "\toption type 'mac80211'",
    "\toption band '2g'",
    "\toption channel '1'",
    '',
    "config wifi-device 'radio1'",
    "\toption type 'mac80211'",
    "\toption band '2g'",
    "\toption channel '6'",
    '',
    "config wifi-iface 'main'",
    "\toption device 'radio0'",
    "\toption mode 'ap'",
    `\toption ifname '${radios[0]!.ifname}'`,
    "\toption ssid 'Roam'",
    "\toption encryption 'psk2'",
    `\toption key '${PSK}'`,
    "\toption ieee80211k '1'",
    "\toption bss_transition '1'",
    '',
    "config wifi-iface 'guest'",
    "\toption device 'radio0'",
    "\toption mode 'ap'",
    "\toption ifname 'wlan0g'",
    "\toption ssid 'Guest'",
    "\toption dynapoint_rule 'internet'",
    '',
    "config wifi-iface 'second'",
    "\toption device 'radio1'",
    "\toption mode 'ap'",
    `\toption ifname '${radios[1]!.ifname}'`,
    "\toption ssid 'Roam'",
    "\toption encryption 'psk2'",
    `\toption key '${PSK}'`,
    "\toption ieee80211k '1'",
    "\toption bss_transition '1'",
    '',
  ].join('\n');
}

const HOST_CONFIG = [
  "config wrtkit 'main'",
  "\toption plugin_dir '/opt/wrtkit/plugins'",
  "\toption state_dir '/var/lib/wrtkit'",
  "\toption control_socket '/var/run/wrtkit.sock'",
  "\toption ubus_socket '/var/run/no-ubusd.sock'",
  "\toption log_level 'debug'",
  "\toption wireless_backend 'hostapd'",
  `\toption hostapd_conf_dir '${WIFI_GUEST.confDir}'`,
  `\toption hostapd_ctrl_dir '${WIFI_GUEST.ctrlDir}'`,
  "\toption hostapd_driver 'nl80211'",
  '',
].join('\n');

// dynapoint's uplink check: ICMP to an address the test adds to and removes from lo
const DYNAPOINT = [
  "config rule 'internet'",
  "\tlist hosts 'icmp://192.0.2.1'",
  "\toption interval '1'",
  "\toption timeout '1'",
  "\toption offline_threshold '1'",
  "\toption online_threshold '1'",
  '',
].join('\n');

describe.skipIf(SKIP !== '')('Wi-Fi lab: hostapd and wpa_supplicant on mac80211_hwsim in a VM', () => {
  let vm: LabVm;
  let wifi: WifiLab;
  let radios: Radio[];
  const host = '/opt/qjs/bin/qjs --no-unhandled-rejection /opt/wrtkit/wrtkit.js --config-dir /etc/config';
  const call = async (target: string, args?: unknown): Promise<Record<string, unknown>> => {
    const json = args === undefined ? '' : ` '${JSON.stringify(args)}'`;
    const out = await vm.exec(`WRTKIT_NATIVE=/opt/wrtkit/wrtkit-native.so ${host} call ${target}${json}`, { timeoutMs: 30_000 });
    return JSON.parse(out) as Record<string, unknown>;
  };
  const hostLog = () => vm.readFile(`${WIFI_GUEST.logDir}/wrtkit.log`);
  const waitHostLog = async (pattern: RegExp, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = await hostLog().catch(() => '');
      if (pattern.test(log)) return log;
      if (Date.now() > deadline) throw new Error(`host log never matched ${String(pattern)}:\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const stationEvents = async () =>
    (await call('station-log.events')).events as Array<{ ifname: string; mac: string; event: string }>;

  beforeAll(async () => {
    // the bundles a router runs: the host and dynapoint, plus the station recorder
    const out = join(REPO, '.cache/wifi-test/build');
    rmSync(out, { recursive: true, force: true });
    await timed('bundles (host, dynapoint)', async () => {
      execFileSync(
        process.execPath,
        [join(REPO, 'scripts/build.mjs'), '--out', out, '--quiet', '--no-minify', join(REPO, 'plugins/dynapoint')],
        {
          stdio: 'inherit',
        },
      );
    });
    mkdirSync(join(out, 'plugins/station-log'), { recursive: true });
    writeFileSync(join(out, 'plugins/station-log/index.js'), TESTER);
    writeFileSync(
      join(out, 'plugins/station-log/manifest.json'),
      JSON.stringify({
        name: 'station-log',
        version: '0.1.0',
        apiVersion: '^1',
        description: 'records station events',
        entry: 'index.js',
      }),
    );
    vm = await timed('VM image (build or cache) and boot to ssh', () => bootVm());
    try {
      await timed('copy in QuickJS, the native module and the bundles', async () => {
        await vm.copyIn(QJS_ROOT, '/opt/qjs/root');
        await vm.copyIn(out, '/opt/wrtkit');
        await vm.copyIn(NATIVE, '/opt/wrtkit/wrtkit-native.so');
        const wrapper = [
          '#!/bin/sh',
          'exec /opt/qjs/root/usr/lib64/ld-linux-x86-64.so.2 --library-path /opt/qjs/root/usr/lib/x86_64-linux-gnu:/opt/qjs/root/lib/x86_64-linux-gnu /opt/qjs/root/usr/bin/qjs "$@"',
          '',
        ].join('\n');
        await vm.exec('mkdir -p /opt/qjs/bin && cat > /opt/qjs/bin/qjs && chmod 755 /opt/qjs/bin/qjs', { input: wrapper });
      });
      wifi = new WifiLab(vm);
      radios = await timed('mac80211_hwsim with 3 radios', () => wifi.radios(3));
    } catch (error) {
      console.log(await vm.collectLogs().catch(() => ''));
      await vm.shutdown();
      throw error;
    }
  }, 600_000);

  afterAll(async () => {
    if (!vm) return;
    await vm.shutdown();
    console.log(`[wifi lab] timings: ${timings.map(([s, ms]) => `${s} ${(ms / 1000).toFixed(2)} s`).join('; ')}`);
  }, 60_000);

  it('must-show 1 and 2: association seen on the station hook; dynapoint switches the other BSS without a disassociation; BSS transition roams the station', async () => {
    try {
      const sta = radios[2]!;
      const ap1 = radios[0]!;
      const ap2 = radios[1]!;
      // the guest BSS is a second interface of radio 0, with its own MAC
      await wifi.addInterface(ap1.phy, 'wlan0g', '02:00:00:00:00:10');
      const wireless = wirelessConfig(radios);
      const { bsses, problems } = hostapdBsses(parseUci(wireless, { name: 'wireless' }).package, {
        ctrlDir: WIFI_GUEST.ctrlDir,
        driver: 'nl80211',
      });
      expect(problems).toEqual([]);
      const conf = (ifname: string) => formatHostapdConf(bsses.find((b) => b.ifname === ifname)!);
      await timed('hostapd: wlan0 (Roam) and wlan0g (Guest) on radio 0 enabled', async () => {
        await wifi.startAp(ap1.ifname, conf(ap1.ifname));
        await wifi.startAp('wlan0g', conf('wlan0g'));
      });

      await timed('wrtkit host on QuickJS in the VM: ready', async () => {
        await vm.exec('mkdir -p /etc/config /var/lib/wrtkit && ip addr add 192.0.2.1/32 dev lo', {});
        await vm.exec('cat > /etc/config/wrtkit', { input: HOST_CONFIG });
        await vm.exec('cat > /etc/config/wireless', { input: wireless });
        await vm.exec('cat > /etc/config/dynapoint', { input: DYNAPOINT });
        await vm.exec(
          `WRTKIT_NATIVE=/opt/wrtkit/wrtkit-native.so nohup ${host.replace(' --config-dir', ' run --config-dir')} > ${WIFI_GUEST.logDir}/wrtkit.log 2>&1 &`,
        );
        await waitHostLog(/ready plugins=2 failed=0/, 60_000);
        await waitHostLog(/hostapd events: attached ifname=wlan0g/);
      });
      expect((await call('wrtkit.hostapd.status')).events).toMatchObject({ attached: [ap1.ifname, 'wlan0g'] });

      // 1. a station associates; the host's station hook sees it
      const assoc = await timed('station associates with wlan0 (WPA2-PSK)', async () => {
        await wifi.startStation(sta.ifname, { ssid: 'Roam', psk: PSK, scanFreq: [2412, 2437] });
        return wifi.waitForStation(sta.ifname, (s) => s.wpa_state === 'COMPLETED', 30_000);
      });
      expect(assoc.bssid).toBe(ap1.mac);
      expect(await wifi.apStations(ap1.ifname)).toContain(sta.mac);
      const seen = await timed('the host saw the association on the station hook', async () => {
        for (let i = 0; i < 50; i++) {
          const events = await stationEvents();
          if (events.some((e) => e.event === 'assoc' && e.mac === sta.mac)) return events;
          await new Promise((r) => setTimeout(r, 300));
        }
        return stationEvents();
      });
      expect(seen).toContainEqual(expect.objectContaining({ ifname: ap1.ifname, mac: sta.mac, event: 'assoc' }));

      // 2. dynapoint takes the guest BSS of the same radio off and back on; the station stays
      const wpaLogBefore = (await wifi.log(`wpa-${sta.ifname}`)).length;
      const rule = async () =>
        ((await call('dynapoint.status')).rules as Array<{ rule: string; state: string; switches: number }>).find(
          (r) => r.rule === 'internet',
        );
      expect(await rule()).toMatchObject({ state: 'online' });
      await timed('dynapoint: uplink lost → guest BSS disabled', async () => {
        await vm.exec('ip addr del 192.0.2.1/32 dev lo');
        await wifi.waitForApState('wlan0g', 'DISABLED', 30_000);
      });
      expect(await rule()).toMatchObject({ state: 'offline', switches: 1 });
      expect(await wifi.apStations(ap1.ifname)).toContain(sta.mac);
      await timed('dynapoint: uplink back → guest BSS enabled', async () => {
        await vm.exec('ip addr add 192.0.2.1/32 dev lo');
        await wifi.waitForApState('wlan0g', 'ENABLED', 30_000);
      });
      expect(await rule()).toMatchObject({ state: 'online', switches: 2 });
      // the switches went through the plain-hostapd backend (control socket), not a restart
      const applied = await hostLog();
      expect(applied).toMatch(/applied package=wireless backend=hostapd/);
      const after = await wifi.stationStatus(sta.ifname);
      expect(after).toMatchObject({ wpa_state: 'COMPLETED', bssid: ap1.mac });
      const wpaLog = (await wifi.log(`wpa-${sta.ifname}`)).slice(wpaLogBefore);
      expect(wpaLog).not.toMatch(/CTRL-EVENT-DISCONNECTED/);
      expect(await wifi.apStations(ap1.ifname)).toContain(sta.mac);
      expect((await stationEvents()).filter((e) => e.event === 'disassoc')).toEqual([]);

      // 3. a second AP with the same SSID; a BSS transition request through core's client roams the station
      await timed('hostapd: wlan1 (Roam) on radio 1 enabled', () => wifi.startAp(ap2.ifname, conf(ap2.ifname)));
      await waitHostLog(new RegExp(`hostapd events: attached ifname=${ap2.ifname}`), 15_000);
      const neighbor = neighborReport({ bssid: ap2.mac, opClass: 81, channel: 6, phyType: 7, preference: 255 });
      const requested = Date.now();
      const reply = await call('wrtkit.hostapd.bss_transition_request', {
        ifname: ap1.ifname,
        addr: sta.mac,
        neighbors: [neighbor],
        abridged: true,
        disassociation_imminent: true,
        disassociation_timer: 100,
      });
      expect(reply).toMatchObject({ ok: true });
      const roamed = await timed('BSS transition: the station roams to wlan1', () =>
        wifi.waitForStation(sta.ifname, (s) => s.wpa_state === 'COMPLETED' && s.bssid === ap2.mac, 30_000),
      );
      expect(roamed.bssid).toBe(ap2.mac);
      // the roam in the VM's own clock (-t timestamps): hostapd on wlan0 got the station's
      // BTM response (accepting the move) → wpa_supplicant connected to wlan1
      const wpa = await wifi.log(`wpa-${sta.ifname}`);
      const ap1Log = await wifi.log(`hostapd-${ap1.ifname}`);
      const resp = /^(\d+\.\d+): .*BSS-TM-RESP/m.exec(ap1Log);
      const auth = new RegExp(`^(\\d+\\.\\d+): .*Trying to authenticate with ${ap2.mac}`, 'm').exec(wpa);
      const connected = new RegExp(`^(\\d+\\.\\d+): .*CTRL-EVENT-CONNECTED - Connection to ${ap2.mac}`, 'm').exec(wpa);
      console.log(
        `[wifi lab] request → the test saw the station on wlan1: ${Date.now() - requested} ms (ssh round trips included)`,
      );
      if (resp && connected) {
        const ms = (Number(connected[1]) - Number(resp[1])) * 1000;
        timings.push(['roam: BTM response at wlan0 → connected to wlan1 (daemon logs)', ms]);
        console.log(`[wifi lab] roam: BTM response at wlan0 → connected to wlan1: ${ms.toFixed(0)} ms`);
      } else {
        console.log(`[wifi lab] roam timing not in the logs:\n${ap1Log.slice(-1500)}\n${wpa.slice(-1500)}`);
      }
      if (auth && connected) {
        console.log(
          `[wifi lab] roam: authentication with wlan1 → connected: ${((Number(connected[1]) - Number(auth[1])) * 1000).toFixed(0)} ms`,
        );
      }
      await timed('the host saw the station arrive on wlan1', async () => {
        for (let i = 0; i < 50; i++) {
          if ((await stationEvents()).some((e) => e.event === 'assoc' && e.ifname === ap2.ifname && e.mac === sta.mac)) return;
          await new Promise((r) => setTimeout(r, 300));
        }
      });
      expect(await stationEvents()).toContainEqual(expect.objectContaining({ ifname: ap2.ifname, mac: sta.mac, event: 'assoc' }));
    } catch (error) {
      console.log(await wifi.logs().catch(() => ''));
      console.log((await hostLog().catch(() => '')).slice(-4000));
      throw error;
    }
  }, 420_000);
});
