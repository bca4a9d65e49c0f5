/**
 * A plugin author's path, outside this repository: the SDK as a packed tarball (what an
 * author downloads), `create-wrtkit-plugin` from it into a temporary directory that is
 * not inside the monorepo, `npm install` there, the generated tests green, `wrtkit build`,
 * and the built bundle loaded into the host the SDK ships, on Node.js and on QuickJS.
 * Slow (npm installs from the registry): it is the proof that authors need nothing else.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostProcess, type Engine, qjsPath, repoRoot } from '../../../core/test/helpers/engines.js';
import { buildNative } from '../../../core/test/platform/native-build.js';

const name = 'hello-lab';
let work: string;
let tarball: string;
let pluginDir: string;
let stage: string;

function sh(argv: string[], cwd: string, env: Record<string, string> = {}): string {
  const result = spawnSync(argv[0] as string, argv.slice(1), {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 600_000,
  });
  if (result.status !== 0)
    throw new Error(`${argv.join(' ')} (in ${cwd}) exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

beforeAll(() => {
  // /tmp is not inside /work/main: nothing of the monorepo's node_modules can leak in.
  work = mkdtempSync(join(tmpdir(), 'wrtkit-author-'));
  expect(work.startsWith(repoRoot)).toBe(false);
  tarball = sh([process.execPath, join(repoRoot, 'scripts/pack-sdk.mjs'), '--out', join(work, 'sdk')], repoRoot).trim();
  stage = join(work, 'sdk/package');
  expect(existsSync(tarball)).toBe(true);
}, 300_000);

afterAll(() => {
  if (work && !process.env.WRTKIT_KEEP_AUTHOR_DIR) rmSync(work, { recursive: true, force: true });
});

describe('a plugin author outside the monorepo', () => {
  it('scaffolds from the packed SDK, installs, tests green, builds', () => {
    const projects = join(work, 'projects');
    mkdirSync(projects);
    // `npm create wrtkit-plugin` is `npm exec create-wrtkit-plugin` from the package.
    sh(
      ['npm', 'exec', '--yes', `--package=${tarball}`, '--', 'create-wrtkit-plugin', name, '--sdk', `file:${tarball}`],
      projects,
    );
    pluginDir = join(projects, name);
    const pkg = JSON.parse(readFileSync(join(pluginDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      wrtkit: unknown;
    };
    expect(pkg.dependencies['@wrtkit/sdk']).toBe(`file:${tarball}`);
    expect(pkg.wrtkit).toBeTruthy();
    sh(['npm', 'install', '--no-audit', '--no-fund'], pluginDir);
    // The installed SDK is the tarball's, not a link into the repository.
    expect(existsSync(join(pluginDir, 'node_modules/@wrtkit/sdk/dist/index.js'))).toBe(true);
    expect(readFileSync(join(pluginDir, 'node_modules/@wrtkit/sdk/package.json'), 'utf8')).not.toContain('src/index.ts');
    // src and tests type-check against the tarball's declarations
    sh(['npm', 'run', 'typecheck'], pluginDir);
    const tests = sh(['npm', 'test'], pluginDir);
    expect(tests).toMatch(/Test Files .*passed/);
    sh(['npm', 'run', 'build'], pluginDir);
    expect(existsSync(join(pluginDir, `build/${name}/index.js`))).toBe(true);
    expect(JSON.parse(readFileSync(join(pluginDir, `build/${name}/manifest.json`), 'utf8'))).toMatchObject({
      name,
      apiVersion: '^1',
    });
  }, 900_000);

  describe.each<Engine>(['node', 'qjs'])('the built plugin in the host the SDK ships, on %s', (engine) => {
    it('loads, runs, answers its methods, stops cleanly', async () => {
      expect(pluginDir, 'the scaffold test must run first').toBeTruthy();
      const root = mkdtempSync(join(work, `root-${engine}-`));
      const config = join(root, 'etc/config');
      mkdirSync(config, { recursive: true });
      writeFileSync(
        join(config, 'wrtkit'),
        `config wrtkit 'main'\n\toption plugin_dir '${join(pluginDir, 'build')}'\n\toption state_dir '${root}/state'\n\toption control_socket '${root}/control.sock'\n\toption ubus_socket '${root}/no-ubus.sock'\n`,
      );
      const host = join(stage, 'dist/host/wrtkit.js');
      const env = { WRTKIT_NATIVE: buildNative() };
      const argv = (args: string[]) =>
        engine === 'node' ? [process.execPath, host, ...args] : [qjsPath(), '--no-unhandled-rejection', host, ...args];
      process.env.WRTKIT_NATIVE = env.WRTKIT_NATIVE;
      const running = new HostProcess(argv(['run', '--config-dir', config]));
      try {
        await running.waitFor(/ready plugins=1 failed=0/);
        const plugins = JSON.parse(
          execFileSync(argv([])[0] as string, [...argv(['--config-dir', config, 'plugins', '--json']).slice(1)], {
            encoding: 'utf8',
            env: { ...process.env, ...env },
          }),
        ) as Array<{ name: string; state: string }>;
        expect(plugins).toEqual([expect.objectContaining({ name, state: 'running' })]);
        const objects = execFileSync(argv([])[0] as string, [...argv(['--config-dir', config, 'objects']).slice(1)], {
          encoding: 'utf8',
          env: { ...process.env, ...env },
        });
        expect(objects).toContain(`${name}.`);
        running.signal('SIGTERM');
        expect((await running.exited).code).toBe(0);
      } finally {
        await running.stop();
      }
    }, 120_000);
  });
});
