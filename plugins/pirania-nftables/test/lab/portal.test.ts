// The portal end to end: the wrtkit host runs this plugin on a lab router (the real
// nftables gate, the real portal page, the real dnsmasq resolver), clients try the
// internet, a headless Chromium in client1's namespace takes a voucher, vouchers expire
// and are invalidated, the host restarts and is killed in the middle of a bulk creation.
// Topology and addresses: portal-lab.ts. The tests run in order and share the lab; the
// whole suite runs with the host on Node.js and on QuickJS.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type LabHost, browserSupported, labSupported, launchBrowser } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES } from '../../src/portal/portal.js';
import { type Probe, outcome, probe } from './gate-lab.js';
import {
  INTERNET4,
  INTERNET6,
  LAB_SPEC,
  MAC1,
  MAC2,
  REAL_A,
  REAL_AAAA,
  ROUTER4,
  ROUTER6,
  dnsProbe,
  httpProbe,
  type Bundles,
  buildBundles,
  startInternet,
  startRouterHost,
} from './portal-lab.js';

const nftPresent = spawnSync('nft', ['--version'], { stdio: 'ignore' }).status === 0;
const dnsmasqPresent = spawnSync('dnsmasq', ['--version'], { stdio: 'ignore' }).status === 0;
const support = labSupported();
const browser = browserSupported();
const why = !support.ok
  ? support.reason
  : !nftPresent
    ? 'nft is not installed'
    : !dnsmasqPresent
      ? 'dnsmasq is not installed'
      : !browser.ok
        ? browser.reason
        : '';

interface VoucherEntry {
  id: string;
  code: string;
  mac?: string;
  status: string;
}

/** Everything but HTTP and DNS, which have their own probes: name → what a client gets. */
function otherTraffic(family: 4 | 6): Record<string, Probe> {
  const inet = family === 4 ? INTERNET4 : INTERNET6;
  return {
    [`v${family} tcp 8080`]: { proto: 'tcp', host: inet, port: 8080 },
    [`v${family} https`]: { proto: 'tcp', host: inet, port: 443 },
    [`v${family} udp 9999`]: { proto: 'udp', host: inet, port: 9999 },
  };
}

