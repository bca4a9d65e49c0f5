// The gate's scripts as text: the exact ruleset for a small config, timeouts from
// expiresAt, the incremental scripts, input validation; then the real nft checks every
// script (`nft -c`: parsed and validated by the kernel, nothing applied) inside a
// throw-away lab namespace.
import { spawnSync } from 'node:child_process';
import { isWrtkitError } from '@wrtkit/sdk';
import { labSupported } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { describe, expect, it } from 'vitest';
import {
  type GateConfig,
  MAX_TIMEOUT_MS,
  authorizeScript,
  bridgeProbeScript,
  checkGateConfig,
  fullRuleset,
  macSets,
  nftDuration,
  refillScript,
  removeScript,
} from '../../src/nft/ruleset.js';
import type { Authorization } from '../../src/vouchers/voucher.js';

const NOW = Date.UTC(2026, 0, 1); // ms
const S = NOW / 1000; // the same instant in Unix seconds

const config: GateConfig = {
  catchInterfaces: ['br-lan'],
  catchBridgedInterfaces: ['wlan0-ap'],
  allowlistIpv4: ['10.0.0.0/8', '172.16.0.0/12'],
  allowlistIpv6: ['fc00::/7'],
  portalPort: 59080,
  dnsPort: 59053,
};

const auth = (mac: string, expiresAt?: number, unrestricted = false): Authorization => ({
  mac,
  voucherId: `v-${mac.slice(-2)}`,
  unrestricted,
  ...(expiresAt !== undefined ? { expiresAt } : {}),
});

const EXPECTED = `# pirania-nftables gate: one nft transaction (nft -f -)
table inet pirania
delete table inet pirania
table inet pirania {
	set pirania-catch-ifaces {
		type ifname
		elements = { "br-lan" }
	}
	set pirania-allowlist-ipv4 {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 172.16.0.0/12 }
	}
	set pirania-allowlist-ipv6 {
		type ipv6_addr
		flags interval
		elements = { fc00::/7 }
	}
	set pirania-auth-macs {
		type ether_addr
		flags timeout
		elements = { 02:13:00:00:00:11 timeout 1h, 02:13:00:00:00:12 }
	}
	set pirania-unrestricted-macs {
		type ether_addr
		flags timeout
		elements = { 02:13:00:00:00:12 }
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		meta mark 0x9124714 jump pirania_prerouting
		meta mark != 0x9124714 iifname @pirania-catch-ifaces jump pirania_prerouting
	}
	chain pirania_prerouting {
		ether saddr @pirania-auth-macs return
		ether saddr @pirania-unrestricted-macs return
		meta l4proto { tcp, udp } th dport 53 redirect to :59053
		fib daddr type local tcp dport 80 redirect to :59080
		ip daddr @pirania-allowlist-ipv4 return
		ip6 daddr @pirania-allowlist-ipv6 return
		tcp dport 80 redirect to :59080
	}
	chain input {
		type filter hook input priority filter; policy accept;
		meta mark 0x9124714 jump pirania_input
		meta mark != 0x9124714 iifname @pirania-catch-ifaces jump pirania_input
		meta mark 0x9124714 meta mark set 0
	}
	chain pirania_input {
		ether saddr @pirania-auth-macs return
		ether saddr @pirania-unrestricted-macs return
		tcp dport 443 reject with tcp reset
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		meta mark 0x9124714 jump pirania_forward
		meta mark != 0x9124714 iifname @pirania-catch-ifaces jump pirania_forward
		meta mark 0x9124714 meta mark set 0
	}
	chain pirania_forward {
		ether saddr @pirania-auth-macs return
		ether saddr @pirania-unrestricted-macs return
		ip daddr @pirania-allowlist-ipv4 return
		ip6 daddr @pirania-allowlist-ipv6 return
		udp dport { 67, 68, 546, 547 } return
		tcp dport 443 reject with tcp reset
		drop
	}
}
table bridge pirania
delete table bridge pirania
table bridge pirania {
	set pirania-catch-bridge-ifaces {
		type ifname
		elements = { "wlan0-ap" }
	}
	chain prerouting {
		type filter hook prerouting priority dstnat; policy accept;
		iifname @pirania-catch-bridge-ifaces meta mark set 0x9124714
	}
}
`;

