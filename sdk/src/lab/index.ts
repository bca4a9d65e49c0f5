/**
 * # `@wrtkit/sdk/lab` — virtual networks of real Linux network namespaces
 *
 * For plugin authors' integration tests and the demo: describe nodes (each one network
 * namespace), veth links between them with addresses, optional shaping, bridges and
 * routes; the lab builds it with iproute2/tc/sysctl (argv arrays, never a shell), runs
 * programs and the wrtkit host inside nodes, and tears everything down — also when a test
 * fails or the test process is killed. Node.js only (test tooling, not router runtime);
 * needs Linux and root (CI runs as root).
 *
 * ```ts
 * import { createLab, labSupported, leftovers } from '@wrtkit/sdk/lab';
 *
 * const lab = await createLab({
 *   nodes: { client: {}, router: { forwarding: true }, server: {} },
 *   links: [
 *     { a: 'client', b: 'router',
 *       addresses: { client: ['10.1.0.2/24', 'fd01::2/64'], router: ['10.1.0.1/24', 'fd01::1/64'] } },
 *     { a: 'router', b: 'server',
 *       shape: { rate: '20mbit' },                 // tc tbf, both directions
 *       mac: { server: '02:00:00:00:00:02' },
 *       addresses: { router: ['10.2.0.1/24', 'fd02::1/64'], server: ['10.2.0.2/24', 'fd02::2/64'] } },
 *   ],
 *   routes: { client: ['default via 10.1.0.1', 'default via fd01::1'],
 *             server: ['default via 10.2.0.1', 'default via fd02::1'] },
 * });
 * try {
 *   const ping = await lab.node('client').run(['ping', '-c1', '-W2', '10.2.0.2'], { timeoutMs: 5000 });
 *   // ping.exitCode, ping.stdout, ping.stderr
 *   const iperf = lab.node('server').spawn(['iperf3', '-s', '-1', '--forceflush']);
 *   await iperf.waitFor(/Server listening/);
 *   lab.node('router').ifname('client');           // 'eth-client': router's end of that link
 *   lab.node('server').address('router', 6);       // 'fd02::2'
 * } finally {
 *   await lab.destroy();                           // idempotent
 * }
 * ```
 *
 * ## Spec (`LabSpec`)
 *
 * - `nodes: { [name]: { forwarding?, sysctl? } }` — one namespace each, named
 *   `<prefix>-<name>`; `lo` is up; IPv4 and IPv6 forwarding are set to `forwarding`
 *   (default off — set explicitly, as new namespaces copy the host's IPv4 settings);
 *   IPv6 DAD is off, so addresses work at once.
 * - `links: [{ a, b, addresses?, names?, mac?, mtu?, shape? }]` — a veth pair made
 *   directly inside both namespaces. Interface names default to `eth-<peer>` (numbered when
 *   two links join the same nodes; `names: { router: 'wan' }` overrides, ≤ 15 chars);
 *   names live only inside their namespace, so any number of labs can run at once.
 *   `shape: { rate?, burst?, latency?, delay?, jitter?, loss?, from? }`: `rate` ('20mbit'
 *   or bit/s) is a tc TBF on egress; `delay`/`jitter`/`loss` use netem (netem root, TBF
 *   child); both ends (both directions) unless `from` names the one end whose outgoing
 *   traffic is shaped. netem needs CONFIG_NET_SCH_NETEM: `labCapabilities()` says if the
 *   kernel has it; without it a spec with `delay` fails with a message saying so.
 * - `bridges: [{ node, name, ports, addresses?, mac? }]` — a Linux bridge in `node`; ports
 *   are interface names or peer node names (the node's end of the link to that peer).
 * - `routes: { [node]: ['default via 10.1.0.1', 'default via fd01::1', …] }` — `ip route add`
 *   arguments, split on whitespace (or an argv array); the family follows the addresses.
 * - `prefix?` — the namespace/temp-dir prefix (2–12 of [a-z0-9]). Default `wkl` + 5 random
 *   characters, unique on the machine. Pass your own to look for leftovers from outside.
 *
 * ## `Lab`
 *
 * - `lab.prefix`, `lab.nodeNames`, `lab.node(name)` → `LabNode`, `lab.tempDir(label)`
 *   (removed by destroy), `lab.destroyed`.
 * - `lab.destroy()` — kills every process inside the lab's namespaces (whoever started it:
 *   found by each process's /proc/<pid>/ns/net, what `ip netns pids` does), deletes the
 *   namespaces (interfaces go with them) and the temp dirs. Idempotent.
 * - `lab.startHost(node, options)` → `LabHost`, see below.
 *
 * ## `LabNode`
 *
 * - `run(argv, { timeoutMs?, input?, env?, cwd?, check? })` → `{ exitCode, signal, stdout,
 *   stderr, timedOut }` via `ip netns exec`; never throws for a failing program unless
 *   `check: true`. `exec(argv)` → stdout, throws `LabCommandError` on failure.
 * - `spawn(argv, { env?, cwd? })` → `LabProcess { pid, lines, output, exited, exitStatus,
 *   waitFor(regex, { from?, count?, timeoutMs? }), matching(regex), kill(signal?),
 *   stop(graceMs?) }` (stdout and stderr lines together).
 * - `ifname(peer, index?)`, `interfaces()`, `addresses(ifnameOrPeer?, family?)`,
 *   `address(ifnameOrPeer, family?)` (no prefix length), `netns`, `inode`, `pids()`.
 * - `ip(args)` (`ip -n <netns> …`), `sysctl({ key: value })`, `setForwarding(on)`.
 *
 * ## The wrtkit host in a node: `lab.startHost(node, options)` → `LabHost`
 *
 * Makes a router root in a temp dir (`etc/config/<name>` from `options.config`, `state/`,
 * `run/control.sock`) and runs `wrtkit run --config-dir … --plugin-dir … --state-dir …
 * --socket …` inside the node. `options`: `engine` ('node' default, or 'qjs' — run with
 * `--no-unhandled-rejection`, with `WRTKIT_NATIVE` set to the native module when found),
 * `hostBundle` (default `$WRTKIT_HOST_BUNDLE`, else the SDK's `dist/host/wrtkit.js`, else
 * the monorepo's `build/wrtkit.js`), `pluginDir` (default `$WRTKIT_PLUGIN_DIR`, else
 * `plugins/` beside the bundle, i.e. the monorepo's `build/plugins`), `config`
 * (`{ wrtkit: "config wrtkit 'main'\n…", heartbeat: '…' }`; a minimal `wrtkit` is written
 * when missing), `env`, `qjs`, `native`.
 * `LabHost`: `waitForLog(regex, { from?, count?, timeoutMs? })` (rejects with the whole
 * log when the host exits first), `lines`, `matching(regex, from?)`, `pid`, `exited`,
 * `call(object, method, args?)` (the wrtkit CLI inside the node, over the control socket;
 * parsed JSON, throws on a failing call), `cli(args)` (any CLI command, a RunResult),
 * `signal(sig)`, `stop()` (SIGTERM, then SIGKILL after a grace period; resolves with
 * `{ code, signal }` — `{ code: 0, signal: null }` for a clean stop), `root`, `configDir`,
 * `stateDir`, `socket`.
 *
 * ## A real browser in a node: `launchBrowser(node, options?)` → Playwright `Browser`
 *
 * Headless Chromium started inside the node's network namespace, driven by Playwright
 * (`playwright-core`, a dev dependency of your tests) over a pipe: what it fetches leaves
 * from that node, as a client's would — a captive portal seen by a phone on the LAN.
 *
 * ```ts
 * import { browserSupported, launchBrowser } from '@wrtkit/sdk/lab';
 *
 * describe.skipIf(!browserSupported().ok)('portal', () => {
 *   it('takes a voucher', async () => {
 *     const browser = await launchBrowser(lab.node('client'), { nameservers: ['10.1.0.1'] });
 *     try {
 *       const page = await browser.newPage();
 *       await page.goto('http://example.org/');      // DNS and HTTP through the lab router
 *       await page.fill('#voucher', 'ABCDEF');
 *       await page.click('button[type=submit]');
 *       expect(await page.textContent('h1')).toContain('online');
 *     } finally {
 *       await browser.close();
 *     }
 *   });
 * });
 * ```
 *
 * - Chromium is `options.executable`, else `$WRTKIT_CHROMIUM`, else /usr/bin/chromium,
 *   else /usr/bin/chromium-browser (Debian: `apt-get install chromium`).
 * - The browser's executable is a generated script in a lab temp dir that runs
 *   `ip netns exec <ns>`, bind-mounts a resolv.conf (`options.nameservers`, lab addresses;
 *   default none: IP addresses and /etc/hosts only) and `hosts: files dns` over /etc for
 *   Chromium alone, and execs Chromium with Playwright's arguments.
 * - Switches (`LAB_CHROMIUM_ARGS`): `--no-sandbox` (root), `--disable-gpu`, no first-run,
 *   and nothing that phones home (background networking, component updates, sync,
 *   metrics, crash reports, safe-browsing updates, pings). The namespace has no way out
 *   of the lab in any case. `options.args` adds more; `headless`, `timeoutMs`, `env`.
 * - `browser.close()` ends it; `lab.destroy()` kills it with everything else in the
 *   namespace (the Browser then reports `disconnected`), and removes the script's dir.
 * - `browserSupported({ executable? })` → `{ ok: true, executable } | { ok: false, reason }`
 *   (lab support, Chromium, playwright-core, `mount`), synchronous for `describe.skipIf`.
 *
 * ## Teardown even when things go wrong
 *
 * 1. `await lab.destroy()` in `finally`, or the vitest helpers from
 *    `@wrtkit/sdk/lab/vitest` (source `sdk/src/lab/vitest.ts`): `useLab(spec, { scope:
 *    'file' | 'test' })` returns an accessor and destroys in afterAll/afterEach;
 *    `await testLab(spec)` inside a test destroys when that test finishes.
 * 2. A safety net in the test process: on `exit`, SIGINT, SIGTERM and SIGHUP every live lab
 *    is torn down synchronously (a signal nobody else listens to is then re-raised, so the
 *    process still dies of it).
 * 3. A detached reaper process per lab that waits for the test process to disappear —
 *    however it ended, SIGKILL included — and then cleans up what the lab's registry
 *    (`/run/wrtkit-lab/<prefix>.json`, or `$WRTKIT_LAB_RUN_DIR`) lists.
 *
 * `leftovers(prefix?)` lists what labs whose prefix starts with `prefix` (default `wkl`,
 * every generated one) left: `{ namespaces, processes, dirs, registries }`, all empty when
 * clean. Labs still alive count too: pass the lab's own prefix, or call it at the end.
 *
 * ## Requirements
 *
 * `labSupported()` → `{ ok: true } | { ok: false, reason }` (Linux, root, `ip`, `tc`,
 * `sysctl`), synchronous for `describe.skipIf`; `requireRoot()` throws with that reason.
 * `labCapabilities()` probes the kernel once (tbf, netem, htb, fq_codel, veth, bridge) and
 * whether `ping` and `iperf3` are installed (Debian: iputils-ping, iperf3).
 */
