// A real browser inside a lab node: headless Chromium started in the node's network
// namespace and driven by Playwright, to test what people see (a captive portal, a
// status page) from a client's side of the lab network.
//
// Playwright talks to Chromium over a pipe (the browser's fds 3 and 4), not over the
// network, so the browser can live in another namespace than the test: its executable is
// a small generated script that does `ip netns exec <ns> … chromium "$@"`. Inside, the
// script bind-mounts a resolv.conf (the nameservers you give, else none) and an
// nsswitch.conf (`hosts: files dns`) over /etc for Chromium only (ip netns exec gives it
// a private mount namespace), so names are looked up in the lab and never through the
// machine's resolver.
import { accessSync, constants, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { Lab, LabNode } from './lab.js';
import { hasProgram, labSupported } from './support.js';

/** Where Chromium is looked for, after `options.executable` and `$WRTKIT_CHROMIUM`. */
export const CHROMIUM_PATHS: readonly string[] = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/**
 * Switches for a browser in a lab: no sandbox (the lab runs as root), no GPU, and nothing
 * that phones home (updates, sync, metrics, safe-browsing lists, crash reports, pings).
 * The namespace has no way out of the lab anyway; these keep the browser quiet and quick.
 * Playwright adds its own (`--disable-background-networking`, `--disable-features=…`).
 */
export const LAB_CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--metrics-recording-only',
  '--disable-breakpad',
  '--disable-crash-reporter',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--safebrowsing-disable-auto-update',
  '--disable-default-apps',
  '--disable-extensions',
  '--no-pings',
  '--disable-dev-shm-usage',
];

export interface LaunchBrowserOptions {
  /** The Chromium binary. Default: `$WRTKIT_CHROMIUM`, else /usr/bin/chromium, else /usr/bin/chromium-browser. */
  executable?: string;
  /**
   * DNS servers the browser uses (addresses inside the lab, e.g. the router's). Default
   * none: names resolve from /etc/hosts only, IP addresses work as always.
   */
  nameservers?: readonly string[];
  /** More Chromium switches, after LAB_CHROMIUM_ARGS. */
  args?: readonly string[];
  /** Default true. A headed browser needs a display reachable from the namespace. */
  headless?: boolean;
  /** How long the launch may take (default 30 s). */
  timeoutMs?: number;
  /** Added to the browser's environment. */
  env?: Record<string, string>;
}

export type BrowserSupport = { ok: true; executable: string } | { ok: false; reason: string };

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium to use: `explicit`, `$WRTKIT_CHROMIUM`, then CHROMIUM_PATHS; undefined when none is there. */
export function findChromium(explicit?: string): string | undefined {
  if (explicit !== undefined) return executable(explicit) ? explicit : undefined;
  return [process.env.WRTKIT_CHROMIUM, ...CHROMIUM_PATHS].find((p): p is string => !!p && executable(p));
}

function playwrightMissing(): string | undefined {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return undefined;
  } catch {
    return 'launchBrowser needs playwright-core (npm install --save-dev playwright-core)';
  }
}

/**
 * Whether `launchBrowser` can work here: labs can (Linux, root, iproute2), Chromium is
 * installed (Debian: apt-get install chromium), playwright-core is, and so is `mount`.
 * Synchronous, for `describe.skipIf(!browserSupported().ok)`.
 */
export function browserSupported(options: { executable?: string } = {}): BrowserSupport {
  const lab = labSupported();
  if (!lab.ok) return lab;
  const chromium = findChromium(options.executable);
  if (chromium === undefined) {
    const where = options.executable ?? [process.env.WRTKIT_CHROMIUM, ...CHROMIUM_PATHS].filter(Boolean).join(', ');
    return { ok: false, reason: `no Chromium at ${where} (Debian: apt-get install chromium; or set WRTKIT_CHROMIUM)` };
  }
  const playwright = playwrightMissing();
  if (playwright) return { ok: false, reason: playwright };
  if (!hasProgram('mount')) return { ok: false, reason: 'launchBrowser needs mount (Debian: apt-get install mount)' };
  return { ok: true, executable: chromium };
}

