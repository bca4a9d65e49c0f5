import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigValidator, parseUci } from '@wrtkit/core';
import { validateConfig } from '../../core/src/config/validate.js';
import sdkPackage from '../package.json' with { type: 'json' };

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../..');
const wrtkitBin = join(repoRoot, 'sdk/bin/wrtkit.mjs');

// sdk/build is plain JavaScript shipped as is (no declarations): its signature, here.
type ScaffoldPlugin = (options: {
  name: string;
  dir?: string;
  sdk?: string;
  log?: (line: string) => void;
}) => Promise<{ dir: string; files: string[] }>;
const { scaffoldPlugin } = (await import(pathToFileURL(join(repoRoot, 'sdk/build/scaffold.mjs')).href)) as {
  scaffoldPlugin: ScaffoldPlugin;
};

/** Every file under dir, relative, sorted. */
function filesIn(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesIn(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

describe('scaffoldPlugin', () => {
  let root: string;
  let dir: string;
  let printed = '';

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wrtkit-scaffold-'));
    dir = join(root, 'my-plugin');
    await scaffoldPlugin({ name: 'my-plugin', dir, log: (line: string) => (printed += `${line}\n`) });
    // Resolve @wrtkit/sdk, vitest and typescript from the workspace, as `npm install` would.
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the template with the name substituted, and the generated config code', () => {
    expect(filesIn(dir).filter((f) => !f.startsWith('node_modules'))).toEqual([
      '.gitignore',
      'README.md',
      'openwrt/Makefile',
      'openwrt/files/etc/config/my-plugin',
      'openwrt/files/etc/init.d/my-plugin',
      'package.json',
      'rollup.config.mjs',
      'schema.json',
      'src/generated/config.ts',
      'src/generated/validate-config.d.ts',
      'src/generated/validate-config.js',
      'src/index.ts',
      'test/lab.test.ts',
      'test/my-plugin.test.ts',
      'test/tsconfig.json',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    for (const file of filesIn(dir).filter((f) => !f.startsWith('node_modules'))) {
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toMatch(/__[A-Z_]+__/);
    }
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({
      name: 'wrtkit-plugin-my-plugin',
      type: 'module',
      wrtkit: { name: 'my-plugin', apiVersion: '^1' },
      dependencies: { '@wrtkit/sdk': `^${sdkPackage.version}` },
      scripts: { 'gen-config': 'wrtkit gen-config', build: 'wrtkit build', pretest: 'wrtkit gen-config', test: 'vitest run' },
    });
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(['@types/node', 'typescript', 'vitest']);
    // A dash is fine in a package name, but the section type is also a TypeScript key.
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8')).properties)).toEqual(['my_plugin']);
    expect(readFileSync(join(dir, 'src/generated/config.ts'), 'utf8')).toMatch(
      /export interface Config \{\s+\/\*\*[^]*?\*\/\s+my_plugin: \{/,
    );
    expect(readFileSync(join(dir, 'src/index.ts'), 'utf8')).toContain("name: 'my-plugin'");
    expect(printed).toContain('npm install');
    expect(printed).toContain('npx wrtkit build');
    expect(printed).toContain('npx wrtkit run --plugin-dir build');
  });

  it('ships a default /etc/config that the generated validator accepts, setting only defaults', async () => {
    const schema = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8'));
    const { default: validator } = (await import(join(dir, 'src/generated/validate-config.js'))) as { default: ConfigValidator };
    const text = readFileSync(join(dir, 'openwrt/files/etc/config/my-plugin'), 'utf8');
    const { package: pkg } = parseUci(text, { name: 'my-plugin', strict: true });
    const result = validateConfig<{ my_plugin: Record<string, unknown> }>('my-plugin', pkg, schema, validator, 'my-plugin');
    expect(result.ok).toBe(true);
    const defaults = validateConfig<{ my_plugin: Record<string, unknown> }>('my-plugin', undefined, schema, validator);
    if (result.ok && defaults.ok) {
      expect({ ...result.config.my_plugin, '.name': undefined }).toEqual({ ...defaults.config.my_plugin, '.name': undefined });
    }
    // and a wrong value is named by its UCI path
    const bad = parseUci("config my_plugin 'main'\n\toption interval 'often'\n", { name: 'my-plugin', strict: true }).package;
    const invalid = validateConfig('my-plugin', bad, schema, validator, 'my-plugin');
    expect(invalid.ok).toBe(false);
    if (!invalid.ok) expect(invalid.issues[0]).toMatchObject({ uciPath: 'my-plugin.main.interval', rule: 'type' });
  });

  it('has a procd init script that is valid sh and reloads the host on commit, and a matching recipe', () => {
    const init = join(dir, 'openwrt/files/etc/init.d/my-plugin');
    expect(() => execFileSync('sh', ['-n', init])).not.toThrow();
    expect(statSync(init).mode & 0o111).toBe(0o111);
    const script = readFileSync(init, 'utf8');
    expect(script).toMatch(/^#!\/bin\/sh \/etc\/rc\.common\n/);
    expect(script).toContain('USE_PROCD=1');
    expect(script).toMatch(/procd_add_reload_trigger my-plugin\n/);
    expect(script).toMatch(/reload_service\(\) \{\n\t\/etc\/init\.d\/wrtkit reload\n\}/);
    const makefile = readFileSync(join(dir, 'openwrt/Makefile'), 'utf8');
    const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    expect(makefile).toContain('PKG_NAME:=wrtkit-plugin-my-plugin\n');
    expect(makefile).toContain(`PKG_VERSION:=${version}\n`);
    expect(makefile).toContain('PKGARCH:=all');
    expect(makefile).toContain('DEPENDS:=+wrtkit');
    expect(makefile).toContain('/usr/share/wrtkit/plugins/my-plugin');
    expect(makefile).toMatch(/conffiles\n\/etc\/config\/my-plugin\nendef/);
    expect(makefile).toContain('$(WRTKIT_BUILD)/acl.d/wrtkit-my-plugin.json');
  });

  it('refuses a bad name and a non-empty directory, saying why', async () => {
    for (const name of ['MyPlugin', '1plugin', 'my_plugin', '-x', '', 'a'.repeat(33)]) {
      await expect(scaffoldPlugin({ name, dir: join(root, 'bad'), log: () => undefined }), name).rejects.toThrow(
        /invalid plugin name .*lower-case letters, digits and dashes, starting with a letter/,
      );
    }
    const used = join(root, 'used');
    mkdirSync(used);
    writeFileSync(join(used, 'notes.txt'), 'mine\n');
    await expect(scaffoldPlugin({ name: 'fine', dir: used, log: () => undefined })).rejects.toThrow(
      /used is not empty \(notes\.txt\)/,
    );
    expect(readdirSync(used)).toEqual(['notes.txt']);
    // the same through the author's command: exit status 1 and the reason on stderr
    const cli = await run(process.execPath, [wrtkitBin, 'new-plugin', 'Bad_Name', '--dir', join(root, 'cli')]).catch(
      (e: unknown) => e,
    );
    expect(cli).toMatchObject({ code: 1, stderr: expect.stringContaining('wrtkit: invalid plugin name "Bad_Name"') });
  });

  it('writes the @wrtkit/sdk spec it is given (a tarball path becomes file:)', async () => {
    const spec = async (sdk: string) => {
      const target = mkdtempSync(join(root, 'spec-'));
      await scaffoldPlugin({ name: 'spec', dir: target, sdk, log: () => undefined });
      return JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')).dependencies['@wrtkit/sdk'];
    };
    expect(await spec('0.1.0')).toBe('0.1.0');
    expect(await spec('./wrtkit-sdk-0.1.0.tgz')).toBe(`file:${resolve('wrtkit-sdk-0.1.0.tgz')}`);
    expect(await spec('file:../sdk')).toBe('file:../sdk');
  });

  it('type-checks (plugin code without Node types, tests with them) and its unit tests pass', async () => {
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const vitest = join(repoRoot, 'node_modules/vitest/vitest.mjs');
    const [src, tests, unit] = await Promise.all([
      run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch((e: unknown) => e),
      run(process.execPath, [tsc, '-p', join(dir, 'test/tsconfig.json')], { cwd: dir }).catch((e: unknown) => e),
      run(process.execPath, [vitest, 'run', 'test/my-plugin.test.ts'], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
      }).catch((e: unknown) => e),
    ]);
    expect(src, 'tsc src').not.toBeInstanceOf(Error);
    expect(tests, 'tsc test').not.toBeInstanceOf(Error);
    expect(unit, 'vitest').not.toBeInstanceOf(Error);
    expect((unit as { stdout: string }).stdout).toMatch(/Tests\s+4 passed \(4\)/);
  }, 120_000);

  it('builds with `wrtkit build` into a bundle and a manifest that agree with package.json', async () => {
    await run(process.execPath, [wrtkitBin, 'build', '--out', join(root, 'out')], { cwd: dir });
    const manifest = JSON.parse(readFileSync(join(root, 'out/my-plugin/manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'my-plugin', version: '0.1.0', apiVersion: '^1', entry: 'index.js' });
    const bundle = readFileSync(join(root, 'out/my-plugin/index.js'), 'utf8');
    expect(bundle).toMatch(/Symbol\.for\(["']wrtkit\.runtime\.v1["']\)/); // @wrtkit/sdk comes from the host
    expect(bundle).not.toMatch(/devDependencies|vitest/); // only version and the manifest from package.json
  }, 60_000);
});