import { type Lab, buildLab } from './lab.js';
import type { LabSpec } from './spec.js';

export { type Leftovers, leftovers } from './cleanup.js';
export {
  type BrowserSupport,
  CHROMIUM_PATHS,
  LAB_CHROMIUM_ARGS,
  type LaunchBrowserOptions,
  browserSupported,
  findChromium,
  launchBrowser,
} from './browser.js';
export { type HostEngine, LabHost, type StartHostOptions, defaultHostPaths } from './host.js';
export { Lab, LabNode, type SpawnOptions } from './lab.js';
export { type ExitStatus, LabCommandError, LabProcess, type RunOptions, type RunResult, type WaitOptions } from './proc.js';
export { type BridgeSpec, type LabSpec, LabSpecError, type LinkSpec, type NodeSpec, type ShapeSpec, parseRate } from './spec.js';
export { type LabCapabilities, type LabSupport, labCapabilities, labSupported, requireRoot } from './support.js';
// The Wi-Fi lab VM (QEMU, Debian's kernel with mac80211_hwsim): sdk/src/lab/vm/index.ts
export * from './vm/index.js';
export { type Radio, type StationOptions, WIFI_GUEST, WifiLab, keyValues } from './wifi.js';

/**
 * Builds the lab the spec describes. The spec is validated first (nothing is created for
 * a bad spec); if building fails halfway, what was made is torn down before the error is
 * thrown. Requires root (see `labSupported()`).
 */
export function createLab(spec: LabSpec): Promise<Lab> {
  return buildLab(spec);
}
