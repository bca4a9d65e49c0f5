import { describe, expect, it } from 'vitest';
import { formatHostapdConf, hostapdBsses, parseHostapdConf } from '../../src/compose/wireless/hostapd-config.js';
import { ErrorCodes } from '../../src/errors.js';
import { parseUci } from '../../src/uci/index.js';

const options = { ctrlDir: '/var/run/hostapd', driver: 'nl80211' };
const wireless = (text: string) => parseUci(text, { name: 'wireless' }).package;

const RADIO = "config wifi-device 'radio0'\n\toption band '2g'\n\toption channel '6'\n\toption country 'de'\n\n";

describe('UCI wireless → hostapd BSS files', () => {
  it('maps an AP section and its radio to the settings hostapd reads', () => {
    const { bsses, problems } = hostapdBsses(
      wireless(
        RADIO +
          "config wifi-iface 'default_radio0'\n\toption device 'radio0'\n\toption mode 'ap'\n\toption ifname 'wlan0'\n" +
          "\toption ssid 'Café'\n\toption encryption 'psk2'\n\toption key 'secret-passphrase'\n\toption hidden '1'\n",
      ),
      options,
    );
    expect(problems).toEqual([]);
    expect(bsses).toHaveLength(1);
    expect(bsses[0]).toMatchObject({ section: 'wireless.default_radio0', ifname: 'wlan0', enabled: true });
    expect(formatHostapdConf(bsses[0]!)).toBe(
      [
        '# Written by wrtkit from wireless.default_radio0 (/etc/config/wireless); change that, not this file.',
        'interface=wlan0',
        'driver=nl80211',
        'ctrl_interface=/var/run/hostapd',
        'country_code=DE',
        'ieee80211d=1',
        'hw_mode=g',
        'channel=6',
        'ssid=Café',
        'ignore_broadcast_ssid=1',
        'wpa=2',
        'wpa_key_mgmt=WPA-PSK',
        'rsn_pairwise=CCMP',
        'ieee80211w=0',
        'wpa_passphrase=secret-passphrase',
        '',
      ].join('\n'),
    );
  });

  it("writes OpenWrt's roaming options when a section has them (ieee80211k, bss_transition)", () => {
    const { bsses } = hostapdBsses(
      wireless(
        RADIO +
          "config wifi-iface 'a'\n\toption device 'radio0'\n\toption ifname 'wlan0'\n\toption ssid 'Roam'\n" +
          "\toption ieee80211k '1'\n\toption bss_transition '1'\n\n" +
          "config wifi-iface 'b'\n\toption device 'radio0'\n\toption ifname 'wlan1'\n\toption ssid 'Roam'\n\toption ieee80211k '0'\n",
      ),
      options,
    );
    expect(bsses[0]!.settings.slice(-3)).toEqual([
      ['rrm_neighbor_report', '1'],
      ['rrm_beacon_report', '1'],
      ['bss_transition', '1'],
    ]);
    expect(bsses[1]!.settings.slice(-2)).toEqual([
      ['rrm_neighbor_report', '0'],
      ['rrm_beacon_report', '0'],
    ]);
  });

  it('maps none, sae and sae-mixed; open networks say wpa=0 explicitly', () => {
    const pkg = wireless(
      "config wifi-iface 'open'\n\toption ifname 'wlan0'\n\toption ssid 'Open'\n\n" +
        "config wifi-iface 'wpa3'\n\toption ifname 'wlan1'\n\toption ssid 'Three'\n\toption encryption 'sae'\n\toption key 'abcdefgh'\n\n" +
        "config wifi-iface 'mixed'\n\toption ifname 'wlan2'\n\toption ssid 'Mixed'\n\toption encryption 'sae-mixed'\n\toption key 'abcdefgh'\n",
    );
    const settings = hostapdBsses(pkg, options).bsses.map((b) => Object.fromEntries(b.settings));
    expect(settings[0]).toMatchObject({ wpa: '0', ieee80211w: '0', ignore_broadcast_ssid: '0' });
    expect(settings[0]).not.toHaveProperty('wpa_passphrase');
    expect(settings[1]).toMatchObject({ wpa: '2', wpa_key_mgmt: 'SAE', ieee80211w: '2', sae_password: 'abcdefgh' });
    expect(settings[1]).not.toHaveProperty('wpa_passphrase');
    expect(settings[2]).toMatchObject({
      wpa_key_mgmt: 'WPA-PSK SAE',
      ieee80211w: '1',
      wpa_passphrase: 'abcdefgh',
      sae_password: 'abcdefgh',
    });
  });

  it('leaves out other modes and reports a disabled section or radio as not enabled', () => {
    const pkg = wireless(
      "config wifi-device 'radio1'\n\toption disabled '1'\n\n" +
        "config wifi-iface\n\toption mode 'sta'\n\toption ssid 'Upstream'\n\n" +
        "config wifi-iface 'off'\n\toption ifname 'wlan0'\n\toption ssid 'Off'\n\toption disabled '1'\n\n" +
        "config wifi-iface 'radio_off'\n\toption device 'radio1'\n\toption ifname 'wlan1'\n\toption ssid 'R'\n",
    );
    const { bsses, problems } = hostapdBsses(pkg, options);
    expect(problems).toEqual([]);
    expect(bsses.map((b) => [b.ifname, b.enabled])).toEqual([
      ['wlan0', false],
      ['wlan1', false],
    ]);
  });

  it('requires an ifname, naming the UCI path (anonymous sections as uci show names them)', () => {
    const { problems } = hostapdBsses(
      wireless("config wifi-iface 'named'\n\toption ssid 'A'\n\nconfig wifi-iface\n\toption ssid 'B'\n"),
      options,
    );
    expect(problems.map((p) => [p.code, p.uciPath])).toEqual([
      [ErrorCodes.CONFIG_INVALID, 'wireless.named.ifname'],
      [ErrorCodes.CONFIG_INVALID, 'wireless.@wifi-iface[1].ifname'],
    ]);
    expect(problems[0]?.message).toMatch(/^wireless\.named\.ifname: is required by the hostapd backend/);
  });

  it.each([
    ['ssid', "option ssid 'two\nlines'", 'wireless.ap.ssid', /newlines or control characters/],
    ['ssid', "option ssid 'tab\there'", 'wireless.ap.ssid', /control characters/],
    ['ssid', `option ssid '${'é'.repeat(17)}'`, 'wireless.ap.ssid', /34 bytes in UTF-8; an SSID has at most 32/],
    ['ssid', '', 'wireless.ap.ssid', /needs an SSID/],
    ['key', "option encryption 'psk2'\n\toption key 'short'", 'wireless.ap.key', /8 to 63 printable ASCII/],
    ['key', `option encryption 'psk2'\n\toption key '${'k'.repeat(64)}'`, 'wireless.ap.key', /8 to 63/],
    ['key', "option encryption 'sae'", 'wireless.ap.key', /needs a key/],
    ['key', "option encryption 'psk2'\n\toption key 'secret\npassword'", 'wireless.ap.key', /newlines/],
    ['encryption', "option encryption 'wpa2'", 'wireless.ap.encryption', /not supported by the hostapd backend/],
    ['ifname', "option ifname '../etc'", 'wireless.ap.ifname', /not an interface name/],
    ['ifname', "option ifname 'a-very-long-ifname'", 'wireless.ap.ifname', /not an interface name/],
    ['device', "option device 'radio9'", 'wireless.ap.device', /no wifi-device section 'radio9'/],
    ['list', "list ssid 'a'\n\tlist ssid 'b'", 'wireless.ap.ssid', /single value/],
  ])('refuses a bad %s with its UCI path', (_what, extra, uciPath, message) => {
    const hasIfname = extra.includes('ifname');
    const hasSsid = extra.includes('ssid') || extra === '';
    const text =
      "config wifi-iface 'ap'\n" +
      (hasIfname ? '' : "\toption ifname 'wlan0'\n") +
      (hasSsid ? '' : "\toption ssid 'Net'\n") +
      (extra ? `\t${extra}\n` : '');
    const { bsses, problems } = hostapdBsses(wireless(text), options);
    expect(bsses).toEqual([]);
    expect(problems[0]?.uciPath).toBe(uciPath);
    expect(problems[0]?.message).toMatch(message);
  });

  it('refuses bad radio values and a second BSS on the same ifname', () => {
    const radio = (opt: string) =>
      hostapdBsses(
        wireless(
          `config wifi-device 'radio0'\n\t${opt}\n\nconfig wifi-iface 'ap'\n\toption device 'radio0'\n\toption ifname 'wlan0'\n\toption ssid 'N'\n`,
        ),
        options,
      ).problems[0];
    expect(radio("option channel '300'")?.uciPath).toBe('wireless.radio0.channel');
    expect(radio("option channel 'auto'")).toBeUndefined();
    expect(radio("option band '6g'")?.message).toMatch(/^wireless\.radio0\.band: 6g needs/);
    expect(radio("option hwmode '11x'")?.uciPath).toBe('wireless.radio0.hwmode');
    expect(radio("option country 'Germany'")?.uciPath).toBe('wireless.radio0.country');
    const twice = hostapdBsses(
      wireless(
        "config wifi-iface 'a'\n\toption ifname 'wlan0'\n\toption ssid 'A'\n\nconfig wifi-iface 'b'\n\toption ifname 'wlan0'\n\toption ssid 'B'\n",
      ),
      options,
    );
    expect(twice.bsses.map((b) => b.section)).toEqual(['wireless.a']);
    expect(twice.problems[0]?.message).toBe("wireless.b.ifname: 'wlan0' is already the ifname of wireless.a");
  });

  it('reads back a file it wrote, the last of a repeated setting winning', () => {
    const parsed = parseHostapdConf('# comment\ninterface=wlan0\nssid=a=b\nssid=c\n\n');
    expect([...parsed]).toEqual([
      ['interface', 'wlan0'],
      ['ssid', 'c'],
    ]);
  });
});
