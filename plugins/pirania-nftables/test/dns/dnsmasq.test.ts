import { FakeClock } from '@wrtkit/core';
import type { PluginProcesses, ProcessResult, RunOptions } from '@wrtkit/sdk';
import { describe, expect, it } from 'vitest';
import { bridgeMasterOf, globalAddresses, routerAddresses } from '../../src/dns/addresses.js';
import { dnsmasqConfig, isIPv6Literal } from '../../src/dns/dnsmasq.js';
import { PortalResolver } from '../../src/dns/resolver.js';
import { recordingLogger, type LogEntry } from '../portal/helpers.js';

describe('dnsmasqConfig', () => {
  it('answers the portal domain and every other name with the router, locally only', () => {
    const text = dnsmasqConfig({
      port: 59053,
      portalDomain: 'thisnode.info',
      ipv4: '10.1.0.1',
      ipv6: 'fd01::1',
      pidFile: '/var/run/p.pid',
    });
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual([
      'port=59053',
      'bind-dynamic',
      'no-resolv',
      'no-poll',
      'no-hosts',
      'cache-size=0',
      'local-ttl=0',
      'log-facility=-',
      'pid-file=/var/run/p.pid',
      'address=/thisnode.info/10.1.0.1',
      'address=/thisnode.info/fd01::1',
      'address=/#/10.1.0.1',
      'address=/#/fd01::1',
    ]);
    expect(text).not.toMatch(/dhcp|server=|enable-ubus|conf-dir/);
  });

  it('writes only the families it has, interfaces and user when given, and no pid file by default', () => {
    const text = dnsmasqConfig({
      port: 5353,
      portalDomain: 'Portal.Lan.',
      ipv4: '192.168.1.1',
      interfaces: ['br-lan'],
      user: 'dnsmasq',
    });
    expect(text).toContain('interface=br-lan\n');
    expect(text).toContain('user=dnsmasq\n');
    expect(text).toContain('pid-file=\n');
    expect(text).toContain('address=/portal.lan/192.168.1.1\naddress=/#/192.168.1.1\n');
    expect(text).not.toContain('::');
  });

  it('refuses values that could inject conf lines', () => {
    const base = { port: 59053, portalDomain: 'thisnode.info', ipv4: '10.1.0.1' };
    expect(() => dnsmasqConfig({ ...base, portalDomain: 'a.b\nserver=8.8.8.8' })).toThrow(/portal domain/);
    expect(() => dnsmasqConfig({ ...base, ipv4: '10.1.0.1\ndhcp-range=x' })).toThrow(/IPv4/);
    expect(() => dnsmasqConfig({ ...base, ipv6: 'fd01::1\nx' })).toThrow(/IPv6/);
    expect(() => dnsmasqConfig({ ...base, port: 0 })).toThrow(/port/);
    expect(() => dnsmasqConfig({ ...base, pidFile: 'rel/x.pid' })).toThrow(/pid file/);
    expect(() => dnsmasqConfig({ ...base, interfaces: ['br lan'] })).toThrow(/interface/);
    try {
      dnsmasqConfig({ ...base, port: 70000 });
    } catch (error) {
      expect((error as { code: string }).code).toBe('WRTKIT_ERR_INVALID_ARGUMENT');
    }
  });

  it('knows IPv6 literals', () => {
    for (const ok of ['::1', 'fd01::1', '2001:db8:0:0:0:0:0:1', '::ffff:10.0.0.1', 'fe80::a871:c6ff:fea2:8fde'])
      expect(isIPv6Literal(ok), ok).toBe(true);
    for (const bad of ['1::2::3', '12345::', ':', '10.0.0.1', 'g::1', '1:2:3:4:5:6:7:8:9'])
      expect(isIPv6Literal(bad), bad).toBe(false);
  });
});

// Recorded with iproute2 6.1 in a namespace: br-lan with a veth port eth0.
const LINK_PORT =
  '[{"ifindex":3,"ifname":"eth0","flags":["UP"],"master":"br-lan","operstate":"UP","linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"forwarding"}}}]';
const LINK_BRIDGE =
  '[{"ifindex":2,"ifname":"br-lan","flags":["UP"],"operstate":"UP","linkinfo":{"info_kind":"bridge","info_data":{"stp_state":0}}}]';
