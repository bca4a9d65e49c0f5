import { describe, expect, it } from 'vitest';
import {
  createMacOf,
  macFromNeighbours,
  macOf,
  normalizeAddress,
  parseIpNeighJson,
  parseProcNetArp,
} from '../../src/portal/neighbours.js';

// Recorded in a network namespace (a bridge with a veth port; iproute2 6.1, Linux 6.x).
const PROC_NET_ARP = `IP address       HW type     Flags       HW address            Mask     Device
10.9.0.3         0x1         0x0         00:00:00:00:00:00     *        br-lan
10.9.0.2         0x1         0x2         AA:71:C6:A2:8F:DE     *        br-lan
10.9.0.4         0x1         0x6         02:00:00:00:00:04     *        br-lan
10.9.0.5         0x1         0xa         02:00:00:00:00:05     *        br-lan
10.9.0.2         0x1         0x2         02:00:00:00:00:99     *        eth1
`;

const NEIGH_REACHABLE_V4 = '[{"dst":"10.9.0.2","dev":"br-lan","lladdr":"aa:71:c6:a2:8f:de","state":["DELAY"]}]\n';
const NEIGH_V6 = '[{"dst":"fd09::2","dev":"br-lan","lladdr":"aa:71:c6:a2:8f:de","router":true,"state":["STALE"]}]\n';
const NEIGH_INCOMPLETE = '[{"dst":"10.9.0.3","dev":"br-lan","state":["INCOMPLETE"]}]\n';
const NEIGH_FAILED_V6 = '[{"dst":"fd09::7","dev":"br-lan","state":["FAILED"]}]\n';
const NEIGH_LINK_LOCAL =
  '[{"dst":"fe80::a871:c6ff:fea2:8fde","dev":"br-lan","lladdr":"aa:71:c6:a2:8f:de","state":["REACHABLE"]}]\n';

interface Call {
  argv: readonly string[];
}

function fakes(arp: string | undefined, neigh: Record<string, string>, exitCode = 0) {
  const calls: Call[] = [];
  return {
    calls,
    deps: {
      fs: { tryReadText: (path: string) => (path === '/proc/net/arp' ? arp : undefined) },
      processes: {
        run: async (argv: readonly string[]) => {
          calls.push({ argv });
          return { exitCode, stdout: neigh[argv[argv.length - 1] as string] ?? '[]', stderr: '' };
        },
      },
    },
  };
}

describe('neighbours: parsing', () => {
  it('reads complete entries of /proc/net/arp, skipping incomplete and proxy ones', () => {
    expect([...parseProcNetArp(PROC_NET_ARP)]).toEqual([
      ['10.9.0.2', 'aa:71:c6:a2:8f:de'],
      ['10.9.0.4', '02:00:00:00:00:04'],
    ]);
    expect(parseProcNetArp('')).toEqual(new Map());
  });

  it('reads ip -j neigh output, skipping INCOMPLETE and FAILED', () => {
    expect(macFromNeighbours(parseIpNeighJson(NEIGH_V6), 'fd09::2')).toBe('aa:71:c6:a2:8f:de');
    expect(macFromNeighbours(parseIpNeighJson(NEIGH_INCOMPLETE), '10.9.0.3')).toBeUndefined();
    expect(macFromNeighbours(parseIpNeighJson(NEIGH_FAILED_V6), 'fd09::7')).toBeUndefined();
    expect(parseIpNeighJson('not json')).toEqual([]);
    expect(parseIpNeighJson('')).toEqual([]);
  });

  it('normalizes addresses: v4-mapped, zones, brackets; refuses non-addresses', () => {
    expect(normalizeAddress('::ffff:10.9.0.2')).toBe('10.9.0.2');
    expect(normalizeAddress('::FFFF:10.9.0.2')).toBe('10.9.0.2');
    expect(normalizeAddress('fe80::1%br-lan')).toBe('fe80::1');
    expect(normalizeAddress('[FD09::2]')).toBe('fd09::2');
    expect(normalizeAddress('all')).toBeUndefined();
    expect(normalizeAddress('10.9.0.256')).toBeUndefined();
    expect(normalizeAddress('-h')).toBeUndefined();
  });
});

describe('neighbours: macOf', () => {
  it('answers IPv4 from /proc/net/arp without running anything', async () => {
    const { deps, calls } = fakes(PROC_NET_ARP, {});
    expect(await macOf('::ffff:10.9.0.2', deps)).toBe('aa:71:c6:a2:8f:de');
    expect(calls).toEqual([]);
  });

  it('falls back to ip neigh for IPv4 the file does not know', async () => {
    const { deps, calls } = fakes('IP address HW type Flags HW address Mask Device\n', { '10.9.0.2': NEIGH_REACHABLE_V4 });
    expect(await macOf('10.9.0.2', deps)).toBe('aa:71:c6:a2:8f:de');
    expect(calls.map((c) => c.argv)).toEqual([['ip', '-j', 'neigh', 'show', 'to', '10.9.0.2']]);
  });

  it('asks ip neigh for IPv6, without the zone', async () => {
    const { deps, calls } = fakes(PROC_NET_ARP, { 'fd09::2': NEIGH_V6, 'fe80::a871:c6ff:fea2:8fde': NEIGH_LINK_LOCAL });
    const lookup = createMacOf(deps);
    expect(await lookup('fd09::2')).toBe('aa:71:c6:a2:8f:de');
    expect(await lookup('fe80::a871:c6ff:fea2:8fde%br-lan')).toBe('aa:71:c6:a2:8f:de');
    expect(calls.map((c) => c.argv[5])).toEqual(['fd09::2', 'fe80::a871:c6ff:fea2:8fde']);
  });

  it('is undefined for incomplete entries, unknown addresses, failing ip and garbage', async () => {
    const { deps } = fakes(PROC_NET_ARP, { '10.9.0.3': NEIGH_INCOMPLETE, 'fd09::7': NEIGH_FAILED_V6 });
    expect(await macOf('10.9.0.3', deps)).toBeUndefined();
    expect(await macOf('fd09::7', deps)).toBeUndefined();
    expect(await macOf('10.9.0.77', deps)).toBeUndefined();
    expect(await macOf('not-an-ip', deps)).toBeUndefined();
    const failing = fakes(undefined, { 'fd09::2': NEIGH_V6 }, 1);
    expect(await macOf('fd09::2', failing.deps)).toBeUndefined();
    const throwing = {
      fs: { tryReadText: () => undefined },
      processes: {
        run: async () => {
          throw new Error('spawn failed');
        },
      },
    };
    expect(await macOf('fd09::2', throwing)).toBeUndefined();
  });
});
