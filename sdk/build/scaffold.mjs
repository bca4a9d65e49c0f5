// `wrtkit new-plugin <name>` and `npm create wrtkit-plugin <name>`: a new plugin workspace
// made from templates/plugin, ready to `npm install`, test, build and package.
//
// Template files are real files with placeholders:
//   __NAME__     the plugin name (manifest name, /etc/config/<name>, ubus object, file names)
//   __SECTION__  its UCI section type and config key (the name with - turned into _)
//   __PACKAGE__  the npm and OpenWrt package name, wrtkit-plugin-<name>
//   __SDK__      the @wrtkit/sdk dependency spec
// Two renames keep the template directory inert inside the SDK: a trailing `.tmpl` is
// dropped (TypeScript files would otherwise be type-checked and linted as part of the
// SDK, without their generated code), and `gitignore` becomes `.gitignore` (npm pack
// leaves `.gitignore` files out of the tarball).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { genConfig } from './gen-config.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where the template lives (in the repository and in the SDK tarball alike). */
export const TEMPLATE_DIR = path.join(here, '../templates/plugin');

/** The manifest's rule for plugin names (core/src/plugin/manifest.ts, PLUGIN_NAME_PATTERN). */
export const PLUGIN_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** Throws an Error that says what is wrong with a plugin name, and what would be right. */
export function checkPluginName(name) {
  if (typeof name !== 'string' || !PLUGIN_NAME_PATTERN.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name) : String(name);
    const hint = typeof name === 'string' && name.length > 32 ? ' (it is longer than 32 characters)' : '';
    throw new Error(
      `invalid plugin name ${shown}${hint}: a plugin name is 1 to 32 characters, lower-case letters, digits and dashes, ` +
        'starting with a letter (it becomes /etc/config/<name>, the ubus object and the package name), e.g. "wifi-guard"',
    );
  }
  return name;
}

/** The @wrtkit/sdk dependency spec: a version range, or a path to a tarball/directory as `file:`. */
function sdkSpec(sdk) {
  if (sdk === undefined || sdk === '') {
    const own = JSON.parse(fs.readFileSync(path.join(here, '../package.json'), 'utf8'));
    return `^${own.version}`;
  }
  // A bare path (./wrtkit-sdk-0.1.0.tgz, /opt/sdk) would be read as a version by npm.
  const looksLikePath = /^[./~]/.test(sdk) || /\.(tgz|tar\.gz)$/.test(sdk);
  if (looksLikePath && !/^[a-z+]+:/.test(sdk)) return `file:${path.resolve(sdk)}`;
  return sdk;
}

function listTemplate(dir, prefix = '') {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listTemplate(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

function targetPath(rel, values) {
  let out = rel.replace(/\.tmpl$/, '');
  out = out.replace(/(^|\/)gitignore$/, '$1.gitignore');
  for (const [key, value] of Object.entries(values)) out = out.split(key).join(value);
  return out;
}

function substitute(text, values, json) {
  let out = text;
  for (const [key, value] of Object.entries(values)) {
    // In JSON files a value lands inside a string literal: escape it as one.
    out = out.split(key).join(json ? JSON.stringify(value).slice(1, -1) : value);
  }
  return out;
}

/**
 * Makes a new plugin workspace in `dir` (default `./<name>`), which must not exist or be
 * empty. `sdk` is the @wrtkit/sdk dependency spec written to its package.json (default:
 * this SDK's version). Runs gen-config once, so the workspace type-checks at once.
 * Returns the directory and the files written (relative paths).
 *
 * @param {{ name: string, dir?: string, sdk?: string, log?: (line: string) => void }} options
 * @returns {Promise<{ dir: string, files: string[] }>}
 */
export async function scaffoldPlugin({ name, dir, sdk, log = (line) => console.log(line) } = {}) {
  checkPluginName(name);
  const target = path.resolve(dir ?? name);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new Error(`${target} exists and is not a directory`);
    const present = fs.readdirSync(target);
    if (present.length > 0) {
      throw new Error(
        `${target} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''}): ` +
          'a new plugin needs a new or empty directory (choose one with --dir)',
      );
    }
  }

  const values = {
    __NAME__: name,
    __SECTION__: name.replace(/-/g, '_'),
    __PACKAGE__: `wrtkit-plugin-${name}`,
    __SDK__: sdkSpec(sdk),
  };
  const files = [];
  for (const rel of listTemplate(TEMPLATE_DIR)) {
    const source = path.join(TEMPLATE_DIR, rel);
    const out = targetPath(rel, values);
    const file = path.join(target, out);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, substitute(fs.readFileSync(source, 'utf8'), values, out.endsWith('.json')));
    // procd runs init scripts directly; npm pack may not keep the mode of template files.
    const executable = out.includes('/etc/init.d/') || (fs.statSync(source).mode & 0o111) !== 0;
    fs.chmodSync(file, executable ? 0o755 : 0o644);
    files.push(out);
  }
  // package.json must stay valid JSON whatever the sdk spec was.
  JSON.parse(fs.readFileSync(path.join(target, 'package.json'), 'utf8'));

  // schema.json → src/generated: the config type and the validator, so that src/index.ts
  // type-checks before the first `npm test` (which regenerates them).
  const generated = await genConfig({ schemaPath: path.join(target, 'schema.json'), outDir: path.join(target, 'src/generated') });
  files.push(...generated.map((f) => path.relative(target, f)));

  const shown = path.relative(process.cwd(), target) || '.';
  const cd = shown === '.' ? [] : [`  cd ${shown.includes(' ') ? JSON.stringify(shown) : shown}`];
  log(
    [
      `Created the wrtkit plugin "${name}" in ${target}:`,
      ...[...files].sort().map((f) => `  ${f}`),
      '',
      'Next:',
      ...cd,
      '  npm install',
      '  npm test                 unit tests on a fake clock; test/lab.test.ts runs only as root',
      `  npx wrtkit build         bundle + manifest into build/${name}/`,
      `  npx wrtkit run --plugin-dir build --config-dir openwrt/files/etc/config --state-dir .dev/state --socket .dev/control.sock`,
      `  npx wrtkit call ${name}.status --socket .dev/control.sock     (in a second terminal)`,
      '',
      'README.md says how to package it for OpenWrt; the guide is docs/plugin-authors.md of wrtkit.',
    ].join('\n'),
  );
  return { dir: target, files };
}
