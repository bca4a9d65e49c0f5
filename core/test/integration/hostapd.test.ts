/**
 * The hostapd wireless backend against a real hostapd (Debian's 2.10), end to end: the
 * built host bundle (`wrtkit run`) with a plugin that composes `wireless`, two BSSes each
 * served by its own hostapd process started from the files our backend writes (as
 * Debian's hostapd@<ifname> does), on QuickJS with the native module — our own client on
 * hostapd's unix datagram control socket — and on Node.js, which has no unix datagram
 * sockets and goes through hostapd_cli. hostapd runs with `-d`, which logs every control
 * command it receives ("RX ctrl_iface", except PING), so the test sees exactly which
 * commands reached which BSS; hostapd_cli, a client independent of ours, then asks
 * hostapd (GET_CONFIG, STATUS) what it now runs.
 *
 * Shown here: auto detection picks hostapd from the socket in the control directory;
 * hostapd accepts the files we write; an SSID change reaches only its BSS (STATUS, SET,
 * RELOAD) and hostapd reports the new SSID; `disabled '1'` → DISABLE → state DISABLED;
 * enabled again → ENABLE → ENABLED; WPA2 → SAE reaches hostapd (key_mgmt=SAE); a change
 * hostapd does not read sends nothing; a value with a newline is refused with its UCI path
 * and nothing is sent; a BSS whose hostapd is not running is an APPLY_FAILED error naming
 * the control socket.
 *
 * Not shown, because this machine has no Wi-Fi hardware and no mac80211_hwsim (no kernel
 * modules in this container, no /sys/class/ieee80211): hostapd runs with `driver=none`, which
 * drives no radio. So no beacon is sent and no station associates: the evidence is what
 * hostapd reports, not what a client sees, and a channel change is accepted but tunes
 * nothing. A radio with `option country` is left out: with driver=none hostapd waits for a
 * regulatory update that never comes (state COUNTRY_UPDATE).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHostapdConf, hostapdBsses } from '../../src/compose/wireless/hostapd-config.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { parseUci } from '../../src/uci/index.js';
import { type Engine, HostProcess, buildBundles, engineArgv, repoRoot } from '../helpers/engines.js';
import { buildNative } from '../platform/native-build.js';

const platform = await createNodePlatform([]);
const hostapdPath = platform.processes.which('hostapd');
const hostapdCli = platform.processes.which('hostapd_cli');
if (!hostapdPath || !hostapdCli) {
  console.log('hostapd integration test skipped: hostapd is not installed (apt-get install hostapd)');
}

/** Composes `wireless` from what it was asked through `wrtkit call ap-wish.set`. */
const AP_WISH = `export {};
const core = globalThis[Symbol.for('wrtkit.runtime.v1')]['@wrtkit/core'];
export default core.definePlugin({
  name: 'ap-wish',
  version: '0.1.0',
  apiVersion: '^1',
  setup(ctx) {
    const wishes = [];
    ctx.hooks.compose.wireless.tap((wireless) => {
      for (const wish of wishes) {
        const section = wireless.section(wish.section);
        if (!section) continue;
        if (wish.value === undefined) section.delete(wish.option);
        else section.set(wish.option, wish.value);
      }
      return wireless;
    });
    ctx.serve({
      set: core.method(
        {
          access: 'write',
          schema: {
            type: 'object',
            properties: { section: { type: 'string' }, option: { type: 'string' }, value: { type: 'string' } },
            required: ['section', 'option'],
            additionalProperties: false,
          },
        },
        (args) => {
          wishes.push(args);
          ctx.requestCompose('wireless', 'asked');
          return { wishes: wishes.length };
        },
      ),
    });
  },
});
`;

const WIRELESS = [
  "config wifi-device 'radio0'",
  "\toption type 'mac80211'",
  "\toption band '2g'",
  "\toption channel '1'",
  '',
  "config wifi-iface 'main'",
  "\toption device 'radio0'",
  "\toption mode 'ap'",
  "\toption ifname 'wrtk0'",
  "\toption network 'lan'",
  "\toption ssid 'Home'",
  "\toption encryption 'psk2'",
  "\toption key 'home-passphrase'",
  '',
  "config wifi-iface 'guest'",
  "\toption device 'radio0'",
  "\toption mode 'ap'",
  "\toption ifname 'wrtk1'",
  "\toption ssid 'Guest'",
  '',
].join('\n');

