// dynapoint end to end: the wrtkit host runs the plugin on a lab router whose uplink goes
// to an "isp" node with a web and a DNS server. The uplink is cut three ways (server
// stopped, link down, route blackholed) and restored; a single failed round is not a
// switch; bad config is refused by its UCI path; another plugin hears every switch.
// The assertions read the log (one line per round), /etc/config/wireless as the host
// wrote it, and the host's count of wireless applies. Runs on Node.js and QuickJS.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUci } from '@wrtkit/core';
import { type LabHost, type LabProcess, labSupported } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bundles,
  ISP4,
  LAB_SPEC,
  WIRELESS,
  buildBundles,
  dynapointConfig,
  startIsp,
  startRouterHost,
} from './uplink-lab.js';

const support = labSupported();
const why = support.ok ? '' : support.reason;

describe.skipIf(why !== '').each(['node', 'qjs'] as const)(
  `dynapoint on %s: SSIDs follow the uplink${why ? ` (skipped: ${why})` : ''}`,
  (engine) => {
    const lab = useLab(LAB_SPEC, { timeoutMs: 90_000 });
    let bundles: Bundles;
    let root: string;
    let host: LabHost;
    let isp: LabProcess;

    beforeAll(async () => {
      bundles = buildBundles(`lab-${engine}`);
      root = lab().tempDir('router-root');
      isp = await startIsp(lab().node('isp'));
      host = await startRouterHost(lab(), root, bundles, dynapointConfig(), engine);
      await host.waitForLog(/rule internet round 1: online/, { timeoutMs: 15_000 });
    }, 90_000);
    afterAll(async () => {
      await host?.stop().catch(() => undefined);
    });

    const applies = async (): Promise<number> =>
      ((await host.call('wrtkit', 'status')) as { compose: { wireless: { applies: number } } }).compose.wireless.applies;
    const wireless = () => {
      const pkg = parseUci(readFileSync(join(root, 'etc/config/wireless'), 'utf8'), { name: 'wireless', strict: false }).package;
      const of = (name: string) => {
        const s = pkg.section(name);
        return { ssid: s?.get('ssid'), disabled: s?.get('disabled') };
      };
      return { freifunk: of('freifunk'), maintenance: of('maintenance'), home: of('home') };
    };
    const ONLINE = {
      freifunk: { ssid: 'freifunk', disabled: undefined },
      maintenance: { ssid: 'freifunk-maintenance', disabled: '1' },
      home: { ssid: 'home', disabled: undefined },
    };
    const OFFLINE = {
      freifunk: { ssid: 'freifunk', disabled: '1' },
      maintenance: { ssid: 'freifunk-maintenance_node1', disabled: '0' },
      home: { ssid: 'home', disabled: undefined },
    };
    /** The rule's round lines after `from`, up to and including the first switch. */
    const roundsUntilSwitch = (from: number) => {
      const lines = host.lines.slice(from).filter((l) => /dynapoint: rule internet (round \d+|switched)/.test(l));
      const end = lines.findIndex((l) => /switched/.test(l));
      return lines.slice(0, end + 1).map((l) => /\((failed|good) \d+\/\d+\)|switched to \w+/.exec(l)?.[0] ?? l);
    };
    const heard = () => host.matching(/listener: heard connectivity/).map((l) => /online=(\w+)/.exec(l)?.[1]);

    it('boots online: the maintenance SSID is switched off once, the rest is left as it was; another plugin hears it', async () => {
      expect(wireless()).toEqual(ONLINE);
      expect(await applies()).toBe(1);
      expect(heard()).toEqual(['true']);
    });

    /** Cuts the uplink, waits for offline, restores it, waits for online; checks rounds, wireless, applies. */
    async function outage(cut: () => Promise<void>, restore: () => Promise<void>) {
      const before = await applies();
      const heardBefore = heard().length;
      let mark = host.lines.length;
      await cut();
      await host.waitForLog(/rule internet switched to offline/, { from: mark, timeoutMs: 20_000 });
      // exactly offline_threshold (3) failed rounds: two that stay online, the third switches
      expect(roundsUntilSwitch(mark).filter((l) => !/failed 0\/3/.test(l))).toEqual([
        '(failed 1/3)',
        '(failed 2/3)',
        'switched to offline',
      ]);
      await expect.poll(() => applies(), { timeout: 5000 }).toBe(before + 1);
      expect(wireless()).toEqual(OFFLINE);
      mark = host.lines.length;
      await restore();
      await host.waitForLog(/rule internet switched to online/, { from: mark, timeoutMs: 20_000 });
      // online_threshold (2) good rounds: one that stays offline, the second switches
      expect(roundsUntilSwitch(mark).filter((l) => !/good 0\/2/.test(l))).toEqual(['(good 1/2)', 'switched to online']);
      await expect.poll(() => applies(), { timeout: 5000 }).toBe(before + 2);
      expect(wireless()).toEqual({ ...ONLINE, freifunk: { ssid: 'freifunk', disabled: '0' } });
      await expect.poll(() => heard().slice(heardBefore), { timeout: 5000 }).toEqual(['false', 'true']);
    }

    it('server stopped → offline after 3 failed rounds → back after 2 good ones', async () => {
      await outage(
        () => isp.stop(2000).then(() => undefined),
        async () => {
          isp = await startIsp(lab().node('isp'));
        },
      );
    });

    it('link down → offline → link up → online', async () => {
      const node = lab().node('isp');
      await outage(
        () => node.run(['ip', 'link', 'set', 'dev', 'eth-router', 'down']).then(() => undefined),
        () => node.run(['ip', 'link', 'set', 'dev', 'eth-router', 'up']).then(() => undefined),
      );
    });

    it('route blackholed → offline → route back → online', async () => {
      const router = lab().node('router');
      await outage(
        () => router.run(['ip', 'route', 'add', 'blackhole', `${ISP4}/32`]).then(() => undefined),
        () => router.run(['ip', 'route', 'del', 'blackhole', `${ISP4}/32`]).then(() => undefined),
      );
    });

    it('link down: probes that time out leave no connection attempts behind', async () => {
      const node = lab().node('isp');
      const router = lab().node('router');
      const mark = host.lines.length;
      await node.run(['ip', 'link', 'set', 'dev', 'eth-router', 'down']);
      try {
        await host.waitForLog(/rule internet switched to offline/, { from: mark, timeoutMs: 20_000 });
        // three timed-out rounds so far; at most the probe under way may be connecting
        const pending = await router.run(['ss', '-Htn', 'state', 'syn-sent']);
        expect(pending.stdout.trim().split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);
      } finally {
        await node.run(['ip', 'link', 'set', 'dev', 'eth-router', 'up']);
        await host.waitForLog(/rule internet switched to online/, { from: mark, timeoutMs: 20_000 });
      }
    });

    it('a single failed round (flapping) switches nothing and applies nothing', async () => {
      const before = await applies();
      const mark = host.lines.length;
      await isp.stop(2000);
      await host.waitForLog(/rule internet round \d+: offline, stays online \(failed 1\/3\)/, { from: mark, timeoutMs: 10_000 });
      isp = await startIsp(lab().node('isp'));
      await host.waitForLog(/rule internet round \d+: online, stays online \(failed 0\/3\)/, { from: mark, timeoutMs: 10_000 });
      expect(host.lines.slice(mark).filter((l) => /switched/.test(l))).toEqual([]);
      expect(await applies()).toBe(before);
    });

    it('bad config is refused by its UCI path and the rule keeps running as it was', async () => {
      const dir = join(root, 'etc/config');
      const reload = () => host.cli(['--socket', host.socket, 'reload']);
      const good = readFileSync(join(dir, 'dynapoint'), 'utf8');
      for (const [bad, path] of [
        [dynapointConfig({ interval: '0' }), /dynapoint\.internet\.interval/],
        [dynapointConfig({}, ['www.example.com']), /dynapoint\.internet\.hosts/],
      ] as const) {
        writeFileSync(join(dir, 'dynapoint'), bad);
        const r = await reload();
        expect(`${r.stdout}${r.stderr}`).toMatch(path);
        const mark = host.lines.length;
        await host.waitForLog(/rule internet round \d+: online/, { from: mark, timeoutMs: 10_000 });
        const status = (await host.call('dynapoint', 'status')) as { rules: Array<{ interval: number; state: string }> };
        expect(status.rules[0]).toMatchObject({ interval: 1, state: 'online' });
      }
      writeFileSync(join(dir, 'dynapoint'), good);
      // wireless: an iface naming a rule that does not exist, an SSID too long with the hostname
      const before = await applies();
      writeFileSync(
        join(dir, 'wireless'),
        readFileSync(join(dir, 'wireless'), 'utf8') +
          "\nconfig wifi-iface 'guest'\n\toption device 'radio0'\n\toption ssid 'guest'\n\toption dynapoint_rule 'intenret'\n" +
          "\nconfig wifi-iface 'long'\n\toption device 'radio0'\n\toption ssid 'Gemeinschaftsnetz-Wartungsmodus'\n\toption dynapoint_rule '!internet'\n",
      );
      await reload();
      await host.waitForLog(/wireless\.guest\.dynapoint_rule: unknown rule 'intenret'/, { timeoutMs: 10_000 });
      await host.waitForLog(/wireless\.long\.ssid: 'Gemeinschaftsnetz-Wartungsmodus_node1' .* is 37 bytes/, {
        timeoutMs: 10_000,
      });
      const text = readFileSync(join(dir, 'wireless'), 'utf8');
      // both left exactly as written: not disabled, not renamed
      expect(text).toMatch(
        /config wifi-iface 'guest'\n\toption device 'radio0'\n\toption ssid 'guest'\n\toption dynapoint_rule 'intenret'\n/,
      );
      expect(text).toMatch(
        /config wifi-iface 'long'\n\toption device 'radio0'\n\toption ssid 'Gemeinschaftsnetz-Wartungsmodus'\n\toption dynapoint_rule '!internet'\n/,
      );
      expect(await applies()).toBe(before);
      const status = (await host.call('dynapoint', 'status')) as { problems: Array<{ uciPath: string }> };
      expect(status.problems.map((p) => p.uciPath)).toEqual(['wireless.guest.dynapoint_rule', 'wireless.long.ssid']);
      writeFileSync(join(dir, 'wireless'), WIRELESS);
    });

    it('status: per rule state, since when, counters, the last round', async () => {
      const status = (await host.call('dynapoint', 'status')) as { rules: Array<Record<string, unknown>> };
      expect(status.rules[0]).toMatchObject({
        rule: 'internet',
        state: 'online',
        switches: 8,
        offline_threshold: 3,
        online_threshold: 2,
      });
      const last = status.rules[0]?.last_round as {
        online: boolean;
        results: Array<{ target: string; ok: boolean; detail: string }>;
      };
      expect(last.online).toBe(true);
      expect(last.results[0]).toMatchObject({ target: `http://${ISP4}/`, ok: true, detail: 'HTTP 204' });
    });
  },
);

