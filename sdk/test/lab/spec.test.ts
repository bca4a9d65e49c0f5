/**
 * The lab spec's validation and naming, without creating anything (runs without root).
 */
import { describe, expect, it } from 'vitest';
import { normalizeShape, normalizeSpec, parseRate, resolvePort, routeWords } from '../../src/lab/spec.js';

describe('lab spec', () => {
  it('names link ends eth-<peer>, numbering a second link between the same nodes, ≤ 15 characters', () => {
    const spec = normalizeSpec({
      nodes: { a: {}, b: {}, 'a-very-long-node-name': {} },
      links: [
        { a: 'a', b: 'b' },
        { a: 'a', b: 'b' },
        { a: 'a', b: 'a-very-long-node-name', names: { 'a-very-long-node-name': 'uplink' } },
      ],
    });
    expect(spec.links.map((l) => l.ends.map((e) => e.ifname))).toEqual([
      ['eth-b', 'eth-a'],
      ['eth-b1', 'eth-a1'],
      ['eth-a-very-long', 'uplink'],
    ]);
    expect(resolvePort(spec.links, 'a', 'b')).toBe('eth-b');
    expect(resolvePort(spec.links, 'a', 'eth-b1')).toBe('eth-b1');
    expect(resolvePort(spec.links, 'a', 'nowhere')).toBeUndefined();
  });

  it('says where the mistake is', () => {
    const bad = (spec: Parameters<typeof normalizeSpec>[0]) => () => normalizeSpec(spec);
    expect(bad({ nodes: {} })).toThrow(/at least one node/);
    expect(bad({ nodes: { 'bad name': {} } })).toThrow(/node name 'bad name'/);
    expect(bad({ nodes: { a: {} }, links: [{ a: 'a', b: 'a' }] })).toThrow(/two different nodes/);
    expect(bad({ nodes: { a: {}, b: {} }, links: [{ a: 'a', b: 'b', addresses: { c: ['10.0.0.1/24'] } }] })).toThrow(
      /links\[0\] \(a—b\)\.addresses: 'c' is not an end of this link/,
    );
    expect(bad({ nodes: { a: {}, b: {} }, links: [{ a: 'a', b: 'b', addresses: { a: ['fd00::1'] } }] })).toThrow(/prefix length/);
    expect(bad({ nodes: { a: {}, b: {} }, links: [{ a: 'a', b: 'b', mac: { a: '02:00:00:00:00' } }] })).toThrow(/not a MAC/);
    expect(bad({ nodes: { a: {}, b: {} }, links: [{ a: 'a', b: 'b', names: { a: 'lo' } }] })).toThrow(/not lo/);
    expect(bad({ nodes: { a: {}, b: {} }, links: [{ a: 'a', b: 'b', shape: { rate: '1mbit', from: 'c' } }] })).toThrow(
      /shape\.from: 'c'/,
    );
    expect(
      bad({
        nodes: { a: {} },
        bridges: [
          { node: 'a', name: 'br-lan', ports: [] },
          { node: 'a', name: 'br-lan', ports: [] },
        ],
      }),
    ).toThrow(/already used/);
    expect(bad({ nodes: { a: {} }, routes: { a: ['ip route add default via 10.0.0.1'] } })).toThrow(/without 'ip route add'/);
    expect(bad({ nodes: { a: {} }, prefix: 'Has-Caps' })).toThrow(/prefix 'Has-Caps'/);
  });

  it('reads tc rates and durations', () => {
    expect(parseRate('20mbit')).toBe(20e6);
    expect(parseRate('1.5gbit')).toBe(1.5e9);
    expect(parseRate('512kbit')).toBe(512e3);
    expect(parseRate(1e6)).toBe(1e6);
    expect(() => parseRate('20mbps')).toThrow(/not a rate/);
    expect(normalizeShape({ rate: '20mbit' }, 's')).toEqual({ rateBits: 20e6, burstBytes: 25_000, latencyUs: 50_000 });
    expect(normalizeShape({ rate: '1mbit' }, 's').burstBytes).toBe(15_140); // at least 10 frames
    expect(normalizeShape({ delay: '20ms', jitter: 5, loss: 1 }, 's')).toEqual({ delayUs: 20_000, jitterUs: 5_000, loss: 1 });
    expect(() => normalizeShape({ jitter: '1ms' }, 's')).toThrow(/jitter needs delay/);
    expect(() => normalizeShape({}, 's')).toThrow(/give rate, delay or loss/);
    expect(routeWords('default  via 10.0.0.1 ', 'r')).toEqual(['default', 'via', '10.0.0.1']);
  });
});