describe('fullRuleset', () => {
  it('is exactly this for a small config', () => {
    const auths = [
      auth('02:13:00:00:00:11', S + 3600),
      auth('02:13:00:00:00:12', undefined, true),
      auth('02:13:00:00:00:13', S - 1),
    ];
    expect(fullRuleset(config, auths, NOW)).toBe(EXPECTED);
  });

  it('leaves sets empty (nothing caught) and can leave out the bridge table', () => {
    const text = fullRuleset({ ...config, catchInterfaces: [], catchBridgedInterfaces: [] }, [], NOW, { bridge: false });
    expect(text).toContain('\tset pirania-catch-ifaces {\n\t\ttype ifname\n\t}\n');
    expect(text).toContain('\tset pirania-auth-macs {\n\t\ttype ether_addr\n\t\tflags timeout\n\t}\n');
    expect(text).not.toContain('bridge');
  });

  it('writes many elements one per line', () => {
    const auths = Array.from({ length: 6 }, (_, i) => auth(`02:00:00:00:00:${String(i).padStart(2, '0')}`, S + 60));
    expect(fullRuleset(config, auths, NOW)).toContain(
      '\t\telements = {\n\t\t\t02:00:00:00:00:00 timeout 1m,\n\t\t\t02:00:00:00:00:01 timeout 1m,\n',
    );
  });

  it('uses the configured ports', () => {
    const text = fullRuleset({ ...config, portalPort: 8081, dnsPort: 5353 }, [], NOW);
    expect(text).toContain('th dport 53 redirect to :5353\n');
    expect(text).toContain('tcp dport 80 redirect to :8081\n');
  });
});

describe('timeouts', () => {
  it('are the remaining time of each voucher', () => {
    const text = authorizeScript(
      [auth('02:00:00:00:00:01', S + 1.5), auth('02:00:00:00:00:02', S + 90061.25), auth('02:00:00:00:00:03', S + 0.0001)],
      NOW,
    );
    expect(text).toBe(
      'add element inet pirania pirania-auth-macs { 02:00:00:00:00:01 timeout 1s500ms, 02:00:00:00:00:02 timeout 1d1h1m1s250ms, 02:00:00:00:00:03 timeout 1ms }\n',
    );
  });

  it('leave out what has expired', () => {
    expect(authorizeScript([auth('02:00:00:00:00:01', S), auth('02:00:00:00:00:02', S - 3600)], NOW)).toBe('');
    expect(macSets([auth('02:00:00:00:00:01', S - 1)], NOW).auth.size).toBe(0);
  });

  it('are capped at ten years', () => {
    expect(authorizeScript([auth('02:00:00:00:00:01', S * 1000)], NOW)).toContain(`timeout ${nftDuration(MAX_TIMEOUT_MS)} }`);
    expect(nftDuration(MAX_TIMEOUT_MS)).toBe('3650d');
  });

  it('nftDuration', () => {
    expect(nftDuration(1)).toBe('1ms');
    expect(nftDuration(0.2)).toBe('1ms');
    expect(nftDuration(1000)).toBe('1s');
    expect(nftDuration(3_600_000)).toBe('1h');
    expect(nftDuration(86_400_000 + 1)).toBe('1d1ms');
  });

  it('merge a MAC authorized twice into the longer one; unrestricted MACs are in both sets', () => {
    const sets = macSets(
      [
        auth('02:00:00:00:00:01', S + 10),
        auth('02:00:00:00:00:01', S + 20),
        auth('02:00:00:00:00:02', S + 10),
        auth('02:00:00:00:00:02', undefined),
        auth('02:00:00:00:00:02', S + 30),
        auth('02:00:00:00:00:03', S + 5, true),
      ],
      NOW,
    );
    expect([...sets.auth]).toEqual([
      ['02:00:00:00:00:01', S + 20],
      ['02:00:00:00:00:02', undefined],
      ['02:00:00:00:00:03', S + 5],
    ]);
    expect([...sets.unrestricted]).toEqual([['02:00:00:00:00:03', S + 5]]);
  });
});