const LINK_BOND_MEMBER =
  '[{"ifindex":4,"ifname":"eth1","master":"bond0","linkinfo":{"info_kind":"veth","info_slave_kind":"bond"}}]';
const ADDR_BRIDGE =
  '[{"ifindex":2,"ifname":"br-lan","addr_info":[{"family":"inet6","local":"fe80::c01e:50ff:fe20:8e64","prefixlen":64,"scope":"link"},{"family":"inet6","local":"2001:db8::1","prefixlen":64,"scope":"global","tentative":true},{"family":"inet","local":"10.9.0.1","prefixlen":24,"scope":"global","label":"br-lan"},{"family":"inet6","local":"fd09::1","prefixlen":64,"scope":"global","nodad":true},{"family":"inet","local":"10.9.0.9","prefixlen":24,"scope":"global"}]}]';
const ADDR_PORT =
  '[{"ifindex":3,"ifname":"eth0","master":"br-lan","addr_info":[{"family":"inet6","local":"fe80::c01e:50ff:fe20:8e64","prefixlen":64,"scope":"link"}]}]';

function ipFake(outputs: Record<string, string>) {
  const calls: string[] = [];
  return {
    calls,
    run: async (argv: readonly string[]) => {
      const key = argv.join(' ');
      calls.push(key);
      const stdout = outputs[key];
      return stdout === undefined
        ? { exitCode: 1, stdout: '', stderr: 'Device does not exist.' }
        : { exitCode: 0, stdout, stderr: '' };
    },
  };
}

describe('routerAddresses', () => {
  it('parses bridge ports and global addresses', () => {
    expect(bridgeMasterOf(LINK_PORT)).toBe('br-lan');
    expect(bridgeMasterOf(LINK_BRIDGE)).toBeUndefined();
    expect(bridgeMasterOf(LINK_BOND_MEMBER)).toBeUndefined();
    expect(globalAddresses(ADDR_BRIDGE)).toEqual({ ipv4: '10.9.0.1', ipv6: 'fd09::1' });
    expect(globalAddresses(ADDR_PORT)).toEqual({});
    expect(globalAddresses('oops')).toEqual({});
  });

  it("takes a bridge port's addresses from its bridge, skipping missing interfaces", async () => {
    const ip = ipFake({
      'ip -d -j link show dev eth0': LINK_PORT,
      'ip -j addr show dev br-lan': ADDR_BRIDGE,
      'ip -d -j link show dev br-lan': LINK_BRIDGE,
    });
    expect(await routerAddresses(ip, ['wlan9', 'eth0', 'br-lan'])).toEqual({ ipv4: '10.9.0.1', ipv6: 'fd09::1' });
    expect(ip.calls).toEqual(['ip -d -j link show dev wlan9', 'ip -d -j link show dev eth0', 'ip -j addr show dev br-lan']);
    expect(await routerAddresses(ipFake({}), ['br-lan'])).toEqual({});
  });
});

/** A fake dnsmasq: spawn records, kill ends it, crash() ends the newest on its own. */
class FakeProcesses implements PluginProcesses {
  readonly spawned: Array<{
    argv: readonly string[];
    options?: RunOptions;
    signals: string[];
    finish: (code: number | null, signal: number | null) => void;
  }> = [];
  private pid = 100;

  run(): Promise<ProcessResult> {
    throw new Error('not used');
  }

  spawn(argv: readonly string[], options?: RunOptions) {
    let end!: (r: ProcessResult) => void;
    const exited = new Promise<ProcessResult>((resolve) => (end = resolve));
    const signals: string[] = [];
    let done = false;
    const finish = (code: number | null, signal: number | null) => {
      if (done) return;
      done = true;
      end({ argv, exitCode: code, signal, stdout: '', stderr: '', timedOut: false, durationMs: 1 });
    };
    const kill = (s: string = 'SIGTERM') => {
      signals.push(s);
      finish(null, s === 'SIGKILL' ? 9 : 15);
    };
    this.spawned.push({ argv, ...(options ? { options } : {}), signals, finish });
    return { pid: this.pid++, argv, exited, kill };
  }

  crash(): void {
    this.spawned[this.spawned.length - 1]?.finish(2, null);
  }
}

