import { UciPackage } from '@wrtkit/sdk';
import { describe, expect, it } from 'vitest';
import {
  type DhcpComposeIssue,
  captiveApiUrl,
  captivePortalDhcpOptions,
  captiveState,
  composeCaptivePortalDhcp,
  isCaptivePortalDhcpOption,
} from '../../src/portal/capport.js';

const API = 'http://thisnode.info:59080/api/captive';

function dhcp(): UciPackage {
  const pkg = new UciPackage('dhcp');
  pkg.addSection('dnsmasq');
  const lan = pkg.addSection('dhcp', 'lan');
  lan.set('interface', 'lan');
  lan.set('dhcp_option', ['6,10.0.0.1', '114,http://old.example/api', '42,10.0.0.9']);
  const guest = pkg.addSection('dhcp', 'guest');
  guest.set('interface', 'guest');
  const wan = pkg.addSection('dhcp', 'wan');
  wan.set('ignore', '1');
  wan.set('dhcp_option', `114,${API}`);
  pkg.addSection('odhcpd', 'odhcpd');
  return pkg;
}

const options = (pkg: UciPackage, name: string) => pkg.section(name)?.get('dhcp_option');

describe('captive-portal API state (RFC 8908)', () => {
  const now = 1_000_000_000;
  it('is captive without an authorization or once it ended', () => {
    expect(captiveState(undefined, 'http://p/', now)).toEqual({
      captive: true,
      'user-portal-url': 'http://p/',
      'can-extend-session': false,
    });
    const ended = { mac: 'aa:bb:cc:dd:ee:ff', voucherId: 'x', unrestricted: false, expiresAt: now / 1000 - 1 };
    expect(captiveState(ended, 'http://p/', now).captive).toBe(true);
  });

  it('gives the seconds remaining, or none for permanent access', () => {
    const auth = { mac: 'aa:bb:cc:dd:ee:ff', voucherId: 'x', unrestricted: false };
    expect(captiveState({ ...auth, expiresAt: now / 1000 + 90.7 }, 'http://p/', now)).toEqual({
      captive: false,
      'user-portal-url': 'http://p/',
      'seconds-remaining': 90,
      'can-extend-session': false,
    });
    expect(captiveState(auth, 'http://p/', now)).toEqual({
      captive: false,
      'user-portal-url': 'http://p/',
      'can-extend-session': false,
    });
  });

  it('derives the API URL from the portal URL', () => {
    expect(captiveApiUrl('http://thisnode.info:59080/')).toBe(API);
    expect(captiveApiUrl('https://portal.example/welcome?x=1')).toBe('https://portal.example/api/captive');
    expect(() => captiveApiUrl('ftp://x/')).toThrow(TypeError);
  });
});

describe('captive-portal DHCP options (RFC 8910)', () => {
  it('are DHCPv4 option 114 and DHCPv6 option 103 in dnsmasq syntax', () => {
    expect(captivePortalDhcpOptions(API)).toEqual([`114,${API}`, `option6:103,${API}`]);
    expect(() => captivePortalDhcpOptions('http://a b/')).toThrow(TypeError);
    expect(isCaptivePortalDhcpOption('option:114,x')).toBe(true);
    expect(isCaptivePortalDhcpOption('tag:guest,114,x')).toBe(true);
    expect(isCaptivePortalDhcpOption('option6:103,x')).toBe(true);
    expect(isCaptivePortalDhcpOption('1140,x')).toBe(false);
    expect(isCaptivePortalDhcpOption('option:103,x')).toBe(false);
  });

  it('puts exactly our values in the named sections, keeping the others', () => {
    const issues: DhcpComposeIssue[] = [];
    const pkg = composeCaptivePortalDhcp(dhcp(), ['lan', 'guest'], API, { onIssue: (i) => issues.push(i) });
    expect(options(pkg, 'lan')).toEqual(['6,10.0.0.1', '42,10.0.0.9', `114,${API}`, `option6:103,${API}`]);
    expect(options(pkg, 'guest')).toEqual([`114,${API}`, `option6:103,${API}`]);
    // a dhcp section not named loses our value (e.g. taken off the list earlier)
    expect(options(pkg, 'wan')).toBeUndefined();
    expect(pkg.section('wan')?.get('ignore')).toBe('1');
    expect(issues).toEqual([]);
  });

  it('is idempotent', () => {
    const once = composeCaptivePortalDhcp(dhcp(), ['lan'], API);
    const before = once.clone();
    const twice = composeCaptivePortalDhcp(once, ['lan'], API);
    expect(twice.sections.map((s) => [s.name, s.options()])).toEqual(before.sections.map((s) => [s.name, s.options()]));
  });

  it('reports named sections that are missing or of another type, and leaves them alone', () => {
    const issues: DhcpComposeIssue[] = [];
    const pkg = composeCaptivePortalDhcp(dhcp(), ['lan', 'nowhere', 'odhcpd'], API, { onIssue: (i) => issues.push(i) });
    expect(issues).toEqual([
      { section: 'nowhere', reason: 'missing' },
      { section: 'odhcpd', reason: 'not a dhcp section' },
    ]);
    expect(pkg.section('odhcpd')?.options()).toEqual([]);
    expect(pkg.section('nowhere')).toBeUndefined();
  });

  it('withdraws our values (current and previous URLs) with no sections, and only ours', () => {
    const pkg = composeCaptivePortalDhcp(dhcp(), ['lan'], API);
    pkg.section('guest')?.set('dhcp_option', ['114,http://someone-else/api', 'option6:103,http://old.example/api']);
    composeCaptivePortalDhcp(pkg, [], 'http://new.example:59080/api/captive', { previousUrls: [API, 'http://old.example/api'] });
    expect(options(pkg, 'lan')).toEqual(['6,10.0.0.1', '42,10.0.0.9']);
    expect(options(pkg, 'guest')).toEqual(['114,http://someone-else/api']);
  });
});