describe('incremental scripts', () => {
  it('authorize: one add element line per set', () => {
    expect(authorizeScript([auth('02:13:00:00:00:11', S + 3600)], NOW)).toBe(
      'add element inet pirania pirania-auth-macs { 02:13:00:00:00:11 timeout 1h }\n',
    );
    expect(authorizeScript([auth('02:13:00:00:00:12', undefined, true)], NOW)).toBe(
      'add element inet pirania pirania-auth-macs { 02:13:00:00:00:12 }\n' +
        'add element inet pirania pirania-unrestricted-macs { 02:13:00:00:00:12 }\n',
    );
  });

  it('authorize: skips MACs already in for longer, replaces shorter ones without failing on missing ones', () => {
    // what the gate remembers: 03 expired a moment ago (the kernel may not have collected it yet)
    const current = macSets([auth('02:00:00:00:00:01', S + 100), auth('02:00:00:00:00:02', S + 10)], NOW);
    current.auth.set('02:00:00:00:00:03', S - 5);
    const text = authorizeScript(
      [
        auth('02:00:00:00:00:01', S + 50),
        auth('02:00:00:00:00:02', S + 60),
        auth('02:00:00:00:00:03', S + 60),
        auth('02:00:00:00:00:04', S + 60),
      ],
      NOW,
      current,
    );
    expect(text).toBe(
      [
        'add element inet pirania pirania-auth-macs { 02:00:00:00:00:02 }',
        'delete element inet pirania pirania-auth-macs { 02:00:00:00:00:02 }',
        'add element inet pirania pirania-auth-macs { 02:00:00:00:00:02 timeout 1m }',
        'add element inet pirania pirania-auth-macs { 02:00:00:00:00:03 }',
        'delete element inet pirania pirania-auth-macs { 02:00:00:00:00:03 }',
        'add element inet pirania pirania-auth-macs { 02:00:00:00:00:03 timeout 1m }',
        'add element inet pirania pirania-auth-macs { 02:00:00:00:00:04 timeout 1m }',
        '',
      ].join('\n'),
    );
  });

  it('refill: flush both sets, re-add', () => {
    expect(refillScript([auth('02:13:00:00:00:12', S + 30), auth('02:13:00:00:00:11', S - 30)], NOW)).toBe(
      'flush set inet pirania pirania-auth-macs\n' +
        'flush set inet pirania pirania-unrestricted-macs\n' +
        'add element inet pirania pirania-auth-macs { 02:13:00:00:00:12 timeout 30s }\n',
    );
  });

  it('remove: create-then-delete, so a missing table is fine', () => {
    expect(removeScript()).toBe(
      'table inet pirania\ndelete table inet pirania\ntable bridge pirania\ndelete table bridge pirania\n',
    );
    expect(removeScript({ bridge: false })).toBe('table inet pirania\ndelete table inet pirania\n');
  });
});

