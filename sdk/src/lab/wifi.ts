/**
 * # The Wi-Fi lab: real hostapd and wpa_supplicant on mac80211_hwsim, in a VM
 *
 * This machine's kernel has no mac80211; Debian's stock kernel in the lab VM
 * (`./vm/`, QEMU) has `mac80211_hwsim`, whose radios hear each other over a simulated
 * medium. On top of a booted `LabVm` this module starts radios, access points (hostapd,
 * one process per BSS, from a config file — for example the one wrtkit's hostapd backend
 * writes) and stations (wpa_supplicant), and reads their state back through their own
 * control clients (hostapd_cli, wpa_cli) and logs.
 *
 * ```ts
 * const vm = await bootVm();
 * const wifi = new WifiLab(vm);
 * try {
 *   const radios = await wifi.radios(3);            // phy0..2 → wlan0..2 with their MACs
 *   await wifi.startAp('wlan0', hostapdConf);       // waits for state ENABLED
 *   await wifi.startStation('wlan2', { ssid: 'Roam', psk: 'lab-passphrase' });
 *   await wifi.waitForStation('wlan2', (s) => s.wpa_state === 'COMPLETED');
 * } finally {
 *   await vm.shutdown();
 * }
 * ```
 *
 * Every step has a time limit; `logs()` gathers the daemons' logs for a failure message.
 */
import type { LabVm } from './vm/index.js';

/** Where the lab's daemons keep their files in the guest. */
export const WIFI_GUEST = {
  ctrlDir: '/var/run/hostapd',
  confDir: '/etc/hostapd',
  wpaCtrlDir: '/var/run/wpa_supplicant',
  logDir: '/var/log/wifi-lab',
} as const;

export interface Radio {
  phy: string;
  ifname: string;
  mac: string;
}

export interface StationOptions {
  ssid: string;
  /** WPA2 passphrase; absent: an open network. */
  psk?: string;
  /** Key management (default `WPA-PSK`, or `NONE` without psk). */
  keyMgmt?: string;
  /** Only this BSSID (`bssid=`). */
  bssid?: string;
  /** Frequencies to scan, MHz (speeds up association: 2412 is channel 1). */
  scanFreq?: number[];
}

const SAFE = /^[A-Za-z0-9_.:-]+$/;

function safe(value: string, what: string): string {
  if (!SAFE.test(value)) throw new Error(`wifi lab: ${what} '${value}' has characters a shell would read`);
  return value;
}

/** `key=value` lines (hostapd_cli status, wpa_cli status) as an object. */
export function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

export class WifiLab {
  constructor(
    readonly vm: LabVm,
    private readonly timeoutMs = 20_000,
  ) {}

  /** Loads mac80211_hwsim with `count` radios (reloading it if it was there) and lists them. */
  async radios(count: number): Promise<Radio[]> {
    await this.vm.exec(
      `rmmod mac80211_hwsim 2>/dev/null; modprobe mac80211_hwsim radios=${Number(count)} && mkdir -p ${WIFI_GUEST.ctrlDir} ${WIFI_GUEST.confDir} ${WIFI_GUEST.wpaCtrlDir} ${WIFI_GUEST.logDir}`,
      { timeoutMs: this.timeoutMs },
    );
    // "phy#0\n\tInterface wlan0\n\t\taddr 02:00:00:00:00:00 …"
    const out = await this.vm.exec('iw dev', { timeoutMs: this.timeoutMs });
    const radios: Radio[] = [];
    let phy = '';
    let current: Partial<Radio> = {};
    for (const line of out.split('\n')) {
      const p = /^phy#(\d+)/.exec(line);
      if (p) phy = `phy${p[1]}`;
      const i = /^\s+Interface (\S+)/.exec(line);
      if (i) current = { phy, ifname: i[1] ?? '' };
      const a = /^\s+addr (\S+)/.exec(line);
      if (a && current.ifname) radios.push({ phy: current.phy ?? phy, ifname: current.ifname, mac: a[1] ?? '' });
    }
    radios.sort((x, y) => x.phy.localeCompare(y.phy, 'en', { numeric: true }));
    if (radios.length !== count) throw new Error(`wifi lab: expected ${count} radios, iw dev shows:\n${out}`);
    return radios;
  }

  /** A second interface on a radio (another BSS of the same radio), with its own MAC. */
  async addInterface(phy: string, ifname: string, mac: string): Promise<void> {
    await this.vm.exec(
      `iw phy ${safe(phy, 'phy')} interface add ${safe(ifname, 'ifname')} type managed && ip link set ${ifname} address ${safe(mac, 'mac')}`,
      { timeoutMs: this.timeoutMs },
    );
  }

  /** Writes `<confDir>/<ifname>.conf` and starts a hostapd for it; resolves once the BSS is ENABLED. */
  async startAp(ifname: string, conf: string): Promise<void> {
    const name = safe(ifname, 'ifname');
    const file = `${WIFI_GUEST.confDir}/${name}.conf`;
    await this.vm.exec(`cat > ${file} && chmod 600 ${file}`, { input: conf, timeoutMs: this.timeoutMs });
    await this.vm.exec(`hostapd -B -t -P /run/hostapd-${name}.pid -f ${WIFI_GUEST.logDir}/hostapd-${name}.log ${file}`, {
      timeoutMs: this.timeoutMs,
    });
    await this.waitFor(
      `hostapd on ${name} ENABLED`,
      async () => keyValues((await this.hostapdCli(name, 'status')).stdout).state === 'ENABLED',
    );
  }

