/**
 * A real client — router — server network of three namespaces: IPv4 and IPv6 forwarded
 * end to end (ping both families, a TCP transfer both families), and not forwarded when
 * the router's forwarding is off. Plus the spec's static MAC, interface names, bridges,
 * validation, and teardown.
 */
import { describe, expect, it } from 'vitest';
import { LabSpecError, createLab, leftovers } from '../../src/lab/index.js';
import { testLab, useLab } from '../../src/lab/vitest.js';
import { skipNote, support, tcpTransfer, threeNodes } from './support.js';

const ping = (target: string) => ['ping', '-c1', '-W2', target];
/** For pings that must fail: do not wait long. */
const pingOnce = (target: string) => ['ping', '-c1', '-W1', target];

describe.skipIf(!support.ok)(`lab: client — router — server${skipNote}`, () => {
  const lab = useLab(threeNodes());

  it('forwards IPv4 and IPv6 end to end: ping and TCP', async () => {
    const client = lab().node('client');
    for (const target of ['10.2.0.2', 'fd02::2']) {
      const r = await client.run(ping(target), { timeoutMs: 5_000 });
      expect(r.exitCode, `${target}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/1 received/);
    }
    for (const target of ['10.2.0.2', 'fd02::2']) {
      const r = await tcpTransfer(lab(), 'client', 'server', target, 4 << 20);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const { sent, received } = JSON.parse(r.stdout) as { sent: unknown; received: unknown };
      expect(received).toEqual(sent);
      expect(sent).toMatchObject({ bytes: 4 << 20 });
    }
  });

  it('names interfaces after the peer, sets the static MAC, keeps lo up', async () => {
    const router = lab().node('router');
    expect(router.ifname('client')).toBe('eth-client');
    expect(router.ifname('server')).toBe('eth-server');
    expect(router.interfaces()).toEqual(['eth-client', 'eth-server']);
    expect(lab().node('server').address('router', 6)).toBe('fd02::2');
    const server = lab().node('server');
    expect(await server.ip(['link', 'show', 'eth-router'])).toContain('02:00:00:00:00:02');
    expect(await server.ip(['link', 'show', 'lo'])).toMatch(/state UNKNOWN|LOWER_UP/);
    // the router reaches the server by the MAC we chose
    await router.run(ping('10.2.0.2'), { check: true });
    expect(await router.ip(['neigh', 'show', '10.2.0.2'])).toContain('02:00:00:00:00:02');
    // IPv6 addresses are usable at once: none tentative
    expect(await server.ip(['-6', 'addr', 'show'])).not.toMatch(/tentative/);
  });

  it('does not forward when the router forwarding is off, and does again when on', async () => {
    const router = lab().node('router');
    const client = lab().node('client');
    await router.setForwarding(false);
    try {
      for (const target of ['10.2.0.2', 'fd02::2']) {
        const r = await client.run(pingOnce(target), { timeoutMs: 5_000 });
        expect(r.exitCode, `${target} must not answer with forwarding off`).not.toBe(0);
        const tcp = await tcpTransfer(lab(), 'client', 'server', target, 1 << 20);
        expect(tcp.exitCode, `TCP to ${target} must fail: ${tcp.stdout}`).toBe(2);
      }
      // the router itself still reaches both sides
      await router.run(ping('10.2.0.2'), { check: true });
      await router.run(ping('fd01::2'), { check: true });
    } finally {
      await router.setForwarding(true);
    }
    await client.run(ping('10.2.0.2'), { check: true });
    await client.run(ping('fd02::2'), { check: true });
  }, 60_000);
});

describe.skipIf(!support.ok)(`lab: spec and lifecycle${skipNote}`, () => {
  it('nodes do not forward unless asked, whatever the host does', async () => {
    const lab = await testLab(threeNodes({ forwarding: false }));
    const r = await lab.node('client').run(pingOnce('10.2.0.2'));
    expect(r.exitCode).not.toBe(0);
    expect((await lab.node('router').run(['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
  });

  it('bridges link ends: two clients on br-lan reach each other and the router', async () => {
    const lab = await testLab({
      nodes: { a: {}, b: {}, router: {} },
      links: [
        { a: 'a', b: 'router', addresses: { a: ['10.5.0.2/24', 'fd05::2/64'] } },
        { a: 'b', b: 'router', addresses: { b: ['10.5.0.3/24', 'fd05::3/64'] } },
      ],
      bridges: [{ node: 'router', name: 'br-lan', ports: ['a', 'eth-b'], addresses: ['10.5.0.1/24', 'fd05::1/64'] }],
    });
    await lab.node('a').run(ping('10.5.0.3'), { check: true });
    await lab.node('a').run(ping('fd05::3'), { check: true });
    await lab.node('b').run(ping('10.5.0.1'), { check: true });
    expect(await lab.node('router').ip(['link', 'show', 'master', 'br-lan'])).toMatch(/eth-a[\s\S]*eth-b/);
    expect(lab.node('router').address('br-lan')).toBe('10.5.0.1');
  });

  it('rejects a bad spec before creating anything, with the path of the mistake', async () => {
    const prefix = `wklbad${process.pid % 1000}`;
    await expect(createLab({ prefix, nodes: { a: {} }, links: [{ a: 'a', b: 'nowhere' }] })).rejects.toThrow(
      /links\[0\] \(a—nowhere\): no node 'nowhere'/,
    );
    await expect(
      createLab({ prefix, nodes: { a: {}, b: {} }, links: [{ a: 'a', b: 'b', addresses: { a: ['10.0.0.1'] } }] }),
    ).rejects.toThrow(LabSpecError);
    await expect(
      createLab({ prefix, nodes: { a: {}, b: {} }, links: [{ a: 'a', b: 'b', names: { a: 'much-too-long-name' } }] }),
    ).rejects.toThrow(/15 characters/);
    await expect(
      createLab({ prefix, nodes: { a: {}, b: {} }, links: [{ a: 'a', b: 'b', shape: { rate: '20 furlongs' } }] }),
    ).rejects.toThrow(/not a rate like 20mbit/);
    expect(leftovers(prefix)).toEqual({ namespaces: [], processes: [], dirs: [], registries: [] });
  });

  it('a failure halfway through building tears down what was made', async () => {
    const prefix = `wklhalf${process.pid % 1000}`;
    await expect(
      createLab({
        prefix,
        nodes: { a: {}, b: {} },
        links: [{ a: 'a', b: 'b', addresses: { a: ['10.6.0.1/24'] } }],
        routes: { a: ['10.7.0.0/16 via 10.99.0.1'] }, // unreachable gateway: ip refuses
      }),
    ).rejects.toThrow(/ip -n wklhalf\d+-a route add 10\.7\.0\.0\/16 via 10\.99\.0\.1/);
    expect(leftovers(prefix)).toEqual({ namespaces: [], processes: [], dirs: [], registries: [] });
  });

  it('destroy kills what runs inside, deletes namespaces and temp dirs; twice is fine', async () => {
    const lab = await createLab(threeNodes());
    const sleeper = lab.node('server').spawn(['sleep', '600']);
    const dir = lab.tempDir('scratch');
    await expect.poll(() => lab.node('server').pids()).toContain(sleeper.pid);
    // (until `ip netns exec` has exec'd, the process is still called ip)
    await expect.poll(() => leftovers(lab.prefix).processes.map((p) => p.command)).toEqual(['sleep 600']);
    const seen = leftovers(lab.prefix);
    expect(seen.namespaces).toEqual([`${lab.prefix}-client`, `${lab.prefix}-router`, `${lab.prefix}-server`]);
    expect(seen.processes).toEqual([{ pid: sleeper.pid, netns: `${lab.prefix}-server`, command: 'sleep 600' }]);
    expect(seen.dirs).toContain(dir);
    await lab.destroy();
    await lab.destroy();
    expect(sleeper.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
    expect(leftovers(lab.prefix)).toEqual({ namespaces: [], processes: [], dirs: [], registries: [] });
    expect(() => lab.node('client').spawn(['true'])).toThrow(/destroyed/);
  });
});