/** A hostapd serving one BSS, its debug output kept to read the commands it received. */
class Hostapd {
  output = '';
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;

  constructor(
    readonly ifname: string,
    conf: string,
    private readonly ctrlDir: string,
  ) {
    this.proc = spawn(hostapdPath as string, ['-d', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.proc.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.proc.on('exit', () => resolve()));
  }

  /** Every control command received so far, decoded from hostapd's hexdump. */
  received(): string[] {
    const commands: string[] = [];
    const lines = this.output.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const head = /^RX ctrl_iface - hexdump_ascii\(len=(\d+)\):/.exec(lines[i] as string);
      if (!head) continue;
      const bytes: number[] = [];
      // 16 bytes per line: hex in the first 48 columns after the indent, then the text.
      while (bytes.length < Number(head[1]) && i + 1 < lines.length) {
        const hex = (lines[++i] as string).slice(5, 5 + 48).match(/[0-9a-f]{2}/g) ?? [];
        bytes.push(...hex.map((h) => parseInt(h, 16)));
      }
      commands.push(Buffer.from(bytes).toString('utf8'));
    }
    // the host's event monitor (qjs) attaches and pings on its own schedule: not the backend's commands
    return commands.filter((c) => c !== 'ATTACH' && c !== 'PING' && c !== 'DETACH');
  }