  /** Stops the hostapd of a BSS (SIGTERM, waits for it to go). */
  async stopAp(ifname: string): Promise<void> {
    const name = safe(ifname, 'ifname');
    await this.vm.run(
      `p=$(cat /run/hostapd-${name}.pid 2>/dev/null) && kill $p && for i in $(seq 50); do kill -0 $p 2>/dev/null || break; sleep 0.1; done`,
      { timeoutMs: this.timeoutMs },
    );
  }

  /** Polls hostapd's STATUS of a BSS until its state is `state` (ENABLED, DISABLED …). */
  async waitForApState(ifname: string, state: string, timeoutMs = this.timeoutMs): Promise<void> {
    let last = '';
    await this.waitFor(
      `hostapd on ${ifname} ${state}`,
      async () => (last = keyValues((await this.hostapdCli(ifname, 'status')).stdout).state ?? '') === state,
      timeoutMs,
      () => `state ${last || '(none)'}`,
    );
  }

  hostapdCli(ifname: string, ...args: string[]) {
    return this.vm.run(['hostapd_cli', '-p', WIFI_GUEST.ctrlDir, '-i', ifname, ...args], { timeoutMs: this.timeoutMs });
  }

  /** hostapd's view of its stations: their MACs. */
  async apStations(ifname: string): Promise<string[]> {
    const out = (await this.hostapdCli(ifname, 'all_sta')).stdout;
    return out
      .split('\n')
      .filter((l) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(l.trim()))
      .map((l) => l.trim());
  }

  /** Starts wpa_supplicant on `ifname` for one network. */
  async startStation(ifname: string, options: StationOptions): Promise<void> {
    const name = safe(ifname, 'ifname');
    const quote = (s: string) => `"${s.replace(/["\\\n]/g, '')}"`;
    const lines = [
      `ctrl_interface=${WIFI_GUEST.wpaCtrlDir}`,
      'network={',
      `\tssid=${quote(options.ssid)}`,
      `\tkey_mgmt=${options.keyMgmt ?? (options.psk !== undefined ? 'WPA-PSK' : 'NONE')}`,
      ...(options.psk !== undefined ? [`\tpsk=${quote(options.psk)}`] : []),
      ...(options.bssid !== undefined ? [`\tbssid=${safe(options.bssid, 'bssid')}`] : []),
      ...(options.scanFreq ? [`\tscan_freq=${options.scanFreq.map(Number).join(' ')}`] : []),
      '}',
      '',
    ];
    const conf = `/etc/wpa_supplicant-${name}.conf`;
    await this.vm.exec(`cat > ${conf} && chmod 600 ${conf}`, { input: lines.join('\n'), timeoutMs: this.timeoutMs });
    await this.vm.exec(
      `wpa_supplicant -B -t -D nl80211 -i ${name} -c ${conf} -P /run/wpa-${name}.pid -f ${WIFI_GUEST.logDir}/wpa-${name}.log`,
      { timeoutMs: this.timeoutMs },
    );
  }

  /** `wpa_cli status` of a station. */
  async stationStatus(ifname: string): Promise<Record<string, string>> {
    const r = await this.vm.run(['wpa_cli', '-p', WIFI_GUEST.wpaCtrlDir, '-i', ifname, 'status'], { timeoutMs: this.timeoutMs });
    return keyValues(r.stdout);
  }

  /** Polls the station's status until `ok` holds; resolves with it. */
  async waitForStation(
    ifname: string,
    ok: (status: Record<string, string>) => boolean,
    timeoutMs = this.timeoutMs,
  ): Promise<Record<string, string>> {
    let last: Record<string, string> = {};
    await this.waitFor(
      `station ${ifname}`,
      async () => ok((last = await this.stationStatus(ifname))),
      timeoutMs,
      () => JSON.stringify(last),
    );
    return last;
  }

  /** A daemon's log (`hostapd-<ifname>`, `wpa-<ifname>`). */
  async log(name: string): Promise<string> {
    return (await this.vm.run(['cat', `${WIFI_GUEST.logDir}/${safe(name, 'log')}.log`], { timeoutMs: this.timeoutMs })).stdout;
  }

  /** Every daemon log, for a failure message. */
  async logs(): Promise<string> {
    const r = await this.vm.run(`for f in ${WIFI_GUEST.logDir}/*.log; do echo "== $f"; tail -n 40 "$f"; done`, {
      timeoutMs: this.timeoutMs,
    });
    return r.stdout;
  }

  private async waitFor(
    what: string,
    ok: () => Promise<boolean>,
    timeoutMs = this.timeoutMs,
    detail?: () => string,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await ok().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `wifi lab: timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail()}` : ''}\n${await this.logs()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