/** A word for a POSIX shell, single-quoted. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function programPath(name: string): string {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) if (executable(join(dir, name))) return join(dir, name);
  return name;
}

const IP_LITERAL = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;

/**
 * Writes the wrapper Playwright runs as the browser: `ip netns exec <ns>` into the node,
 * lab-only name lookup, then Chromium with Playwright's arguments. Returns its path.
 * @internal
 */
export function writeBrowserWrapper(dir: string, netns: string, chromium: string, nameservers: readonly string[] = []): string {
  for (const server of nameservers) {
    if (!IP_LITERAL.test(server)) throw new Error(`launchBrowser: nameserver ${JSON.stringify(server)} is not an IP address`);
  }
  const resolvConf = join(dir, 'resolv.conf');
  const nsswitch = join(dir, 'nsswitch.conf');
  writeFileSync(
    resolvConf,
    '# lab browser: only these nameservers (none: names from /etc/hosts only)\n' +
      (nameservers.length > 0 ? nameservers.map((s) => `nameserver ${s}\n`).join('') : 'nameserver 127.0.0.1\n') +
      'options timeout:1 attempts:2\n',
  );
  writeFileSync(nsswitch, '# lab browser: no resolver outside the lab\nhosts: files dns\n');
  const inner = join(dir, 'in-node.sh');
  writeFileSync(
    inner,
    [
      '#!/bin/sh',
      '# Runs inside the lab node (ip netns exec gave it a private mount namespace): name',
      "# lookups go to the lab only, then Chromium gets Playwright's arguments.",
      'set -e',
      `if [ -e /etc/resolv.conf ]; then mount --bind ${shellQuote(resolvConf)} /etc/resolv.conf; fi`,
      `if [ -e /etc/nsswitch.conf ]; then mount --bind ${shellQuote(nsswitch)} /etc/nsswitch.conf; fi`,
      `exec ${shellQuote(chromium)} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const wrapper = join(dir, 'chromium-in-node.sh');
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `# @wrtkit/sdk/lab launchBrowser: Chromium inside network namespace ${netns}.`,
      `exec ${shellQuote(programPath('ip'))} netns exec ${shellQuote(netns)} /bin/sh ${shellQuote(inner)} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return wrapper;
}

/**
 * Starts headless Chromium inside `node`'s network namespace and connects Playwright to
 * it: what the browser fetches goes out of that node, as a client's would.
 *
 * ```ts
 * const browser = await launchBrowser(lab.node('client'), { nameservers: ['10.1.0.1'] });
 * const page = await browser.newPage();
 * await page.goto('http://10.1.0.1:59080/');
 * await page.fill('#voucher', 'ABCDEF');
 * await page.click('button[type=submit]');
 * await browser.close();
 * ```
 *
 * Close it with `browser.close()`; `lab.destroy()` kills it with everything else in the
 * namespace otherwise (the Browser then reports `disconnected`). Needs what
 * `browserSupported()` checks.
 */
export async function launchBrowser(node: LabNode, options: LaunchBrowserOptions = {}): Promise<Browser> {
  const support = browserSupported(options.executable !== undefined ? { executable: options.executable } : {});
  if (!support.ok) throw new Error(`launchBrowser: ${support.reason}`);
  // the node's lab owns the temp dir, so destroy() (or the reaper) removes it
  const lab = (node as unknown as { lab: Lab }).lab;
  const dir = lab.tempDir(`browser-${node.name}`);
  const wrapper = writeBrowserWrapper(dir, node.netns, support.executable, options.nameservers);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: wrapper,
    args: [...LAB_CHROMIUM_ARGS, ...(options.args ?? [])],
    headless: options.headless ?? true,
    chromiumSandbox: false,
    timeout: options.timeoutMs ?? 30_000,
    // the lab's own exit and signal handling tears the namespace (and the browser) down
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    env: { ...(process.env as Record<string, string>), ...options.env },
  });
}