  /** Asks hostapd through hostapd_cli, a client independent of ours. */
  ask(command: string): Record<string, string> {
    const run = spawnSync(hostapdCli as string, ['-p', this.ctrlDir, '-i', this.ifname, command], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (run.status !== 0) throw new Error(`hostapd_cli ${command} on ${this.ifname}: ${run.stderr}`);
    return Object.fromEntries(
      run.stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  /**
   * Waits until hostapd's log holds everything it received so far: a GET_CONFIG of ours
   * (a command the backend never sends) is logged after it. Returns the count of received
   * commands, that marker included.
   */
  async mark(): Promise<number> {
    const before = this.received().length;
    this.ask('GET_CONFIG');
    await until(
      () => this.received().length > before && this.received().at(-1) === 'GET_CONFIG',
      () => `hostapd ${this.ifname} to log our GET_CONFIG`,
    );
    return this.received().length;
  }

  /** Commands received between a mark and the next one. */
  between(from: number, to: number): string[] {
    return this.received().slice(from, to - 1);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.proc.kill('SIGTERM');
      await this.exited;
    }
  }
}

async function until(condition: () => boolean, what: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let bundles: { host: string; plugins: string };
const roots: string[] = [];

describe.skipIf(!hostapdPath || !hostapdCli)('hostapd backend with a real hostapd', () => {
  beforeAll(() => {
    bundles = buildBundles(join(repoRoot, '.cache/e2e-hostapd/build'));
    // qjs gets its sockets (the control socket, hostapd's datagram socket) from the native module.
    process.env.WRTKIT_NATIVE = buildNative();
  }, 120_000);
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  describe.each<Engine>(['qjs', 'node'])('on %s', (engine) => {
    it('tells only the changed BSS, and hostapd reports the change', async () => {
      const root = mkdtempSync(join(tmpdir(), `wrtkit-hostapd-${engine}-`));
      roots.push(root);
      const config = join(root, 'etc/config');
      const confDir = join(root, 'etc/hostapd');
      const ctrlDir = join(root, 'run/hostapd');
      const pluginDir = join(root, 'plugins');
      for (const dir of [config, confDir, ctrlDir, join(pluginDir, 'ap-wish')]) mkdirSync(dir, { recursive: true });
      writeFileSync(join(pluginDir, 'ap-wish/index.js'), AP_WISH);
      writeFileSync(
        join(pluginDir, 'ap-wish/manifest.json'),
        JSON.stringify({
          name: 'ap-wish',
          version: '0.1.0',
          apiVersion: '^1',
          entry: 'index.js',
          permissions: { uci: ['wireless'] },
        }),
      );
      writeFileSync(
        join(config, 'wrtkit'),
        [
          "config wrtkit 'main'",
          `\toption plugin_dir '${pluginDir}'`,
          `\toption state_dir '${root}/state'`,
          `\toption control_socket '${root}/run/control.sock'`,
          `\toption ubus_socket '${root}/run/no-ubusd.sock'`,
          "\toption log_level 'debug'",
          "\toption wireless_backend 'auto'",
          `\toption hostapd_conf_dir '${confDir}'`,
          `\toption hostapd_ctrl_dir '${ctrlDir}'`,
          "\toption hostapd_driver 'none'",
          '',
        ].join('\n'),
      );
      writeFileSync(join(config, 'wireless'), WIRELESS);
      // The BSS files as the backend writes them, which is what hostapd starts from.
      const { bsses, problems } = hostapdBsses(parseUci(WIRELESS, { name: 'wireless' }).package, { ctrlDir, driver: 'none' });
      expect(problems).toEqual([]);
      for (const bss of bsses) writeFileSync(join(confDir, `${bss.ifname}.conf`), formatHostapdConf(bss), { mode: 0o600 });

      const main = new Hostapd('wrtk0', join(confDir, 'wrtk0.conf'), ctrlDir);
      const guest = new Hostapd('wrtk1', join(confDir, 'wrtk1.conf'), ctrlDir);
      let host: HostProcess | undefined;
      const cli = (...args: string[]) => {
        const [program, ...argv] = engineArgv(engine, bundles.host, ['--config-dir', config, ...args]);
        const run = spawnSync(program as string, argv, { encoding: 'utf8', timeout: 30_000 });
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        return run.stdout;
      };
      /** Asks the plugin for a change and waits until the host applied it (or failed); the commands each hostapd received meanwhile. */
      const change = async (
        section: string,
        option: string,
        value?: string,
        outcome = /info wrtkit: applied package=wireless backend=hostapd/,
      ) => {
        const from = host!.lines.length;
        const before = [await main.mark(), guest.running ? await guest.mark() : 0];
        cli('call', 'ap-wish.set', JSON.stringify(value === undefined ? { section, option } : { section, option, value }));
        await host!.waitFor(outcome, { from });
        const after = [await main.mark(), guest.running ? await guest.mark() : 0];
        return {
          main: main.between(before[0] as number, after[0] as number),
          guest: guest.between(before[1] as number, after[1] as number),
          log: host!.lines.slice(from),
        };
      };
      try {
        await until(
          () => main.output.includes('AP-ENABLED') && guest.output.includes('AP-ENABLED'),
          () => `both hostapds enabled; hostapd said:\n${main.output}\n${guest.output}`,
        );
        expect(main.ask('GET_CONFIG')).toMatchObject({ ssid: 'Home', key_mgmt: 'WPA-PSK' });
        expect(guest.ask('STATUS')).toMatchObject({ state: 'ENABLED', 'ssid[0]': 'Guest', channel: '1' });

        const asked = [await main.mark(), await guest.mark()];
        host = new HostProcess(engineArgv(engine, bundles.host, ['run', '--config-dir', config]));
        await host.waitFor(/ready plugins=1 failed=0/);
        await host.waitFor(/composition changed nothing; not applying package=wireless reason=boot/);
        expect(
          host.matching(
            /info wrtkit: wireless backend backend=hostapd reason="found hostapd control socket .*\/run\/hostapd\/wrtk0"/,
          ),
        ).toHaveLength(1);
        // Boot composed what is committed already: nothing to tell.
        const booted = [await main.mark(), await guest.mark()];
        expect([
          main.between(asked[0] as number, booted[0] as number),
          guest.between(asked[1] as number, booted[1] as number),
        ]).toEqual([[], []]);

        // wrtkit.hostapd: on qjs the host follows both BSSes' events (ATTACH on their control
        // sockets); Node.js has no unix datagram sockets and says so. A BSS transition request
        // for a station hostapd does not know is refused by hostapd, and the call says why.
        const events = JSON.parse(cli('call', 'wrtkit.hostapd.status')) as {
          events: { attached: string[]; problem?: string };
        };
        if (engine === 'qjs') {
          expect(events.events.attached).toEqual(['wrtk0', 'wrtk1']);
          expect(main.output).toMatch(/CTRL_IFACE monitor attached/);
        } else {
          expect(events.events).toMatchObject({ attached: [], problem: expect.stringMatching(/datagram|unsupported/i) });
        }
        const [prog, ...argv] = engineArgv(engine, bundles.host, [
          '--config-dir',
          config,
          'call',
          'wrtkit.hostapd.bss_transition_request',
          JSON.stringify({
            ifname: 'wrtk0',
            addr: '02:00:00:00:09:09',
            disassociation_imminent: true,
            disassociation_timer: 100,
          }),
        ]);
        const refused = spawnSync(prog as string, argv, { encoding: 'utf8', timeout: 30_000 });
        expect(refused.status).not.toBe(0);
        expect(refused.stdout + refused.stderr).toMatch(/hostapd on wrtk0 refused BSS_TM_REQ: FAIL/);
        await main.mark();
        expect(main.received()).toContain('BSS_TM_REQ 02:00:00:00:09:09 disassoc_imminent=1 disassoc_timer=100');

        // A new SSID for the guest BSS: SET + RELOAD there, nothing to the other.
        const renamed = await change('guest', 'ssid', 'Visitors');
        expect(renamed.guest).toEqual(['STATUS', 'SET ssid Visitors', 'RELOAD']);
        expect(renamed.main).toEqual([]);
        expect(guest.ask('GET_CONFIG')).toMatchObject({ ssid: 'Visitors' });
        expect(guest.ask('STATUS')).toMatchObject({ state: 'ENABLED', 'ssid[0]': 'Visitors' });
        expect(main.ask('GET_CONFIG')).toMatchObject({ ssid: 'Home' });
        expect(readFileSync(join(confDir, 'wrtk1.conf'), 'utf8')).toContain('\nssid=Visitors\n');
        expect(readFileSync(join(config, 'wireless'), 'utf8')).toContain("option ssid 'Visitors'");
        // How each engine reaches hostapd: our datagram client on qjs, hostapd_cli on Node.
        expect(renamed.log.some((l) => l.includes('talking to hostapd through hostapd_cli'))).toBe(engine === 'node');

        // disabled '1' → DISABLE; enabled again → ENABLE.
        const off = await change('guest', 'disabled', '1');
        expect(off.guest).toEqual(['STATUS', 'DISABLE']);
        expect(off.main).toEqual([]);
        expect(guest.ask('STATUS')).toMatchObject({ state: 'DISABLED' });
        expect(main.ask('STATUS')).toMatchObject({ state: 'ENABLED' });
        const on = await change('guest', 'disabled');
        expect(on.guest).toEqual(['STATUS', 'ENABLE']);
        expect(guest.ask('STATUS')).toMatchObject({ state: 'ENABLED', 'ssid[0]': 'Visitors' });

        // WPA2 → WPA3 on the main BSS.
        const sae = await change('main', 'encryption', 'sae');
        expect(sae.main).toEqual([
          'STATUS',
          'SET wpa_key_mgmt SAE',
          'SET ieee80211w 2',
          'SET sae_password home-passphrase',
          'RELOAD',
        ]);
        expect(sae.guest).toEqual([]);
        expect(main.ask('GET_CONFIG')).toMatchObject({ ssid: 'Home', wpa: '2', key_mgmt: 'SAE' });

        // Not something hostapd reads: the file is rewritten, hostapd is not told.
        const bridge = await change('main', 'network', 'guest');
        expect([bridge.main, bridge.guest]).toEqual([[], []]);

        // A newline would start a hostapd setting: refused with the UCI path, nothing sent.
        const evil = await change(
          'guest',
          'ssid',
          'Free\nctrl_interface=/tmp',
          /error wrtkit: wireless\.guest\.ssid: must not contain newlines/,
        );
        expect([evil.main, evil.guest]).toEqual([[], []]);
        expect(evil.log.join('\n')).toContain('code=WRTKIT_ERR_CONFIG_INVALID');
        expect(readFileSync(join(confDir, 'wrtk1.conf'), 'utf8')).not.toContain('Free');

        // The guest's hostapd stops: telling it is an error that names its control socket.
        await guest.stop();
        const gone = await change('guest', 'ssid', 'Nobody', /error wrtkit: wireless\.guest: hostapd is not running for wrtk1/);
        const socket = join(ctrlDir, 'wrtk1');
        expect(gone.log.find((l) => l.startsWith('error wrtkit:'))).toContain(`(no control socket ${socket})`);
        const status = JSON.parse(cli('status', '--json')) as {
          wireless: { backend: string };
          compose: { wireless: { lastError: { code: string; message: string } } };
        };
        expect(status.wireless.backend).toBe('hostapd');
        expect(status.compose.wireless.lastError).toMatchObject({ code: 'WRTKIT_ERR_APPLY_FAILED' });
        expect(status.compose.wireless.lastError.message).toContain(socket);
      } finally {
        await host?.stop();
        await main.stop();
        await guest.stop();
      }
    }, 120_000);
  });
});