// On both engines: Node.js (development) and QuickJS, as on the router.
describe.skipIf(why !== '').each(['node', 'qjs'] as const)(
  `pirania end to end on %s: host, portal, browser${why ? ` (skipped: ${why})` : ''}`,
  (engine) => {
    const lab = useLab(LAB_SPEC, { timeoutMs: 90_000 });
    let root: string;
    let bundles: Bundles;
    let host: LabHost;

    beforeAll(async () => {
      const l = lab();
      root = l.tempDir('router-root');
      bundles = buildBundles(`portal-${engine}`);
      await startInternet(l.node('internet'));
      host = await startRouterHost(l, root, bundles, engine);
    }, 90_000);

    afterAll(async () => {
      await host?.stop().catch(() => undefined);
    });

    const add = async (args: Record<string, unknown>): Promise<Array<{ id: string; code: string }>> => {
      const r = (await host.call('pirania', 'add_vouchers', { name: 'lab', qty: 1, ...args })) as {
        status: string;
        vouchers: Array<{ id: string; code: string }>;
      };
      expect(r.status).toBe('ok');
      return r.vouchers;
    };
    const list = async (): Promise<VoucherEntry[]> =>
      ((await host.call('pirania', 'list_vouchers')) as { vouchers: VoucherEntry[] }).vouchers;

    /** What a client gets for plain HTTP to the internet, both families. */
    const httpToInternet = async (client: 'client1' | 'client2') => {
      const [v4, v6] = await httpProbe(lab().node(client), [
        { host: INTERNET4, path: '/news?x=1' },
        { host: INTERNET6, path: '/news?x=1' },
      ]);
      return { v4, v6 };
    };
    const others = async (client: 'client1' | 'client2') => {
      const named = Object.entries({ ...otherTraffic(4), ...otherTraffic(6) });
      const results = await probe(
        lab().node(client),
        named.map(([, p]) => p),
      );
      return Object.fromEntries(named.map(([name], i) => [name, outcome(results[i] as never)]));
    };
    const gatedOthers = { 'tcp 8080': 'timeout', https: 'refused', 'udp 9999': 'timeout' };
    const freeOthers = { 'tcp 8080': 'SERVER8080', https: 'SERVER443', 'udp 9999': 'ECHO:q' };
    const both = (o: Record<string, string>) =>
      Object.fromEntries([4, 6].flatMap((f) => Object.entries(o).map(([k, v]) => [`v${f} ${k}`, v])));

    async function expectGated(client: 'client1' | 'client2') {
      const { v4, v6 } = await httpToInternet(client);
      for (const r of [v4, v6]) {
        expect(r?.status, JSON.stringify(r)).toBe(302);
        expect(r?.location).toBe(
          `http://thisnode.info:59080/?prev=${encodeURIComponent(`http://${r === v4 ? INTERNET4 : `[${INTERNET6}]`}/news?x=1`)}`,
        );
      }
      expect(await others(client)).toEqual(both(gatedOthers));
      const node = lab().node(client);
      expect(await dnsProbe(node, INTERNET4, 'example.org', 4)).toBe(ROUTER4);
      expect(await dnsProbe(node, INTERNET6, 'example.org', 6)).toBe(ROUTER6);
    }

    async function expectFree(client: 'client1' | 'client2') {
      const { v4, v6 } = await httpToInternet(client);
      expect([v4?.status, v6?.status]).toEqual([200, 200]);
      expect(v4?.body).toContain('INTERNET OK');
      expect(await others(client)).toEqual(both(freeOthers));
      const node = lab().node(client);
      expect(await dnsProbe(node, INTERNET4, 'example.org', 4)).toBe(REAL_A);
      expect(await dnsProbe(node, INTERNET6, 'example.org', 6)).toBe(REAL_AAAA);
    }

    it('1. before a voucher: HTTP goes to the portal, DNS to the portal resolver, the rest is dropped (IPv4 and IPv6)', async () => {
      await expectGated('client1');
      await expectGated('client2');
      // The portal itself, by the name the resolver gives, over both families; and the
      // RFC 8908 API says "captive".
      const [page4, page6, api] = await httpProbe(lab().node('client1'), [
        { host: ROUTER4, port: 59080, hostHeader: 'thisnode.info:59080' },
        { host: ROUTER6, port: 59080, hostHeader: 'thisnode.info:59080' },
        { host: ROUTER4, port: 59080, path: '/api/captive', hostHeader: 'thisnode.info:59080' },
      ]);
      expect(page4?.status).toBe(200);
      expect(page4?.body).toContain('name="voucher"');
      expect(page6?.status).toBe(200);
      expect(api?.contentType).toBe('application/captive+json');
      expect(JSON.parse(api?.body ?? '{}')).toMatchObject({ captive: true, 'user-portal-url': 'http://thisnode.info:59080/' });
    });

    it('2. Chromium in client1 takes a voucher: wrong code → error, right code → success → internet; client2 stays out and is rate-limited', async () => {
      const [voucher] = await add({ duration_m: 60 });
      const b = await launchBrowser(lab().node('client1'), { nameservers: [ROUTER4] });
      try {
        const page = await b.newPage();
        // A name the client looks up: the portal resolver answers, HTTP is redirected.
        await page.goto('http://news.example/today', { timeout: 15_000 });
        expect(new URL(page.url()).host).toBe('thisnode.info:59080');
        await page.fill('#voucher', 'WRONGX');
        await page.click('button[type=submit]');
        expect(await page.textContent('#voucher-error')).toBe(MESSAGES.wrongCode);
        await page.fill('#voucher', (voucher?.code ?? '').toLowerCase());
        await page.click('button[type=submit]');
        expect(await page.textContent('[role=status]')).toContain('You are online');
        // Straight after the success page, the internet answers (by address: the lab's
        // internet has no DNS name the router resolves).
        await page.goto(`http://${INTERNET4}/`, { timeout: 10_000 });
        expect(await page.textContent('#internet')).toBe('INTERNET OK');
      } finally {
        await b.close();
      }
      await expectFree('client1');
      await expectGated('client2');
      const mine = (await list()).find((v) => v.id === voucher?.id);
      expect(mine).toMatchObject({ mac: MAC1, status: 'active' });
      expect(host.matching(/client authorized.*02:13:00:00:00:11/).length).toBe(1);

      // client2 guesses: three wrong codes are told so, the fourth attempt is refused.
      const attempt = {
        host: ROUTER4,
        port: 59080,
        path: '/activate',
        method: 'POST' as const,
        hostHeader: 'thisnode.info:59080',
      };
      const tries = await httpProbe(lab().node('client2'), [
        { ...attempt, form: { voucher: 'AAAAAA' } },
        { ...attempt, form: { voucher: 'BBBBBB' } },
        { ...attempt, form: { voucher: 'CCCCCC' } },
        { ...attempt, form: { voucher: 'DDDDDD' } },
      ]);
      expect(tries.map((t) => t.status)).toEqual([403, 403, 403, 429]);
      expect(tries[3]?.body).toContain('Too many wrong codes');
      await expectGated('client2');
    });

    it('3a. a short voucher expires on time and the client is out again; the hook hears it', async () => {
      const [voucher] = await add({ duration_m: 0.1 }); // 6 s
      expect(await host.call('pirania', 'activate', { code: voucher?.code, mac: MAC2 })).toMatchObject({ status: 'ok' });
      await expectFree('client2');
      await host.waitForLog(/client deauthorized.*02:13:00:00:00:12/, { timeoutMs: 12_000 });
      await expectGated('client2');
      expect((await list()).find((v) => v.id === voucher?.id)?.status).toBe('expired');
    });

    it('3b. restarting the host keeps every authorization, even after the kernel lost its rules', async () => {
      await host.stop();
      // a reboot: the kernel's tables are gone
      const flushed = await lab().node('router').run(['nft', 'flush', 'ruleset']);
      expect(flushed.exitCode).toBe(0);
      host = await startRouterHost(lab(), root, bundles, engine);
      await expectFree('client1');
      await expectGated('client2');
    });

    it('3c. invalidating the voucher takes access away at once', async () => {
      const mine = (await list()).find((v) => v.mac === MAC1 && v.status === 'active');
      expect(mine).toBeDefined();
      expect(await host.call('pirania', 'invalidate', { id: mine?.id })).toEqual({ status: 'ok' });
      await expectGated('client1');
      expect((await list()).find((v) => v.id === mine?.id)?.status).toBe('invalidated');
    });

    it('3d. kill -9 of the host in the middle of a bulk creation leaves no corrupt voucher file', async () => {
      const dir = join(root, 'pirania/vouchers');
      const before = readdirSync(dir).filter((f) => f.endsWith('.json')).length;
      const creating = host.call('pirania', 'add_vouchers', { name: 'bulk', qty: 1000, duration_m: 60 }).catch((e: unknown) => e);
      // wait until the creation is under way, then kill
      const deadline = Date.now() + 15_000;
      while (readdirSync(dir).filter((f) => f.endsWith('.json')).length < before + 20 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      host.signal('SIGKILL');
      await host.exited;
      await creating;
      const files = readdirSync(dir);
      const vouchers = files.filter((f) => /^[A-Za-z0-9_-]+\.json$/.test(f));
      expect(vouchers.length).toBeGreaterThan(before);
      for (const file of vouchers) {
        const v = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { id: string; code: string };
        expect(`${v.id}.json`).toBe(file);
        expect(v.code).toMatch(/^[A-Z]{6}$/);
      }
      host = await startRouterHost(lab(), root, bundles, engine);
      const all = await list();
      expect(all.length).toBe(vouchers.length);
      expect(host.matching(/voucher file skipped/)).toEqual([]);
    });
  },
);
