// NftGate against a scripted nft (nothing runs): which scripts it applies, how it reports
// nft's failures, the bridge-family fallback and error, verify/listAuthorized parsing,
// and the rebuild when the tables vanished. The real kernel is test/lab/gate.test.ts.
import type { Logger, PluginProcesses, ProcessResult, RunOptions } from '@wrtkit/sdk';
import { isWrtkitError } from '@wrtkit/sdk';
import { FakeClock } from '@wrtkit/sdk/testing';
import { describe, expect, it } from 'vitest';
import { NftGate } from '../../src/nft/gate.js';
import { type GateConfig, fullRuleset } from '../../src/nft/ruleset.js';
import type { Authorization } from '../../src/vouchers/voucher.js';

const config: GateConfig = {
  catchInterfaces: ['br-lan'],
  catchBridgedInterfaces: [],
  allowlistIpv4: ['10.0.0.0/8'],
  allowlistIpv6: ['fc00::/7'],
  portalPort: 59080,
  dnsPort: 59053,
};

type Answer = Partial<Pick<ProcessResult, 'exitCode' | 'stdout' | 'stderr'>> | undefined;

function fakeNft(answer: (argv: readonly string[], input: string | undefined) => Answer = () => undefined) {
  const runs: Array<{ argv: readonly string[]; input: string | undefined }> = [];
  const processes: PluginProcesses = {
    async run(argv: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
      runs.push({ argv, input: options.input });
      const a = answer(argv, options.input) ?? {};
      return {
        argv,
        exitCode: a.exitCode ?? 0,
        signal: null,
        stdout: a.stdout ?? '',
        stderr: a.stderr ?? '',
        timedOut: false,
        durationMs: 1,
      };
    },
    spawn() {
      throw new Error('not used');
    },
  };
  return { processes, runs };
}

const logs: string[] = [];
const log: Logger = {
  error: (m) => logs.push(`error ${m}`),
  warn: (m) => logs.push(`warn ${m}`),
  info: (m) => logs.push(`info ${m}`),
  debug: () => {},
  child: () => log,
};

function setup(answer?: Parameters<typeof fakeNft>[0]) {
  const clock = new FakeClock();
  const nft = fakeNft(answer);
  return { clock, ...nft, gate: new NftGate(nft.processes, log, clock) };
}

const at = (clock: FakeClock, seconds: number) => clock.now() / 1000 + seconds;
const auth = (mac: string, expiresAt?: number, unrestricted = false): Authorization => ({
  mac,
  voucherId: 'v',
  unrestricted,
  ...(expiresAt !== undefined ? { expiresAt } : {}),
});

async function caught(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; uciPath?: string; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    expect(isWrtkitError(error)).toBe(true);
    return error as Error;
  }
  throw new Error('did not throw');
}

