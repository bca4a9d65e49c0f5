/**
 * Commands that plugins add to the CLI (`wrtkit greet`): built by the SDK's buildPlugin
 * from the fixture plugin (core/test/fixtures/plugins/greeter), found through the
 * installed manifests and run by the host bundle on Node and on QuickJS, with and
 * without a running host.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlugin, bundleTo, manifestFor } from '../../../sdk/build/plugin.mjs';
import { checkManifest } from '../../src/plugin/manifest.js';
import { type Engine, HostProcess, engineArgv, repoRoot } from '../helpers/engines.js';
import { buildNative } from '../platform/native-build.js';

const fixture = join(repoRoot, 'core/test/fixtures/plugins/greeter');
let out: string;
let host: string;
let plugins: string;
let built: Awaited<ReturnType<typeof buildPlugin>>;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'wrtkit-commands-'));
  host = join(out, 'wrtkit.js');
  plugins = join(out, 'plugins');
  await bundleTo(join(repoRoot, 'core/src/main.ts'), host, { minify: true });
  built = await buildPlugin(fixture, plugins);
  // qjs reaches the host through the native module's sockets, as on the router
  process.env.WRTKIT_NATIVE = buildNative();
}, 120_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('building a plugin with commands', () => {
  it('bundles each command beside index.js and names the bundles in the manifest', () => {
    expect(built.manifest).toMatchObject({
      name: 'greeter',
      version: '1.2.3',
      entry: 'index.js',
      commands: { greet: 'greet.js', oops: 'oops.js' },
    });
    const manifest = JSON.parse(readFileSync(join(plugins, 'greeter/manifest.json'), 'utf8')) as unknown;
    expect(manifest).toEqual(built.manifest);
    expect(() => checkManifest(manifest, 'built')).not.toThrow();
    const greet = readFileSync(join(plugins, 'greeter/greet.js'), 'utf8');
    expect(existsSync(join(plugins, 'greeter/oops.js'))).toBe(true);
    // @wrtkit/sdk comes from the host (the runtime bridge), not inside the bundle
    expect(greet).toContain('wrtkit.runtime.v1');
    expect(greet).not.toMatch(/from\s*["']@wrtkit\/sdk["']/);
    expect(built.commands.greet?.size).toBeGreaterThan(0);
  });

  it('refuses command names a user could not type or that clash with the entry', () => {
    const pkg = (commands: Record<string, string>) => ({ name: 'x', version: '1.0.0', wrtkit: { apiVersion: '^1', commands } });
    expect(() => manifestFor(pkg({ Voucher: 'src/v.ts' }))).toThrow(/command name "Voucher" is not valid/);
    expect(() => manifestFor(pkg({ index: 'src/v.ts' }))).toThrow(/not "index"/);
    expect(manifestFor(pkg({ 'pirania_v-2': 'src/v.ts' })).commands).toEqual({ 'pirania_v-2': 'pirania_v-2.js' });
    expect(manifestFor({ name: 'x', version: '1.0.0', wrtkit: { apiVersion: '^1' } })).not.toHaveProperty('commands');
  });

  it('checks commands in installed manifests', () => {
    const manifest = (commands: Record<string, string>) => ({ name: 'x', version: '1.0.0', apiVersion: '^1', commands });
    expect(checkManifest(manifest({ voucher: 'voucher.js' }), 'm').commands).toEqual({ voucher: 'voucher.js' });
    expect(() => checkManifest(manifest({ '-rf': 'x.js' }), 'm')).toThrow(/\/commands\/-rf: is not a command name/);
    expect(() => checkManifest(manifest({ voucher: '/usr/bin/voucher.js' }), 'm')).toThrow(/commands\/voucher/);
    expect(() => checkManifest(manifest({ voucher: 'src/voucher.ts' }), 'm')).toThrow(/commands\/voucher/);
    expect(() => checkManifest(manifest({ voucher: 'index.js' }), 'm')).toThrow(/is the plugin entry/);
  });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe.each<Engine>(['node', 'qjs'])('plugin commands on %s', (engine) => {
  let root: string;
  let config: string;
  const cli = (...args: string[]): Promise<Run> =>
    new Promise((resolve, reject) => {
      const [program, ...argv] = engineArgv(engine, host, ['--config-dir', config, ...args]);
      const env = { ...process.env };
      delete env.WRTKIT_UBUS_SOCKET;
      delete env.WRTKIT_SOCKET;
      const child = spawn(program as string, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), `wrtkit-commands-${engine}-`));
    config = join(root, 'etc/config');
    mkdirSync(config, { recursive: true });
    writeFileSync(
      join(config, 'wrtkit'),
      [
        "config wrtkit 'main'",
        `\toption plugin_dir '${plugins}'`,
        `\toption state_dir '${root}/state'`,
        `\toption control_socket '${root}/control.sock'`,
        // no ubusd here: the CLI goes straight to the control socket
        `\toption ubus_socket '${root}/no-ubusd.sock'`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(config, 'greeter'), "config greeter 'main'\n\toption greeting 'Hi'\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('--help lists the installed plugins’ commands with their summaries', async () => {
    const help = await cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: wrtkit/);
    expect(help.stdout).toMatch(/\nPlugin commands:\n {2}greet {24}greet someone through the running host \(greeter\)\n/);
    expect(help.stdout).toMatch(/ {2}oops .*does not export a defineCommand\(\) result/);
    // No command at all: the same, on stderr, as a usage error.
    const bare = await cli();
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('greet someone through the running host');
  });

  it('passes the arguments after the command name through untouched; --json before it', async () => {
    const plain = await cli('greet', 'args', '--help', '-x', '--json', '--config-dir', 'elsewhere', 'a b');
    expect(plain.status).toBe(0);
    expect(JSON.parse(plain.stdout)).toEqual({
      argv: ['args', '--help', '-x', '--json', '--config-dir', 'elsewhere', 'a b'],
      json: false,
      engine,
    });
    const json = await cli('--json', '--plugin-dir', plugins, 'greet', 'args');
    expect(JSON.parse(json.stdout)).toEqual({ argv: ['args'], json: true, engine });
  });

  it('makes the return value the exit status', async () => {
    const seven = await cli('greet', 'exit', '7');
    expect(seven).toMatchObject({ status: 7, stdout: '', stderr: 'leaving with 7\n' });
    expect((await cli('greet', 'exit', '0')).status).toBe(0);
    const weird = await cli('greet', 'exit', 'many');
    expect(weird.status).toBe(1);
    expect(weird.stderr).toContain('wrtkit greet: the command returned NaN, not an exit status');
  });

  it('reaches the command with --help, shows its usage on a usage error and with wrtkit help', async () => {
    const own = await cli('greet', '--help');
    expect(own.status).toBe(0);
    expect(own.stdout).toMatch(/^Usage: greet <name>/);
    const wrong = await cli('greet');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/^wrtkit greet: say whom to greet\n\nUsage: greet <name>/);
    const help = await cli('help', 'greet');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^wrtkit greet: greet someone through the running host\n\nUsage: greet <name>/);
  });

  it('gives the command the config directory and UCI', async () => {
    const r = await cli('greet', 'config');
    expect(r.stdout).toBe(`${config}: Hi\n`);
  });

  it('says which commands exist when the name is unknown, and why one does not load', async () => {
    const unknown = await cli('nosuch', '--help');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^wrtkit: unknown command nosuch\n\nUsage: wrtkit/);
    expect(unknown.stderr).toContain('Plugin commands:\n  greet');
    const oops = await cli('oops');
    expect(oops.status).toBe(1);
    expect(oops.stderr).toMatch(/oops\.js does not export a defineCommand\(\) result as default \[WRTKIT_ERR_PLUGIN_LOAD\]/);
  });

  it('calls the running host, and says clearly when there is none', async () => {
    const none = await cli('greet', 'alice');
    expect(none.status).toBe(3);
    expect(none.stderr).toMatch(
      /^wrtkit greet: the host is not running or not reachable .*\[WRTKIT_ERR_CONTROL_UNAVAILABLE\]\n$/,
    );

    const running = new HostProcess(engineArgv(engine, host, ['run', '--config-dir', config]));
    try {
      await running.waitFor(/ready plugins=1 failed=0/);
      const hello = await cli('greet', 'alice');
      expect(hello).toMatchObject({ status: 0, stdout: 'Hello, alice!\n' });
      const json = await cli('--json', 'greet', 'bob');
      expect(JSON.parse(json.stdout)).toEqual({ greeting: 'Hello, bob!', engine });
      // The host's refusal arrives as a coded error the command may catch; uncaught, it fails.
      const refused = await cli('greet', '');
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/^wrtkit greet: greeter\.hello: \/name: .*\[WRTKIT_ERR_INVALID_ARGUMENT\]\n$/);
      const count = JSON.parse((await cli('call', 'greeter.count')).stdout) as { greeted: number };
      expect(count.greeted).toBe(2);
    } finally {
      await running.stop();
    }
  });

  it('writes ACL files that grant public methods to unauthenticated sessions', async () => {
    const dir = join(root, 'acl.d');
    const r = await cli('acl', '--out', dir);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([join(dir, 'wrtkit-greeter.json'), join(dir, 'wrtkit.json')]);
    const acl = JSON.parse(readFileSync(join(dir, 'wrtkit-greeter.json'), 'utf8')) as Record<string, any>;
    expect(Object.keys(acl)).toEqual(['wrtkit-greeter', 'unauthenticated']);
    expect(acl.unauthenticated.read).toEqual({ ubus: { greeter: ['hello'] } });
    expect(acl['wrtkit-greeter'].read.ubus).toEqual({ greeter: ['hello'] });
    expect(acl['wrtkit-greeter'].write.ubus).toEqual({ greeter: ['count', 'hello'] });
  });

  it('still hands everything after uci to uci', async () => {
    const r = await cli('uci', '-c', config, 'get', 'greeter.main.greeting');
    expect(r).toMatchObject({ status: 0, stdout: 'Hi\n' });
  });
});
