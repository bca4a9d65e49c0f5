/**
 * The prober with real traffic: it runs on the real platform — Node.js, and QuickJS with
 * the native module as on the router — inside a lab client's network namespace
 * (test/probes/lab/runner.ts, bundled), against a lab server with HTTP, HTTPS, DNS and
 * ping, over two links (see lab/probe-lab.ts). Nothing leaves the lab.
 */
import { labSupported } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { SLACK_MS } from '../../src/probes/index.js';
import type { ProbeOptions } from '../../src/probes/index.js';
import {
  BOUND_ONLY,
  CLIENT2,
  CLIENT4,
  type Client,
  PROBE_LAB,
  type ProbeServer,
  SERVER4,
  SERVER6,
  type Engine,
  bundleRunner,
  engineCommand,
  labClient,
  makeCertificate,
  prepareProbeLab,
  startServer,
} from './lab/probe-lab.js';
import type { RunnerOutput } from './lab/runner.js';

const has = (program: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const support = labSupported();
const skip = !support.ok ? support.reason : !has('ping') ? 'ping is not installed' : undefined;
if (skip) console.warn(`prober lab test skipped: ${skip}`);
const curl = has('curl');
const wget = has('wget');
const openssl = has('openssl');

const OPTIONS: ProbeOptions = { timeoutMs: 1500, expectStatus: [[200, 399]] };

/** Every probe kept to its time limit (the runner measured the wall time). */
function expectInTime(outputs: RunnerOutput[], timeoutMs = OPTIONS.timeoutMs): void {
  for (const o of outputs) {
    expect(o.result?.ms, o.result?.target).toBeLessThanOrEqual(timeoutMs + SLACK_MS);
    expect(o.elapsedMs, o.result?.target).toBeLessThanOrEqual(timeoutMs + SLACK_MS + 250);
  }
}

const verdicts = (outputs: RunnerOutput[]) => outputs.map((o) => [o.result?.target, o.result?.ok, o.result?.detail]);

const ENGINES: Array<[Engine, string | undefined]> = (['node', 'qjs'] as const).map((engine) => {
  const command = engineCommand(engine);
  return [engine, typeof command === 'string' ? command : undefined];
});
for (const [engine, why] of ENGINES) if (!skip && why) console.warn(`prober lab test on ${engine} skipped: ${why}`);

describe.skipIf(skip !== undefined)(`prober in a lab client${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const lab = useLab(PROBE_LAB);
  let server: ProbeServer;
  let tls: { cert: string; key: string } | undefined;
  let runner: string;

  beforeAll(async () => {
    await prepareProbeLab(lab());
    const dir = lab().tempDir('probes');
    tls = openssl ? makeCertificate(dir) : undefined;
    server = await startServer(lab().node('server'), tls);
    runner = await bundleRunner(dir);
  }, 120_000);

  describe.each(ENGINES)('on %s', (engine, why) => {
    let client: Client;

    beforeAll(() => {
      if (why) return;
      const command = engineCommand(engine);
      if (typeof command === 'string') throw new Error(command);
      client = labClient(lab().node('client'), runner, lab().tempDir(`client-${engine}`), command);
    });

    it.skipIf(why !== undefined)(
      'http natively: status, expected status, refused, a server that never answers, names, IPv6',
      async () => {
        const before = server.log().length;
        const out = await client.run(
          [
            `http://${SERVER4}/status/204`,
            `http://${SERVER4}/status/503`,
            `http://${SERVER4}:81/`,
            `http://${SERVER4}/hang`,
            'http://probe.lab/status/200', // via the lab DNS in our resolv.conf
            'http://v6only.lab/status/204', // AAAA only: over IPv6
            'http://fromhosts.lab/status/301', // the hosts file, no DNS
            'http://missing.lab/',
            'http://silent.lab/',
            `http://[${SERVER6}]:80/status/204`,
          ].map((target) => ({ target, options: OPTIONS })),
        );
        expect(verdicts(out)).toEqual([
          [`http://${SERVER4}/status/204`, true, 'HTTP 204'],
          [`http://${SERVER4}/status/503`, false, 'HTTP 503 (expected 200-399)'],
          [`http://${SERVER4}:81/`, false, 'refused'],
          [`http://${SERVER4}/hang`, false, 'timeout'],
          ['http://probe.lab/status/200', true, 'HTTP 200'],
          ['http://v6only.lab/status/204', true, 'HTTP 204'],
          ['http://fromhosts.lab/status/301', true, 'HTTP 301'],
          ['http://missing.lab/', false, 'cannot resolve: NXDOMAIN'],
          ['http://silent.lab/', false, 'timeout resolving the host'],
          [`http://[${SERVER6}]:80/status/204`, true, 'HTTP 204'],
        ]);
        // natively, on the engine asked for: no program ran
        expect(out.map((o) => o.engine)).toEqual(out.map(() => engine));
        expect(out.flatMap((o) => o.argv)).toEqual([]);
        expectInTime(out);
        // what the server saw: HEAD, our User-Agent, the Host of the URL
        const seen = server
          .log()
          .slice(before)
          .filter((l) => l.http === '/status/200' || l.http === '/status/204');
        expect(seen).toContainEqual({
          http: '/status/200',
          method: 'HEAD',
          host: 'probe.lab',
          ua: 'wrtkit-dynapoint',
          from: CLIENT4,
        });
        expect(seen).toContainEqual({
          http: '/status/204',
          method: 'HEAD',
          host: 'v6only.lab',
          ua: 'wrtkit-dynapoint',
          from: 'fd71:1::2',
        });
        // probe.lab: A and AAAA asked together, once
        const asked = server
          .log()
          .slice(before)
          .filter((l) => l.dns === 'probe.lab');
        expect(asked.map((l) => l.type).sort()).toEqual([1, 28]);
      },
    );

    it.skipIf(why !== undefined)(
      'dns natively: an answer, AAAA, NXDOMAIN, no answer, a name never answered, a server that is not there',
      async () => {
        const out = await client.run(
          [
            `dns://${SERVER4}/probe.lab`,
            `dns://[${SERVER6}]/probe.lab?type=AAAA`,
            `dns://${SERVER4}/missing.lab`,
            `dns://${SERVER4}/v6only.lab`,
            `dns://${SERVER4}/silent.lab`,
            `dns://${SERVER4}:5353/probe.lab`,
          ].map((target) => ({ target, options: OPTIONS })),
        );
        expect(verdicts(out)).toEqual([
          [`dns://${SERVER4}/probe.lab`, true, `A ${SERVER4}`],
          [`dns://[${SERVER6}]/probe.lab?type=AAAA`, true, `AAAA ${SERVER6}`],
          [`dns://${SERVER4}/missing.lab`, false, 'NXDOMAIN'],
          [`dns://${SERVER4}/v6only.lab`, false, 'no answer'],
          [`dns://${SERVER4}/silent.lab`, false, 'timeout'],
          [`dns://${SERVER4}:5353/probe.lab`, false, 'timeout'],
        ]);
        expectInTime(out);
      },
    );

    it.skipIf(why !== undefined)('dns from a source address: the query leaves from it', async () => {
      const before = server.log().length;
      const [out] = await client.run([{ target: `dns://${SERVER4}/probe.lab`, options: { ...OPTIONS, source: CLIENT2 } }]);
      expect(out?.result).toMatchObject({ ok: true, detail: `A ${SERVER4}` });
      expect(server.log().slice(before)).toContainEqual({ dns: 'probe.lab', type: 1, from: CLIENT2 });
    });

    it.skipIf(why !== undefined)('icmp: a reply, no route, a host that does not answer', async () => {
      const out = await client.run(
        [`icmp://${SERVER4}`, `icmp://${SERVER6}`, 'icmp://10.71.8.8', 'icmp://10.71.1.99'].map((target) => ({
          target,
          options: OPTIONS,
        })),
      );
      expect(out[0]?.result).toMatchObject({ ok: true });
      expect(out[0]?.result?.detail).toMatch(/^reply [0-9.]+ ms$/);
      expect(out[1]?.result).toMatchObject({ ok: true });
      expect(out[1]?.argv).toEqual([['ping', '-c', '1', '-W', '2', '-6', SERVER6]]);
      expect(out[2]?.result).toMatchObject({ ok: false, detail: 'unreachable' });
      // on-link but nobody there: no reply (iputils may say so as "Destination Host Unreachable" after ARP gives up)
      expect(out[3]?.result?.ok).toBe(false);
      expect(['timeout', 'unreachable']).toContain(out[3]?.result?.detail);
      expectInTime(out);
    });

    it.skipIf(why !== undefined)(
      'binding to an interface: only the bound link reaches the address (curl --interface, ping -I)',
      async () => {
        const probes = [
          { target: `http://${BOUND_ONLY}/status/204`, options: OPTIONS },
          { target: `icmp://${BOUND_ONLY}`, options: OPTIONS },
          { target: `icmp://${BOUND_ONLY}`, options: { ...OPTIONS, interface: 'wan2' } },
          { target: `icmp://${BOUND_ONLY}`, options: { ...OPTIONS, interface: 'wan1' } },
          ...(curl
            ? [
                { target: `http://${BOUND_ONLY}/status/204`, options: { ...OPTIONS, interface: 'wan2' } },
                { target: `http://${BOUND_ONLY}/status/204`, options: { ...OPTIONS, interface: 'wan1' } },
              ]
            : []),
        ];
        const out = await client.run(probes);
        expect(verdicts(out.slice(0, 3))).toEqual([
          [`http://${BOUND_ONLY}/status/204`, false, 'unreachable'],
          [`icmp://${BOUND_ONLY}`, false, 'unreachable'],
          [`icmp://${BOUND_ONLY}`, true, expect.stringMatching(/^reply /)],
        ]);
        expect(out[2]?.argv).toEqual([['ping', '-c', '1', '-W', '2', '-I', 'wan2', BOUND_ONLY]]);
        expect(out[3]?.result?.ok).toBe(false);
        if (curl) {
          expect(out[4]?.result).toMatchObject({ ok: true, detail: 'HTTP 204' });
          expect(out[4]?.argv[0]).toEqual([
            'curl',
            '-s',
            '-g',
            '-o',
            '/dev/null',
            '-w',
            '%{http_code}',
            '--max-time',
            '1.5',
            '--max-redirs',
            '0',
            '--interface',
            'wan2',
            '--head',
            `http://${BOUND_ONLY}/status/204`,
          ]);
          // nobody answers ARP on wan1: a timeout, or at once when the kernel's neighbour entry already failed
          expect(out[5]?.result?.ok).toBe(false);
          expect(['timeout', 'cannot connect']).toContain(out[5]?.result?.detail);
        }
        expectInTime(out);
      },
    );

    it.skipIf(why !== undefined || !curl)(
      'http with curl: use_curl, refused, a server that never answers, a source address',
      async () => {
        const before = server.log().length;
        const out = await client.run([
          { target: `http://${SERVER4}/status/204`, options: { ...OPTIONS, useCurl: true } },
          { target: `http://${SERVER4}/status/503`, options: { ...OPTIONS, useCurl: true } },
          { target: `http://${SERVER4}:81/`, options: { ...OPTIONS, useCurl: true } },
          { target: `http://${SERVER4}/hang`, options: { ...OPTIONS, useCurl: true } },
          { target: `http://${SERVER4}/status/200`, options: { ...OPTIONS, source: CLIENT2 } },
        ]);
        expect(verdicts(out)).toEqual([
          [`http://${SERVER4}/status/204`, true, 'HTTP 204'],
          [`http://${SERVER4}/status/503`, false, 'HTTP 503 (expected 200-399)'],
          [`http://${SERVER4}:81/`, false, 'cannot connect'],
          [`http://${SERVER4}/hang`, false, 'timeout'],
          [`http://${SERVER4}/status/200`, true, 'HTTP 200'],
        ]);
        expect(server.log().slice(before)).toContainEqual({
          http: '/status/200',
          method: 'HEAD',
          host: SERVER4,
          ua: expect.stringMatching(/^curl\//),
          from: CLIENT2,
        });
        expectInTime(out);
      },
    );

    it.skipIf(why !== undefined || !curl || !openssl)('https with curl: a trusted certificate, and one that is not', async () => {
      if (!tls) throw new Error('no certificate');
      const probes = [`https://${SERVER4}/status/204`, `https://${SERVER4}/status/500`].map((target) => ({
        target,
        options: OPTIONS,
      }));
      const trusted = await client.run(probes, { env: { CURL_CA_BUNDLE: tls.cert } });
      expect(verdicts(trusted)).toEqual([
        [`https://${SERVER4}/status/204`, true, 'HTTP 204'],
        [`https://${SERVER4}/status/500`, false, 'HTTP 500 (expected 200-399)'],
      ]);
      const untrusted = await client.run(probes.slice(0, 1));
      expect(untrusted[0]?.result).toMatchObject({ ok: false, detail: 'certificate not trusted (curl exit 60)' });
      expectInTime([...trusted, ...untrusted]);
    });

    it.skipIf(why !== undefined || !wget)('without curl: wget --spider, which cannot check the status', async () => {
      const out = await client.run(
        [`http://${SERVER4}/status/204`, `http://${SERVER4}/status/503`, `http://${SERVER4}:81/`].map((target) => ({
          target,
          options: { ...OPTIONS, useCurl: true },
        })),
        { hideCurl: true },
      );
      expect(verdicts(out)).toEqual([
        [`http://${SERVER4}/status/204`, true, 'OK via wget (status not checked)'],
        [`http://${SERVER4}/status/503`, false, 'wget exit 8 (error status)'],
        [`http://${SERVER4}:81/`, false, 'wget exit 4 (network failure)'],
      ]);
      // curl (hidden) and uclient-fetch (not on Debian) were looked for once
      expect(out[0]?.argv.map((a) => a[0])).toEqual(['curl', 'uclient-fetch', 'wget']);
      expect(out[1]?.argv.map((a) => a[0])).toEqual(['wget']);
      expectInTime(out);
    });
  });
});
