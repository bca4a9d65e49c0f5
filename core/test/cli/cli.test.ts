import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileValidator } from '../../scripts/config-codegen.mjs';
import { runCli } from '../../src/cli/cli.js';
import { method } from '../../src/control/methods.js';
import { definePlugin } from '../../src/plugin/define.js';
import type { Platform } from '../../src/platform/platform.js';
import { makeHost } from '../helpers/host.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    main: { type: 'object', additionalProperties: false, properties: { size: { type: 'integer', maximum: 10, default: 1 } } },
  },
} as const;
const plugin = definePlugin<{ main: { size: number } }>({
  name: 'sizer',
  version: '2.0.0',
  apiVersion: '^1',
  configSchema: schema,
  validateConfig: compileValidator(schema),
  setup(ctx) {
    ctx.serve({
      size: method(
        { access: 'read', schema: { type: 'object', properties: { times: { type: 'integer', default: 1 } } } },
        (args) => ({
          size: ctx.config.main.size * args.times,
        }),
      ),
    });
  },
});

/** The CLI with captured stdout/stderr. */
function cli(platform: Platform, configDir: string, socket: string) {
  return async (...args: string[]) => {
    let stdout = '';
    let stderr = '';
    const captured: Platform = {
      ...platform,
      stdio: { ...platform.stdio, writeStdout: (t) => void (stdout += t), writeStderr: (t) => void (stderr += t) },
    };
    const code = await runCli(captured, ['--config-dir', configDir, '--socket', socket, ...args]);
    return { code, stdout, stderr };
  };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function running() {
  const h = await makeHost(
    (root) => ({
      sizer: "config main 'main'\n\toption size '3'\n",
      wrtkit: `config wrtkit 'main'\n\toption control_socket '${root}/ctl.sock'\n`,
    }),
    {
      plugins: [{ definition: plugin }],
      controlSocket: undefined,
      clock: undefined,
    },
  );
  await h.host.start();
  stops.push(async () => {
    await h.host.stop();
    h.cleanup();
  });
  const platform = (await import('../../src/platform/node/index.js')).createNodePlatform([]);
  return { ...h, run: cli(await platform, h.configDir, join(h.root, 'ctl.sock')) };
}

describe('wrtkit CLI', () => {
  it('shows status, plugins and objects of a running host', async () => {
    const { run } = await running();
    const status = await run('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^version\s+0\.1\.0\nengine\s+node\nstate\s+running/);
    const plugins = await run('plugins', '--json');
    expect(JSON.parse(plugins.stdout)).toMatchObject([{ name: 'sizer', version: '2.0.0', state: 'running' }]);
    expect((await run('objects')).stdout).toContain('sizer.size       read');
  });

  it('calls methods with JSON arguments and maps errors to exit codes', async () => {
    const { run } = await running();
    expect(await run('call', 'sizer.size', '{"times":2}')).toMatchObject({ code: 0, stdout: '{\n  "size": 6\n}\n' });
    expect(await run('call', 'sizer.size', '{"times":"x"}')).toMatchObject({
      code: 2,
      stderr: 'wrtkit: sizer.size: /times: must be integer (type) [WRTKIT_ERR_INVALID_ARGUMENT]\n',
    });
    expect(await run('call', 'sizer.size', '{oops')).toMatchObject({
      code: 2,
      stderr: 'wrtkit: arguments are not valid JSON: {oops\n',
    });
    expect((await run('call', 'sizer.nothing')).stderr).toContain('[WRTKIT_ERR_METHOD_NOT_FOUND]');
    expect((await run('call', 'nodot')).code).toBe(2);
  });

  it('reloads, and reports invalid config with its UCI path and exit 1', async () => {
    const { run, configDir } = await running();
    writeFileSync(join(configDir, 'sizer'), "config main 'main'\n\toption size '99'\n");
    const reload = await run('reload');
    expect(reload.code).toBe(1);
    expect(reload.stdout).toContain('invalid: sizer.main.size: must be <= 10 (maximum); sizer keeps its last good config');
  });

  it('says when the host is not running (exit 3)', async () => {
    const platform = await (await import('../../src/platform/node/index.js')).createNodePlatform([]);
    const run = cli(platform, '/nonexistent', '/nonexistent/ctl.sock');
    const result = await run('status');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/the host is not running or not reachable.*\[WRTKIT_ERR_CONTROL_UNAVAILABLE\]/);
  });

  it('prints usage for no command (exit 2) and --help (exit 0)', async () => {
    const platform = await (await import('../../src/platform/node/index.js')).createNodePlatform([]);
    const run = cli(platform, '/x', '/x');
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: wrtkit/);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('config validate');
    expect((await run('frobnicate')).code).toBe(2);
  });

  it('runs uci commands on any host', async () => {
    const { run, configDir } = await running();
    mkdirSync(join(configDir, '..', 'uci-save'), { recursive: true });
    const show = await run('uci', '-c', configDir, 'get', 'sizer.main.size');
    expect(show).toMatchObject({ code: 0, stdout: '3\n' });
    expect(await run('uci', '-c', configDir, 'get', 'sizer.main.nope')).toMatchObject({
      code: 1,
      stderr: 'uci: Entry not found\n',
    });
  });
});
