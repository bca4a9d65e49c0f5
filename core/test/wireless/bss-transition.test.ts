// BSS Transition Management requests in OpenWrt's words (hostapd.<ifname>
// bss_transition_request) → hostapd's BSS_TM_REQ control command.
import { describe, expect, it } from 'vitest';
import { bssTransitionCommand, neighborArgument, neighborReport } from '../../src/compose/wireless/bss-transition.js';
import { parseHostapdEvent } from '../../src/compose/wireless/hostapd-events.js';

describe('bssTransitionCommand', () => {
  it('the steering request of the Wi-Fi lab: preferred candidate, abridged, disassociation imminent', () => {
    const neighbor = neighborReport({ bssid: '02:00:00:00:01:00', opClass: 81, channel: 1, phyType: 7, preference: 255 });
    expect(neighbor).toBe('020000000100000000005101070301ff');
    expect(
      bssTransitionCommand({
        addr: '02:00:00:00:02:00',
        neighbors: [neighbor],
        abridged: true,
        disassociation_imminent: true,
        disassociation_timer: 100,
      }),
    ).toBe(
      'BSS_TM_REQ 02:00:00:00:02:00 disassoc_imminent=1 disassoc_timer=100 pref=1 abridged=1 neighbor=02:00:00:00:01:00,0x0000,81,1,7,0301ff',
    );
  });

  it('a bare request; validity and dialog token; BSSID information little endian', () => {
    expect(bssTransitionCommand({ addr: 'AA:BB:CC:DD:EE:FF' })).toBe('BSS_TM_REQ aa:bb:cc:dd:ee:ff');
    expect(bssTransitionCommand({ addr: 'aa:bb:cc:dd:ee:ff', validity_period: 20, dialog_token: 7 })).toBe(
      'BSS_TM_REQ aa:bb:cc:dd:ee:ff dialog_token=7 valid_int=20',
    );
    expect(
      neighborArgument(neighborReport({ bssid: '02:00:00:00:01:00', bssidInfo: 0x8f, opClass: 115, channel: 36, phyType: 9 })),
    ).toBe('neighbor=02:00:00:00:01:00,0x008f,115,36,9');
  });

  it('refuses what is not a MAC or a neighbor report', () => {
    expect(() => bssTransitionCommand({ addr: 'nope' })).toThrow(/addr 'nope' is not a MAC address/);
    expect(() => bssTransitionCommand({ addr: 'aa:bb:cc:dd:ee:ff', neighbors: ['0102'] })).toThrow(/not a neighbor report/);
    expect(() => bssTransitionCommand({ addr: 'aa:bb:cc:dd:ee:ff', neighbors: ['zz'.repeat(13)] })).toThrow(
      /not a neighbor report/,
    );
  });
});

describe('parseHostapdEvent', () => {
  it('station events', () => {
    expect(parseHostapdEvent('wlan0', '<3>AP-STA-CONNECTED 02:00:00:00:02:00')).toEqual({
      ifname: 'wlan0',
      mac: '02:00:00:00:02:00',
      event: 'assoc',
    });
    expect(parseHostapdEvent('wlan0', '<3>AP-STA-CONNECTED 02:00:00:00:02:AA keyid=x')).toMatchObject({
      mac: '02:00:00:00:02:aa',
    });
    expect(parseHostapdEvent('wlan1', '<3>AP-STA-DISCONNECTED 02:00:00:00:02:00')).toEqual({
      ifname: 'wlan1',
      mac: '02:00:00:00:02:00',
      event: 'disassoc',
    });
  });

  it('other events are not station events', () => {
    expect(parseHostapdEvent('wlan0', '<3>AP-ENABLED ')).toBeUndefined();
    expect(parseHostapdEvent('wlan0', '<3>BSS-TM-RESP 02:00:00:00:02:00 dialog_token=1 status_code=0')).toBeUndefined();
    expect(parseHostapdEvent('wlan0', 'OK')).toBeUndefined();
  });
});