// Upstream's files as they are: the seed's /etc/config/wireless (anonymous sections) and
// openwrt/packages' /etc/config/dynapoint, with only the hosts pointed at the lab's isp
// and the interval shortened from 60 s. Upstream's behaviour: offline after
// offline_threshold (3) failed rounds, online again on the first good round, the
// maintenance SSID as it is (add_hostname_to_ssid 0).
const SEED_WIRELESS = `config wifi-iface
    option device 'radio0'
    option network 'lan2'
    option mode 'ap'
    option encryption 'none'
    option ssid 'freifunk'
    option dynapoint_rule 'internet'

config wifi-iface
    option device 'radio0'
    option network 'lan2'
    option mode 'ap'
    option encryption 'none'
    option ssid 'freifunk-maintenance'
    option dynapoint_rule '!internet'
`;
const UPSTREAM_DYNAPOINT = `config rule 'internet'
\tlist hosts 'http://${ISP4}/'
\tlist hosts 'http://${ISP4}:8080/'
\toption interval '1'
\toption timeout '5'
\toption offline_threshold '3'
\toption add_hostname_to_ssid '0'
\toption use_curl '0'
\toption curl_interface 'eth0'
`;

describe.skipIf(why !== '')('dynapoint with upstream files', () => {
  const lab = useLab(LAB_SPEC, { timeoutMs: 90_000 });
  let host: LabHost;
  let root: string;

  afterAll(async () => {
    await host?.stop().catch(() => undefined);
  });

  it('behaves as upstream: 3 failed rounds → the maintenance SSID; the first good round → back', async () => {
    const bundles = buildBundles('upstream');
    root = lab().tempDir('router-root');
    let isp = await startIsp(lab().node('isp'));
    // the seed's file from the start: a boot composition of another file could overwrite a later write
    host = await startRouterHost(lab(), root, bundles, UPSTREAM_DYNAPOINT, 'node', SEED_WIRELESS);
    await host.waitForLog(/rule internet round 1: online/, { timeoutMs: 15_000 });
    const state = () =>
      parseUci(readFileSync(join(root, 'etc/config/wireless'), 'utf8'), { name: 'wireless', strict: false })
        .package.ofType('wifi-iface')
        .map((s) => `${String(s.get('ssid'))}:${s.get('disabled') === '1' ? 'off' : 'on'}`);
    await expect.poll(state, { timeout: 5000 }).toEqual(['freifunk:on', 'freifunk-maintenance:off']);
    let mark = host.lines.length;
    await isp.stop(2000);
    await host.waitForLog(/rule internet switched to offline/, { from: mark, timeoutMs: 20_000 });
    await expect.poll(state, { timeout: 5000 }).toEqual(['freifunk:off', 'freifunk-maintenance:on']);
    mark = host.lines.length;
    isp = await startIsp(lab().node('isp'));
    await host.waitForLog(/rule internet switched to online/, { from: mark, timeoutMs: 20_000 });
    // the first good round switches back (online_threshold defaults to upstream's 1)
    expect(host.lines.slice(mark).filter((l) => /rule internet round \d+: online, stays offline/.test(l))).toEqual([]);
    await expect.poll(state, { timeout: 5000 }).toEqual(['freifunk:on', 'freifunk-maintenance:off']);
  });
});
