#!/usr/bin/env node
// The demo without network namespaces (no root): the host and the example plugins on a
// router root in a directory, narrated. `make demo` runs scripts/demo.mjs, which uses
// this only where the lab cannot run.
// Shows: boot from UCI files, a hook one plugin offers and another taps, composition
// applied once, the CLI over the control socket, a config change, an invalid change kept
// out, a throwing plugin isolated and retried, a clean stop, and the same bundle on QuickJS.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const repo = resolve(import.meta.dirname, '..');
const bundle = join(repo, 'build/wrtkit.js');
// The example plugins only: pirania-nftables needs network namespaces (it gates a
// network with nftables), which this demo runs without.
const plugins = join(repo, '.cache/demo/router/usr/lib/wrtkit/plugins');
const qjs = process.env.WRTKIT_QJS ?? join(repo, '.cache/qjs/bin/qjs');
const root = join(repo, '.cache/demo/router');
const configDir = join(root, 'etc/config');
const tty = process.stdout.isTTY;
const c = (code, text) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);

if (!existsSync(bundle)) {
  console.error('demo: build/wrtkit.js is missing; run `make demo` (it builds first)');
  process.exit(1);
}

function step(title) {
  console.log(`\n${c('1;36', `== ${title}`)}`);
}

const native = process.env.WRTKIT_NATIVE ?? join(repo, '.cache/native/wrtkit-native.so');
const qjsArgv = [qjs, '--no-unhandled-rejection'];

/** Runs the wrtkit CLI (on Node by default) and prints what a user sees. */
function wrtkit(...args) {
  return wrtkitOn([process.execPath], ...args);
}

function wrtkitOn(engine, ...args) {
  console.log(c('1', `$ wrtkit ${args.join(' ')}`) + (engine[0] === qjs ? c('2', '   (on QuickJS)') : ''));
  const r = spawnSync(engine[0], [...engine.slice(1), bundle, '--config-dir', configDir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, WRTKIT_NATIVE: native },
  });
  const indent = (text) => text.trimEnd().replace(/^/gm, '  ');
  if (r.stdout.trim()) console.log(indent(r.stdout));
  if (r.stderr.trim()) console.log(c('33', indent(r.stderr)));
  return r;
}

/** A host process whose log lines are shown as they arrive (dimmed) and can be awaited. */
function startHost(engineArgv, label) {
  const lines = [];
  const proc = spawn(engineArgv[0], [...engineArgv.slice(1), bundle, 'run', '--config-dir', configDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // qjs gets sockets (control socket, CLI) from the native module, as on the router
    env: { ...process.env, WRTKIT_NATIVE: native },
  });
  let partial = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop();
    for (const line of parts) {
      lines.push(line);
      const colour = line.startsWith('error') ? '31' : line.startsWith('warn') ? '33' : '2';
      console.log(c(colour, `  ${label}│ ${line}`));
    }
  });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return {
    proc,
    exited,
    async waitFor(pattern, from = 0, timeoutMs = 15000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (lines.slice(from).some((l) => pattern.test(l))) return;
        if (proc.exitCode !== null) break;
        await sleep(50);
      }
      throw new Error(`demo: the host did not log ${pattern}`);
    },
    mark: () => lines.length,
  };
}

// ---- the virtual router ---------------------------------------------------------------
rmSync(root, { recursive: true, force: true });
mkdirSync(configDir, { recursive: true });
mkdirSync(plugins, { recursive: true });
for (const name of ['heartbeat', 'beat-counter']) symlinkSync(join(repo, 'build/plugins', name), join(plugins, name));
const write = (name, text) => writeFileSync(join(configDir, name), text);
write(
  'wrtkit',
  `config wrtkit 'main'
	option plugin_dir '${plugins}'
	option state_dir '${root}/etc/wrtkit/state'
	option control_socket '${root}/var/run/wrtkit/control.sock'
	option state_flush_delay '200'
	option retry_initial '1500'

config apply 'wireless'
	list command 'sh'
	list command '-c'
	list command 'echo "wifi reload ($(date +%T))" >> "$0"'
	list command '${root}/wifi-reloads.log'
`,
);
write('heartbeat', "config heartbeat 'main'\n\toption interval '1000'\n\toption label 'demo-router'\n");
write('beat-counter', "config counter 'main'\n\toption wifi_iface 'default_radio0'\n\toption ssid 'Community-WiFi'\n");
write(
  'wireless',
  "config wifi-device 'radio0'\n\toption type 'mac80211'\n\toption channel '1'\n\nconfig wifi-iface 'default_radio0'\n\toption device 'radio0'\n\toption mode 'ap'\n\toption ssid 'OpenWrt'\n",
);