function memoryFs() {
  const files = new Map<string, string>();
  return {
    files,
    writeAtomic: (path: string, text: string) => void files.set(path, text),
    mkdirp: () => undefined,
    remove: (path: string) => void files.delete(path),
  };
}

describe('PortalResolver (fake dnsmasq, fake clock)', () => {
  const settings = { port: 59053, portalDomain: 'thisnode.info', ipv4: '10.1.0.1' };

  function setup() {
    const processes = new FakeProcesses();
    const fs = memoryFs();
    const clock = new FakeClock();
    const logs: LogEntry[] = [];
    const resolver = new PortalResolver(processes, fs, clock, recordingLogger(logs), '/var/run/pirania/');
    return { processes, fs, clock, logs, resolver };
  }

  it('writes the conf and runs dnsmasq in the foreground on it', async () => {
    const { processes, fs, resolver, logs } = setup();
    resolver.start(settings);
    expect(fs.files.get('/var/run/pirania/portal-dnsmasq.conf')).toContain('address=/#/10.1.0.1');
    expect(fs.files.get('/var/run/pirania/portal-dnsmasq.conf')).toContain('pid-file=/var/run/pirania/portal-dnsmasq.pid');
    expect(processes.spawned.map((s) => s.argv)).toEqual([
      ['dnsmasq', '--keep-in-foreground', '--conf-file=/var/run/pirania/portal-dnsmasq.conf'],
    ]);
    processes.spawned[0]?.options?.onStderrLine?.('dnsmasq[12]: started, version 2.90 cache disabled');
    processes.spawned[0]?.options?.onStderrLine?.(
      'dnsmasq[12]: failed to create listening socket for port 59053: Address in use',
    );
    expect(logs.filter((l) => l.message.startsWith('dnsmasq:'))).toEqual([
      { level: 'info', message: 'dnsmasq: started, version 2.90 cache disabled' },
      { level: 'warn', message: 'dnsmasq: failed to create listening socket for port 59053: Address in use' },
    ]);
    await resolver.stop();
  });

  it('restarts a dnsmasq that exits with backoff 1 s, 2 s, 4 s … 60 s, reset after a healthy run', async () => {
    const { processes, clock, resolver } = setup();
    resolver.start(settings);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      processes.crash();
      await clock.advance(0);
      const before = processes.spawned.length;
      let waited = 0;
      while (processes.spawned.length === before) {
        await clock.advance(500);
        waited += 500;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    await clock.advance(60_000); // healthy for a minute
    processes.crash();
    await clock.advance(1000);
    expect(processes.spawned).toHaveLength(10);
    await resolver.stop();
  });

  it('restarts on update only when the conf changed', async () => {
    const { processes, fs, clock, resolver } = setup();
    expect(resolver.update(settings)).toBe(false); // not started: nothing
    expect(processes.spawned).toHaveLength(0);
    resolver.start(settings);
    expect(resolver.update({ ...settings })).toBe(false);
    expect(processes.spawned).toHaveLength(1);
    expect(resolver.update({ ...settings, ipv4: '10.1.0.9' })).toBe(true);
    expect(processes.spawned[0]?.signals).toEqual(['SIGTERM']);
    await clock.advance(0);
    expect(processes.spawned).toHaveLength(2); // at once, no backoff
    expect(fs.files.get(resolver.confPath)).toContain('address=/#/10.1.0.9');
    // no address at all: stop answering until one comes back
    expect(resolver.update({ port: 59053, portalDomain: 'thisnode.info' })).toBe(true);
    await clock.advance(5000);
    expect(processes.spawned).toHaveLength(2);
    expect(resolver.pid).toBeUndefined();
    expect(resolver.update(settings)).toBe(true);
    expect(processes.spawned).toHaveLength(3);
    await resolver.stop();
  });

  it('stop() ends dnsmasq, cancels a pending restart and removes its files', async () => {
    const { processes, fs, clock, resolver } = setup();
    resolver.start(settings);
    processes.crash();
    await clock.advance(0);
    await resolver.stop();
    await clock.advance(120_000);
    expect(processes.spawned).toHaveLength(1);
    expect(fs.files.size).toBe(0);
    resolver.start(settings);
    await resolver.stop();
    expect(processes.spawned[1]?.signals).toEqual(['SIGTERM']);
    expect(resolver.pid).toBeUndefined();
  });
});