describe('NftGate', () => {
  it('reconcile applies the full ruleset with one nft -f - (stdin)', async () => {
    const { gate, runs, clock } = setup();
    const auths = [auth('02:13:00:00:00:11', at(clock, 60))];
    await gate.reconcile(config, auths);
    expect(runs).toEqual([{ argv: ['nft', '-f', '-'], input: fullRuleset(config, auths, clock.now()) }]);
  });

  it('authorize: one transaction, skipped when already in for as long, replace when longer', async () => {
    const { gate, runs, clock } = setup();
    await gate.reconcile(config, []);
    runs.length = 0;
    await gate.authorize([auth('02:13:00:00:00:11', at(clock, 60))]);
    expect(runs).toEqual([
      { argv: ['nft', '-f', '-'], input: 'add element inet pirania pirania-auth-macs { 02:13:00:00:00:11 timeout 1m }\n' },
    ]);
    await gate.authorize([auth('02:13:00:00:00:11', at(clock, 30))]);
    expect(runs).toHaveLength(1);
    await gate.authorize([auth('02:13:00:00:00:11', at(clock, 120))]);
    expect(runs[1]?.input).toBe(
      'add element inet pirania pirania-auth-macs { 02:13:00:00:00:11 }\n' +
        'delete element inet pirania pirania-auth-macs { 02:13:00:00:00:11 }\n' +
        'add element inet pirania pirania-auth-macs { 02:13:00:00:00:11 timeout 2m }\n',
    );
    await gate.authorize([auth('02:13:00:00:00:12', at(clock, -1))]); // expired: nothing to do
    expect(runs).toHaveLength(2);
  });

  it('refill and remove: one transaction each', async () => {
    const { gate, runs, clock } = setup();
    await gate.refill([auth('02:13:00:00:00:12', at(clock, 10))]);
    await gate.remove();
    expect(runs.map((r) => r.input)).toEqual([
      'flush set inet pirania pirania-auth-macs\nflush set inet pirania pirania-unrestricted-macs\n' +
        'add element inet pirania pirania-auth-macs { 02:13:00:00:00:12 timeout 10s }\n',
      'table inet pirania\ndelete table inet pirania\ntable bridge pirania\ndelete table bridge pirania\n',
    ]);
  });

  it("reports nft's complaint and the failing line of the script", async () => {
    const { gate } = setup(() => ({
      exitCode: 1,
      stderr:
        '/dev/stdin:1:42-58: Error: Could not process rule: No such file or directory\n' +
        'add element inet pirania pirania-auth-macs { 02:13:00:00:00:11 }\n' +
        '                                         ^^^^^^^^^^^^^^^^^\n',
    }));
    const error = await caught(gate.authorize([auth('02:13:00:00:00:11')]));
    expect(error.code).toBe('WRTKIT_ERR_APPLY_FAILED');
    expect(error.message).toBe(
      'pirania gate authorize: `nft -f -` failed at line 1: add element inet pirania pirania-auth-macs { 02:13:00:00:00:11 }: ' +
        'Error: Could not process rule: No such file or directory',
    );
    expect(error.details).toMatchObject({ line: 1, exitCode: 1 });
    expect(String(error.details?.stderr)).toContain('^^^^');
  });

  describe('without the nftables bridge family', () => {
    const noBridge = (argv: readonly string[], input: string | undefined): Answer =>
      argv.includes('-f') && input?.includes('table bridge')
        ? { exitCode: 1, stderr: '/dev/stdin:3:1-5: Error: Could not process rule: Operation not supported\n' }
        : undefined;

    it('fails with a coded error naming catch_bridged_interfaces when bridge ports are to be caught', async () => {
      const { gate } = setup(noBridge);
      const error = await caught(gate.reconcile({ ...config, catchBridgedInterfaces: ['wlan0-ap'] }, []));
      expect(error.code).toBe('WRTKIT_ERR_UNSUPPORTED');
      expect(error.uciPath).toBe('pirania.base_config.catch_bridged_interfaces');
      expect(error.message).toMatch(/catch_bridged_interfaces lists wlan0-ap.*kmod-nft-bridge/);
    });

    it('gates with the inet table alone when there are none, and remembers', async () => {
      const { gate, runs } = setup(noBridge);
      await gate.reconcile(config, []);
      expect(runs.map((r) => r.argv.join(' '))).toEqual(['nft -f -', 'nft -c -f -', 'nft -f -']);
      expect(runs[2]?.input).not.toContain('bridge');
      runs.length = 0;
      await gate.reconcile(config, []);
      await gate.remove();
      expect(runs.map((r) => r.input)).toEqual([
        expect.not.stringContaining('bridge'),
        'table inet pirania\ndelete table inet pirania\n',
      ]);
    });

    it('rethrows the original error when the bridge family is fine', async () => {
      const { gate, runs } = setup((argv) =>
        argv.includes('-c') ? undefined : { exitCode: 1, stderr: '/dev/stdin:9:1-2: Error: something else\n' },
      );
      const error = await caught(gate.reconcile(config, []));
      expect(error.message).toMatch(/reconcile: `nft -f -` failed at line 9: .*something else/);
      expect(runs).toHaveLength(2);
    });
  });

  it('verify: the tables the last reconcile or remove left', async () => {
    let tables = '';
    const { gate } = setup((argv) => (argv[1] === 'list' ? { stdout: tables } : undefined));
    expect(await gate.verify()).toBe(false);
    tables = 'table inet fw4\ntable inet pirania\n';
    expect(await gate.verify()).toBe(true);
    await gate.reconcile(config, []);
    expect(await gate.verify()).toBe(false); // the bridge table is missing
    tables = 'table inet fw4\ntable inet pirania\ntable bridge pirania\n';
    expect(await gate.verify()).toBe(true);
    await gate.remove();
    expect(await gate.verify()).toBe(false);
    tables = 'table inet fw4\n';
    expect(await gate.verify()).toBe(true);
  });

  it('listAuthorized: MACs and when they expire', async () => {
    const json = {
      nftables: [
        { metainfo: { version: '1.0.6', json_schema_version: 1 } },
        {
          set: {
            family: 'inet',
            name: 'pirania-auth-macs',
            table: 'pirania',
            type: 'ether_addr',
            flags: ['timeout'],
            elem: [{ elem: { val: '02:13:00:00:00:11', timeout: 60, expires: 42 } }, '02:13:00:00:00:12'],
          },
        },
      ],
    };
    const { gate, clock, runs } = setup(() => ({ stdout: JSON.stringify(json) }));
    expect(await gate.listAuthorized()).toEqual([
      { mac: '02:13:00:00:00:11', expiresMs: clock.now() + 42_000 },
      { mac: '02:13:00:00:00:12' },
    ]);
    expect(runs[0]?.argv).toEqual(['nft', '-j', 'list', 'set', 'inet', 'pirania', 'pirania-auth-macs']);
  });

  it('rebuilds everything when an update finds the tables gone', async () => {
    let gone = false;
    const { gate, runs, clock } = setup((argv, input) => {
      if (argv[1] === 'list') return { stdout: gone ? '' : 'table inet pirania\ntable bridge pirania\n' };
      if (gone && input?.startsWith('add element'))
        return { exitCode: 1, stderr: '/dev/stdin:1:1-3: Error: No such file or directory\n' };
      if (input?.includes('table inet pirania {')) gone = false;
      return undefined;
    });
    await gate.reconcile(config, [auth('02:13:00:00:00:11')]);
    gone = true;
    runs.length = 0;
    await gate.authorize([auth('02:13:00:00:00:12', at(clock, 60))]);
    expect(runs.map((r) => r.argv.join(' '))).toEqual(['nft -f -', 'nft list tables', 'nft -f -']);
    expect(runs[2]?.input).toContain('elements = { 02:13:00:00:00:11, 02:13:00:00:00:12 timeout 1m }');
    expect(logs.some((l) => l.startsWith('warn pirania tables are gone'))).toBe(true);
  });
});