console.log(c('1', 'wrtkit demo: the host and two example plugins on a virtual router root'));
console.log(`router root: ${root}`);
console.log('plugins: heartbeat (beats, offers a `beat` hook) and beat-counter (taps it, composes an SSID)');

try {
  step('1. Boot the host (procd would run `wrtkit run`)');
  const host = startHost([process.execPath], 'host');
  await host.waitFor(/ready plugins=2/);
  await host.waitFor(/heartbeat: beat count=2/);

  step('2. Status and plugins over the control socket');
  wrtkit('status');
  wrtkit('plugins');
  wrtkit('call', 'beat-counter.status');

  step('3. Composition: beat-counter set the SSID; the host applied wireless once');
  wrtkit('uci', '-c', configDir, 'show', 'wireless.default_radio0');
  console.log(c('1', '$ cat wifi-reloads.log'));
  console.log(readFileSync(join(root, 'wifi-reloads.log'), 'utf8').replace(/^/gm, '  ').trimEnd());

  step('4. A config change: uci set + commit, then reload');
  wrtkit('uci', '-c', configDir, 'set', 'heartbeat.main.label=renamed');
  wrtkit('uci', '-c', configDir, 'commit', 'heartbeat');
  let mark = host.mark();
  wrtkit('reload');
  await host.waitFor(/label=renamed/, mark);

  step('5. An invalid change is named and kept out; the plugin keeps its last good config');
  wrtkit('uci', '-c', configDir, 'set', 'heartbeat.main.interval=fast');
  wrtkit('uci', '-c', configDir, 'commit', 'heartbeat');
  wrtkit('config', 'validate');
  mark = host.mark();
  wrtkit('reload');
  await host.waitFor(/heartbeat: beat count/, mark);
  wrtkit('uci', '-c', configDir, 'set', 'heartbeat.main.interval=1000');
  wrtkit('uci', '-c', configDir, 'commit', 'heartbeat');

  step('6. A plugin that throws is isolated, reported and retried; the rest keep running');
  const status = JSON.parse(
    spawnSync(process.execPath, [bundle, '--config-dir', configDir, 'call', 'heartbeat.status'], { encoding: 'utf8' }).stdout,
  );
  const failAt = status.count + 2;
  wrtkit('uci', '-c', configDir, 'set', `beat-counter.main.fail_at=${failAt}`);
  wrtkit('uci', '-c', configDir, 'commit', 'beat-counter');
  mark = host.mark();
  wrtkit('reload');
  await host.waitFor(/plugin beat-counter failed in hook heartbeat\.beat/, mark);
  wrtkit('plugins');
  await host.waitFor(/plugin restarted plugin=beat-counter/, mark);
  wrtkit('plugins');

  step('7. SIGTERM: teardown in reverse order, state flushed, exit 0');
  host.proc.kill('SIGTERM');
  const exit = await host.exited;
  console.log(`  exit code ${exit.code}; saved state:`);
  for (const name of ['heartbeat', 'beat-counter']) {
    console.log(
      `  ${name}.json ${readFileSync(join(root, 'etc/wrtkit/state', `${name}.json`), 'utf8')
        .replace(/\s+/g, ' ')
        .trim()}`,
    );
  }

  step('8. The same bundle on QuickJS (the router engine): boot, beat on from saved state, the CLI, stop');
  if (existsSync(qjs)) {
    const onQjs = startHost(qjsArgv, 'qjs ');
    await onQjs.waitFor(/heartbeat: beat count/);
    wrtkitOn(qjsArgv, 'plugins');
    onQjs.proc.kill('SIGTERM');
    console.log(`  exit code ${(await onQjs.exited).code}`);
  } else {
    console.log(c('33', `  qjs not found at ${qjs}: run scripts/fetch-qjs.sh`));
  }
  console.log(`\n${c('1;32', 'demo done.')} Try it yourself: node build/wrtkit.js --config-dir ${configDir} --help`);
} catch (error) {
  console.error(c('31', String(error?.message ?? error)));
  process.exitCode = 1;
}