describe('input', () => {
  const rejects = (fn: () => unknown, code: string, pattern: RegExp, uciPath?: string) => {
    try {
      fn();
    } catch (error) {
      expect(isWrtkitError(error)).toBe(true);
      expect((error as { code: string }).code).toBe(code);
      expect((error as Error).message).toMatch(pattern);
      if (uciPath) expect((error as { uciPath?: string }).uciPath).toBe(uciPath);
      return;
    }
    throw new Error('did not throw');
  };

  it('rejects interface names that would inject syntax', () => {
    for (const bad of ['br-lan" } ; flush ruleset ; {"', 'br lan', 'eth0;', 'a\nb', '', 'wlan0-ap-0123456', 'eth*']) {
      rejects(
        () => fullRuleset({ ...config, catchInterfaces: [bad] }, [], NOW),
        'WRTKIT_ERR_CONFIG_INVALID',
        /catch_interfaces/,
        'pirania.base_config.catch_interfaces',
      );
    }
    rejects(
      () => fullRuleset({ ...config, catchBridgedInterfaces: ['x}'] }, [], NOW),
      'WRTKIT_ERR_CONFIG_INVALID',
      /catch_bridged_interfaces: 'x}'/,
      'pirania.base_config.catch_bridged_interfaces',
    );
  });

  it('rejects bad prefixes and ports', () => {
    for (const bad of ['10.0.0.256/8', '10.0.0.0/33', '10.0.0/8', '10.0.0.0/8 }', '0x0a000000', '10.0.0.0/8, 1.2.3.4']) {
      rejects(() => checkGateConfig({ ...config, allowlistIpv4: [bad] }), 'WRTKIT_ERR_CONFIG_INVALID', /allowlist_ipv4/);
    }
    for (const bad of ['fc00::/129', 'fc00:::1', '1:2:3:4:5:6:7:8:9', 'g::1', '::1 }', '1::2::3', '::ffff:1.2.3.999']) {
      rejects(() => checkGateConfig({ ...config, allowlistIpv6: [bad] }), 'WRTKIT_ERR_CONFIG_INVALID', /allowlist_ipv6/);
    }
    rejects(() => checkGateConfig({ ...config, portalPort: 0 }), 'WRTKIT_ERR_CONFIG_INVALID', /portal_port/);
    rejects(() => checkGateConfig({ ...config, dnsPort: 70000 }), 'WRTKIT_ERR_CONFIG_INVALID', /dns_port/);
    rejects(() => checkGateConfig({ ...config, dnsPort: 53.5 }), 'WRTKIT_ERR_CONFIG_INVALID', /dns_port/);
  });

  it('rejects bad MACs and expiry times, naming the voucher', () => {
    for (const bad of ['02:13:00:00:00', '02-13-00-00-00-11', '02:13:00:00:00:11 }', '02:13:00:00:00:1g', '']) {
      rejects(() => authorizeScript([auth(bad, S + 10)], NOW), 'WRTKIT_ERR_INVALID_ARGUMENT', /MAC address/);
    }
    rejects(
      () => authorizeScript([{ mac: '02:13:00:00:00:11', voucherId: 'XYZ', unrestricted: false, expiresAt: NaN }], NOW),
      'WRTKIT_ERR_INVALID_ARGUMENT',
      /voucher XYZ/,
    );
  });

  it('normalizes: lower-case MACs, masked prefixes, nested prefixes dropped, canonical IPv6', () => {
    expect(authorizeScript([auth('02:AB:00:00:00:11')], NOW)).toContain('{ 02:ab:00:00:00:11 }');
    const c = checkGateConfig({
      ...config,
      allowlistIpv4: ['192.168.1.7/24', '10.13.0.0/16', '10.0.0.0/8', '10.0.0.0/8', '198.51.100.2'],
      allowlistIpv6: ['FD13:0:0::1/64', 'fd00::/8', '2001:DB8:0:0:1:0:0:1', '::ffff:192.0.2.1', '::/0'],
    });
    expect(c.allowlistIpv4).toEqual(['192.168.1.0/24', '10.0.0.0/8', '198.51.100.2/32']);
    expect(c.allowlistIpv6).toEqual(['::/0']);
    expect(
      checkGateConfig({
        ...config,
        allowlistIpv6: ['FD13:0:0::1/64', '2001:DB8:0:0:1:0:0:1', '::ffff:192.0.2.1', '2001:db8:0:1::/64'],
      }).allowlistIpv6,
    ).toEqual(['fd13::/64', '2001:db8::1:0:0:1/128', '::ffff:c000:201/128', '2001:db8:0:1::/64']);
  });
});

// ---------------------------------------------------------------------------------------
// the real nft, check mode, in a namespace of our own

const nftPresent = spawnSync('nft', ['--version'], { stdio: 'ignore' }).status === 0;
const support = labSupported();
const why = !support.ok ? support.reason : !nftPresent ? 'nft is not installed' : '';

describe.skipIf(why !== '')(`nft -c accepts every script${why ? ` (skipped: ${why})` : ''}`, () => {
  const lab = useLab({ nodes: { nft: {} } });
  const check = async (script: string) => {
    const result = await lab().node('nft').run(['nft', '-c', '-f', '-'], { input: script, timeoutMs: 15_000 });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  };

  it('the full ruleset, then authorize, replace, refill and remove in the same transaction', async () => {
    const current = macSets([auth('02:13:00:00:00:11', S + 60)], NOW);
    await check(
      fullRuleset(
        { ...config, allowlistIpv4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], allowlistIpv6: ['fc00::/7', 'fe80::/64'] },
        [auth('02:13:00:00:00:11', S + 60), auth('02:13:00:00:00:12', undefined, true)],
        NOW,
      ) +
        authorizeScript([auth('02:13:00:00:00:13', S + 3600), auth('02:13:00:00:00:11', S + 7200, true)], NOW, current) +
        refillScript([auth('02:13:00:00:00:14', S + 10, true)], NOW) +
        removeScript(),
    );
  });

  it('empty sets, no bridge table, and the bridge probe', async () => {
    await check(
      fullRuleset({ ...config, catchInterfaces: [], catchBridgedInterfaces: [], allowlistIpv4: [], allowlistIpv6: [] }, [], NOW, {
        bridge: false,
      }),
    );
    await check(bridgeProbeScript());
  });

  it('10,000 MACs and the longest timeout', async () => {
    const auths = Array.from({ length: 10_000 }, (_, i) =>
      auth(
        `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        i % 2 ? S + i : undefined,
      ),
    );
    await check(fullRuleset(config, [...auths, auth('02:ff:00:00:00:01', S + 1e9)], NOW));
  });
});
