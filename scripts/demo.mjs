#!/usr/bin/env node
// `make demo`: a virtual router made of network namespaces (the SDK's lab), running the
// wrtkit host with the plugins that exist, narrated, with a summary at the end.
//
//   laptop ── router ── isp        laptop and isp talk through the router (IPv4 + IPv6);
//                                  the router runs ubusd (wrtkit's), the host and the CLI
//
// It shows the host booting the plugins from their bundles and UCI files, serving them on
// ubus, a hook one plugin offers and another taps, composition applied once, a config
// change, an invalid change kept out, a plugin that throws isolated and restarted, the
// pirania, dynapoint and offload plugins doing their jobs, the same bundle on QuickJS, and
// mptcp aggregating two paths between two more routers; then it tears the labs down and
// checks nothing is left behind.
// Without root (no namespaces) it runs scripts/demo-local.mjs instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { mptcpStep } from './demo-mptcp.mjs';

const repo = resolve(import.meta.dirname, '..');
const bundle = join(repo, 'build/wrtkit.js');
const pluginDir = join(repo, 'build/plugins');
const qjs = process.env.WRTKIT_QJS ?? join(repo, '.cache/qjs/bin/qjs');
const native = process.env.WRTKIT_NATIVE ?? join(repo, '.cache/native/wrtkit-native.so');
const tty = process.stdout.isTTY;
const c = (code, text) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const step = (title) => console.log(`\n${c('1;36', `== ${title}`)}`);
const indent = (text) => text.trimEnd().replace(/^/gm, '  ');

if (!existsSync(bundle)) {
  console.error('demo: build/wrtkit.js is missing; run `make demo` (it builds first)');
  process.exit(1);
}

// The lab is the SDK's TypeScript; bundle it (and step 10's lab module) for this plain Node script.
/** Bundles a TypeScript module of the repository into an ES module this script can import. */
async function bundleTs(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    // The browser helper's playwright-core stays a package (the demo does not start a browser).
    external: ['playwright-core'],
    banner: {
      js: "import { createRequire as createRequireForLab } from 'node:module'; const require = createRequireForLab(import.meta.url);",
    },
  });
}
const labModule = join(repo, '.cache/demo/lab.mjs');
await bundleTs(join(repo, 'sdk/src/lab/index.ts'), labModule);
const { createLab, labSupported, leftovers } = await import(labModule);

const support = labSupported();
if (!support.ok) {
  console.log(c('33', `demo: ${support.reason}`));
  console.log(c('33', 'demo: running the demo without network namespaces instead (scripts/demo-local.mjs)\n'));
  const r = spawnSync(process.execPath, [join(repo, 'scripts/demo-local.mjs')], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const summary = [];
const check = (ok, what) => {
  summary.push([ok, what]);
  console.log(`  ${ok ? c('32', '✓') : c('31', '✗')} ${what}`);
};

const lab = await createLab({
  nodes: { laptop: {}, router: { forwarding: true }, isp: {} },
  links: [
    {
      a: 'laptop',
      b: 'router',
      names: { router: 'lan' },
      addresses: { laptop: ['192.168.1.10/24', 'fd00:1::10/64'], router: ['192.168.1.1/24', 'fd00:1::1/64'] },
    },
    {
      a: 'router',
      b: 'isp',
      names: { router: 'wan' },
      shape: { rate: '50mbit' },
      addresses: { router: ['100.64.0.2/24', 'fd00:64::2/64'], isp: ['100.64.0.1/24', 'fd00:64::1/64'] },
    },
  ],
  routes: {
    laptop: ['default via 192.168.1.1', 'default via fd00:1::1'],
    router: ['default via 100.64.0.1', 'default via fd00:64::1'],
    isp: ['192.168.1.0/24 via 100.64.0.2', 'fd00:1::/64 via fd00:64::2'],
  },
});

// Step 7's parts: the offload datapath and its daemon, built here (clang, libbpf; the
// packages scripts/setup.sh installs), so `make demo` needs nothing else
const offloaddDir = join(repo, '.cache/native/offloadd');
const offloadObject = join(repo, `.cache/ebpf/offload/offload.${endianness() === 'LE' ? 'bpfel' : 'bpfeb'}.o`);
for (const dir of ['ebpf/offload', 'native/offloadd']) {
  const made = spawnSync('make', ['-s', '-C', join(repo, dir)], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (made.status !== 0) {
    console.error(`demo: building ${dir} failed`);
    process.exit(1);
  }
}
const FW4 = `table inet fw4 {
  chain forward { type filter hook forward priority filter; ct state established,related accept; }
  chain srcnat { type nat hook postrouting priority srcnat; meta nfproto ipv4 oifname "wan" masquerade; }
}`;
/** isp's echo server, and the laptop's paced transfer (prints CONNECTED <port>, then RESULT {ok, sent}). */
const ECHO_SERVER =
  "require('node:net').createServer((s) => { s.on('error', () => {}); s.pipe(s); }).listen(5001, '::', () => console.log('LISTENING'))";
const ECHO_CLIENT = `
const net = require('node:net'), crypto = require('node:crypto');
const [host, port, ms] = process.argv.slice(1);
const sent = crypto.createHash('sha256'), got = crypto.createHash('sha256');
let nSent = 0, nGot = 0, word = 0;
const s = net.connect({ host, port: Number(port) }, () => {
  console.log('CONNECTED ' + s.localPort);
  const end = Date.now() + Number(ms);
  const tick = () => {
    if (Date.now() >= end) return s.end();
    const buf = Buffer.alloc(16384);
    for (let k = 0; k < buf.length; k += 4) buf.writeUInt32BE((word++ * 2654435761) >>> 0, k);
    sent.update(buf); nSent += buf.length;
    if (s.write(buf)) setTimeout(tick, 5); else s.once('drain', () => setTimeout(tick, 5));
  };
  tick();
});
s.on('data', (d) => { got.update(d); nGot += d.length; });
s.on('end', () => console.log('RESULT ' + JSON.stringify({ ok: nSent === nGot && sent.digest('hex') === got.digest('hex'), sent: nSent })));
s.on('error', (e) => console.log('RESULT ' + JSON.stringify({ ok: false, error: e.message })));
`;

let exitCode = 0;
let bpffs;
let mptcpPrefix;
try {
  console.log(c('1', 'wrtkit demo: a virtual router made of network namespaces'));
  console.log(`  laptop (192.168.1.10) ── lan │ router │ wan ── isp (100.64.0.1), 50 Mbit/s uplink; lab ${lab.prefix}`);

  step('1. The router forwards between laptop and isp (real traffic, both families)');
  for (const [family, target] of [
    ['IPv4', '100.64.0.1'],
    ['IPv6', 'fd00:64::1'],
  ]) {
    const ping = await lab.node('laptop').run(['ping', '-c', '2', '-i', '0.2', '-W', '2', target], { timeoutMs: 10_000 });
    const rtt = /= [\d.]+\/([\d.]+)\//.exec(ping.stdout)?.[1];
    check(ping.exitCode === 0, `${family}: laptop → isp through the router (${rtt ? `${rtt} ms` : 'no reply'})`);
  }

  step('2. ubusd and the wrtkit host on the router (Node.js); the plugins from their bundles');
  const root = lab.tempDir('router-root');
  const ubusSocket = join(root, 'ubus.sock');
  const ubusd = lab.node('router').spawn([process.execPath, bundle, 'ubusd', '--socket', ubusSocket]);
  await ubusd.waitFor(/listening|ubusd/i, { timeoutMs: 10_000 }).catch(() => undefined);
  const config = {
    wrtkit: `config wrtkit 'main'\n\toption plugin_dir '${pluginDir}'\n\toption ubus_socket '${ubusSocket}'\n\toption state_flush_delay '200'\n\toption retry_initial '1500'\n\nconfig apply 'wireless'\n\tlist command 'true'\n`,
    heartbeat: "config heartbeat 'main'\n\toption interval '1000'\n\toption label 'router'\n",
    'beat-counter': "config counter 'main'\n\toption wifi_iface 'default_radio0'\n\toption ssid 'Community-WiFi'\n",
    wireless: "config wifi-iface 'default_radio0'\n\toption device 'radio0'\n\toption mode 'ap'\n\toption ssid 'OpenWrt'\n",
    system: "config system\n\toption hostname 'router'\n",
  };
  // offloadd (step 7) is found on PATH, as on the router: the plugin's manifest allows it by name
  const env = { PATH: `${offloaddDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  let host = await lab.startHost('router', { engine: 'node', hostBundle: bundle, pluginDir, config, env });
  const show = (line) => console.log(c('2', `  host│ ${line}`));
  let shown = 0;
  const flush = () => {
    for (; shown < host.lines.length; shown++) show(host.lines[shown]);
  };
  await host.waitForLog(/ready plugins=6 failed=0/);
  await host.waitForLog(/heartbeat: beat count=2/);
  flush();
  check(host.matching(/serving objects on ubus/).length > 0, 'the host serves its objects on ubus');
  // The CLI as a user on the router types it: over ubus (the host is on it).
  const cli = (...args) =>
    lab.node('router').run([process.execPath, bundle, '--config-dir', host.configDir, ...args], { timeoutMs: 15_000 });
  const say = (args, r) => {
    console.log(c('1', `  $ wrtkit ${args.join(' ')}`));
    if (r.stdout.trim()) console.log(indent(r.stdout));
    if (r.stderr.trim()) console.log(c('33', indent(r.stderr)));
    return r;
  };
  say(['plugins'], await cli('plugins'));
  const objects = say(['objects'], await cli('objects'));
  check(
    /heartbeat\.status/.test(objects.stdout) && /beat-counter\.status/.test(objects.stdout),
    "the plugins' methods are on ubus",
  );
  const counted = JSON.parse((await cli('call', 'beat-counter.status')).stdout);
  check(counted.received >= 2, `beat-counter taps heartbeat's offered hook (${counted.received} beats received)`);
  const wireless = readFileSync(join(host.configDir, 'wireless'), 'utf8');
  check(
    /ssid 'Community-WiFi'/.test(wireless) && host.matching(/applied package=wireless/).length === 1,
    'beat-counter composed the SSID; wireless applied once',
  );

  step('3. A config change, and an invalid one (named by its UCI path, kept out)');
  say(
    ['uci', 'set', 'heartbeat.main.label=renamed'],
    await cli('uci', '-c', host.configDir, 'set', 'heartbeat.main.label=renamed'),
  );
  await cli('uci', '-c', host.configDir, 'commit', 'heartbeat');
  let mark = host.lines.length;
  say(['reload'], await cli('reload'));
  await host.waitForLog(/label=renamed/, { from: mark });
  check(true, 'heartbeat picked up its new label without a restart');
  await cli('uci', '-c', host.configDir, 'set', 'heartbeat.main.interval=fast');
  await cli('uci', '-c', host.configDir, 'commit', 'heartbeat');
  const invalid = say(['config', 'validate'], await cli('config', 'validate'));
  mark = host.lines.length;
  await cli('reload');
  await host.waitForLog(/heartbeat: beat count/, { from: mark });
  check(
    /heartbeat\.main\.interval: must be integer/.test(invalid.stdout),
    'the invalid change is reported with heartbeat.main.interval; heartbeat keeps beating',
  );
  await cli('uci', '-c', host.configDir, 'set', 'heartbeat.main.interval=1000');
  await cli('uci', '-c', host.configDir, 'commit', 'heartbeat');

  step('4. A plugin that throws: reported, switched off, restarted; the rest go on');
  const status = JSON.parse((await cli('call', 'heartbeat.status')).stdout);
  await cli('uci', '-c', host.configDir, 'set', `beat-counter.main.fail_at=${status.count + 2}`);
  await cli('uci', '-c', host.configDir, 'commit', 'beat-counter');
  mark = host.lines.length;
  await cli('reload');
  await host.waitForLog(/plugin beat-counter failed in hook heartbeat\.beat/, { from: mark, timeoutMs: 15_000 });
  flush();
  say(['plugins'], await cli('plugins'));
  await host.waitForLog(/plugin restarted plugin=beat-counter/, { from: mark, timeoutMs: 15_000 });
  flush();
  check(true, 'beat-counter failed in heartbeat.beat, was isolated and restarted; heartbeat never stopped');

  step('5. pirania-nftables: a voucher captive portal (nftables gate, portal page, voucher CLI)');
  // isp runs a web page; the laptop is on the router's lan, which pirania gates.
  const web = lab
    .node('isp')
    .spawn([
      process.execPath,
      '-e',
      "require('node:http').createServer((q, r) => r.end('the internet')).listen(80, '::', () => console.log('web up'))",
    ]);
  await web.waitFor(/web up/, { timeoutMs: 10_000 });
  /** The laptop asks for a page (GET, or POST of a form); status, Location and the text of the page. */
  const browse = async (url, form) => {
    const script = `
      const [url, form, host] = process.argv.slice(1);
      const body = form ? new URLSearchParams(JSON.parse(form)).toString() : undefined;
      const headers = host ? { host } : {};
      if (body) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) });
      const req = require('node:http').request(url, { method: body ? 'POST' : 'GET', headers, timeout: 3000 }, (res) => {
        let text = ''; res.on('data', (d) => (text += d));
        res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, location: res.headers.location, text: text.replace(/<[^>]+>/g, ' ').replace(/\\s+/g, ' ').trim() })));
      });
      req.on('timeout', () => { req.destroy(); console.log(JSON.stringify({ error: 'timeout' })); });
      req.on('error', (e) => console.log(JSON.stringify({ error: e.code })));
      if (body) req.write(body);
      req.end();`;
    const portal = url.includes(':59080');
    const r = await lab
      .node('laptop')
      .run([process.execPath, '-e', script, url, form ? JSON.stringify(form) : '', portal ? 'thisnode.info:59080' : ''], {
        timeoutMs: 10_000,
      });
    return JSON.parse(r.stdout || '{"error":"no answer"}');
  };
  writeFileSync(
    join(host.configDir, 'pirania'),
    [
      "config base_config 'base_config'",
      "\toption enabled '0'",
      `\toption db_path '${root}/pirania/vouchers/'`,
      `\toption content_path '${root}/pirania/content.json'`,
      `\toption run_dir '${root}/run/pirania'`,
      "\tlist catch_interfaces 'lan'",
      "\tlist allowlist_ipv4 '192.168.0.0/16'",
      '',
    ].join('\n'),
  );
  await cli('reload');
  mark = host.lines.length;
  say(
    ['call', 'pirania.set_portal_config', '\'{"activated":true,"with_vouchers":true}\''],
    await cli('call', 'pirania.set_portal_config', '{"activated":true,"with_vouchers":true}'),
  );
  await host.waitForLog(/portal up/, { from: mark, timeoutMs: 15_000 });
  flush();
  const before = await browse('http://100.64.0.1/');
  console.log(`  laptop: GET http://100.64.0.1/ → ${before.status ?? before.error} ${before.location ?? ''}`);
  const pingBlocked = await lab.node('laptop').run(['ping', '-c', '1', '-W', '1', '100.64.0.1'], { timeoutMs: 5000 });
  check(
    before.status === 302 && /thisnode\.info:59080/.test(before.location ?? '') && pingBlocked.exitCode !== 0,
    'without a voucher the laptop is sent to the portal; everything else is dropped',
  );
  const added = say(['voucher', 'add', 'demo', '60'], await cli('voucher', 'add', 'demo', '60'));
  const code = added.stdout.split('\t')[2];
  const wrong = await browse('http://192.168.1.1:59080/activate', { voucher: 'NOPE' });
  console.log(`  laptop: POST code NOPE → ${wrong.status}: ${(/That code[^.]*\./.exec(wrong.text ?? '') ?? [''])[0]}`);
  const right = await browse('http://192.168.1.1:59080/activate', { voucher: code });
  console.log(`  laptop: POST code ${code} → ${right.status}: ${(/You are online\.[^.]*\./.exec(right.text ?? '') ?? [''])[0]}`);
  const after = await browse('http://100.64.0.1/');
  const pingOpen = await lab.node('laptop').run(['ping', '-c', '1', '-W', '2', '100.64.0.1'], { timeoutMs: 5000 });
  check(
    wrong.status === 403 &&
      right.status === 200 &&
      after.status === 200 &&
      after.text === 'the internet' &&
      pingOpen.exitCode === 0,
    'a wrong code is refused; the right one opens the internet for the laptop at once',
  );
  say(['voucher', 'list_active'], await cli('voucher', 'list_active'));
  const nftList = await lab.node('router').run(['nft', 'list', 'set', 'inet', 'pirania', 'pirania-auth-macs']);
  console.log(
    indent(
      nftList.stdout
        .split('\n')
        .filter((l) => /elements|expires/.test(l))
        .join('\n'),
    ),
  );
  flush();
  mark = host.lines.length;
  await cli('call', 'pirania.set_portal_config', '{"activated":false,"with_vouchers":true}');
  await host.waitForLog(/portal disabled/, { from: mark, timeoutMs: 15_000 });
  await web.stop();

  step('6. dynapoint: the SSID follows the uplink (a maintenance SSID while it is down)');
  const web2 = lab
    .node('isp')
    .spawn([
      process.execPath,
      '-e',
      "require('node:http').createServer((q, r) => r.end('ok')).listen(80, '::', () => console.log('web up'))",
    ]);
  await web2.waitFor(/web up/, { timeoutMs: 10_000 });
  for (const args of [
    ['set', 'wireless.default_radio0.dynapoint_rule=internet'],
    ['set', 'wireless.maintenance=wifi-iface'],
    ['set', 'wireless.maintenance.device=radio0'],
    ['set', 'wireless.maintenance.mode=ap'],
    ['set', 'wireless.maintenance.ssid=Community-maintenance'],
    ['set', 'wireless.maintenance.dynapoint_rule=!internet'],
    ['commit', 'wireless'],
  ]) {
    say(['uci', ...args], await cli('uci', '-c', host.configDir, ...args));
  }
  writeFileSync(
    join(host.configDir, 'dynapoint'),
    "config rule 'internet'\n\tlist hosts 'http://100.64.0.1/'\n\tlist hosts 'dns://100.64.0.1/example.org'\n\toption interval '1'\n\toption timeout '0.5'\n\toption offline_threshold '3'\n\toption online_threshold '2'\n\toption add_hostname_to_ssid '1'\n",
  );
  console.log(indent(readFileSync(join(host.configDir, 'dynapoint'), 'utf8')));
  mark = host.lines.length;
  await cli('reload');
  await host.waitForLog(/rule internet starts online/, { from: mark, timeoutMs: 15_000 });
  await host.waitForLog(/applied package=wireless/, { from: mark, timeoutMs: 10_000 });
  const appliesNow = async () => JSON.parse((await cli('call', 'wrtkit.status')).stdout).compose.wireless.applies;
  const ssids = () => {
    const text = readFileSync(join(host.configDir, 'wireless'), 'utf8');
    const of = (name) => {
      const block = text.split(/\n(?=config )/).find((b) => b.includes(`'${name}'`)) ?? '';
      const ssid = /option ssid '([^']*)'/.exec(block)?.[1];
      return `${ssid}${/option disabled '1'/.test(block) ? ' (off)' : ' (on)'}`;
    };
    return `${of('default_radio0')}, ${of('maintenance')}`;
  };
  await new Promise((r) => setTimeout(r, 1500));
  flush();
  console.log(`  wireless: ${ssids()}`);
  const applies0 = await appliesNow();
  mark = host.lines.length;
  console.log(c('1', '  (router)$ ip link set dev wan down'));
  await lab.node('router').run(['ip', 'link', 'set', 'dev', 'wan', 'down']);
  await host.waitForLog(/rule internet switched to offline/, { from: mark, timeoutMs: 20_000 });
  await host.waitForLog(/applied package=wireless/, { from: mark, timeoutMs: 10_000 });
  flush();
  const offline = ssids();
  console.log(`  wireless: ${offline}`);
  mark = host.lines.length;
  console.log(c('1', '  (router)$ ip link set dev wan up'));
  await lab.node('router').run(['ip', 'link', 'set', 'dev', 'wan', 'up']);
  await host.waitForLog(/rule internet switched to online/, { from: mark, timeoutMs: 20_000 });
  await host.waitForLog(/applied package=wireless/, { from: mark, timeoutMs: 10_000 });
  flush();
  const online = ssids();
  console.log(`  wireless: ${online}`);
  const applied = (await appliesNow()) - applies0;
  check(
    offline === 'Community-WiFi (off), Community-maintenance_router (on)' &&
      online === 'Community-WiFi (on), Community-maintenance (off)' &&
      applied === 2,
    `the uplink dropped: the maintenance SSID came up, and went away again (${applied} wireless applies, one per switch)`,
  );
  await web2.stop();
  // the demo's next steps run without the rule (and without wireless marks naming it)
  writeFileSync(join(host.configDir, 'dynapoint'), '');
  for (const args of [
    ['delete', 'wireless.default_radio0.dynapoint_rule'],
    ['delete', 'wireless.maintenance.dynapoint_rule'],
    ['commit', 'wireless'],
  ]) {
    await cli('uci', '-c', host.configDir, ...args);
  }
  await cli('reload');

  step('7. offload: an established flow moves onto the eBPF fast path (tc on lan and wan)');
  // fw4's forwarding essentials: conntrack (offloadd takes flows from it) and masquerade
  const fw4 = await lab.node('router').run(['nft', '-f', '-'], { input: FW4 });
  check(fw4.exitCode === 0, 'the router forwards through nftables: ct established accept, masquerade out of wan');
  bpffs = lab.tempDir('bpffs');
  spawnSync('mount', ['-t', 'bpf', 'bpf', bpffs]);
  writeFileSync(
    join(host.configDir, 'offload'),
    [
      "config offload 'main'",
      "\toption enabled '1'",
      "\tlist interfaces 'lan'",
      "\tlist interfaces 'wan'",
      "\toption mode 'tc'",
      `\toption object '${offloadObject}'`,
      "\toption daemon 'offloadd'",
      `\toption pin_dir '${bpffs}/offload'`,
      `\toption control_socket '${root}/offloadd.sock'`,
      '',
    ].join('\n'),
  );
  console.log(indent(readFileSync(join(host.configDir, 'offload'), 'utf8')));
  mark = host.lines.length;
  await cli('reload');
  await host.waitForLog(/offloadd configured/, { from: mark, timeoutMs: 20_000 });
  flush();
  const offStatus = JSON.parse((await cli('call', 'offload.status')).stdout);
  console.log(
    `  offload.status: ${offStatus.offloadd.interfaces.map((i) => `${i.ifname}=${i.attached}`).join(' ')}, ${offStatus.offloadd.flows} flows`,
  );
  const echo = lab.node('isp').spawn([process.execPath, '-e', ECHO_SERVER]);
  await echo.waitFor(/LISTENING/, { timeoutMs: 10_000 });
  console.log(c('1', '  (laptop)$ a 6-second TCP transfer to 100.64.0.1:5001, echoed back, SHA-256 on both ends'));
  const transfer = lab.node('laptop').spawn([process.execPath, '-e', ECHO_CLIENT, '100.64.0.1', '5001', '6000']);
  const [connected] = await transfer.waitFor(/^CONNECTED \d+/, { timeoutMs: 10_000 });
  const laptopPort = Number(connected.split(' ')[1]);
  /** Both directions of the laptop's connection (found by its original direction's source port). */
  const flowsNow = async () => {
    const all = JSON.parse((await cli('call', 'offload.flows')).stdout).flows;
    const mine = all.find((f) => f.dir === 'original' && f.key.proto === 'tcp' && f.key.sport === laptopPort);
    return mine ? all.filter((f) => f.id === mine.id) : [];
  };
  const showFlows = (flows) => {
    for (const f of flows) {
      const nat = f.nat ? ` nat ${f.nat.src ?? ''}${f.nat.dst ?? ''}` : '';
      console.log(
        `  ${f.dir.padEnd(8)} in ${f.key.ifname} ${f.key.src}:${f.key.sport} → ${f.key.dst}:${f.key.dport}${nat} out ${f.egress.ifname}: ${f.counters.packets} packets, ${f.counters.bytes} bytes`,
      );
    }
  };
  let first = [];
  for (let i = 0; i < 50 && !(first.length === 2 && first.every((f) => f.counters.packets > 0)); i++) {
    await new Promise((r) => setTimeout(r, 100));
    first = await flowsNow();
  }
  console.log(c('1', '  $ wrtkit call offload.flows'));
  showFlows(first);
  await new Promise((r) => setTimeout(r, 1500));
  const later = await flowsNow();
  console.log(c('1', '  $ wrtkit call offload.flows   (1.5 s later)'));
  showFlows(later);
  const packetsOf = (flows, dir) => flows.find((f) => f.dir === dir)?.counters.packets ?? 0;
  const original = first.find((f) => f.dir === 'original');
  check(
    first.length === 2 &&
      later.length === 2 &&
      packetsOf(later, 'original') > packetsOf(first, 'original') &&
      packetsOf(later, 'reply') > packetsOf(first, 'reply') &&
      original?.nat?.src === '100.64.0.2',
    'the transfer left the stack for the fast path: both directions offloaded, masqueraded, counters growing',
  );
  const [resultLine] = await transfer.waitFor(/^RESULT /, { timeoutMs: 30_000 });
  const outcome = JSON.parse(resultLine.slice('RESULT '.length));
  await new Promise((r) => setTimeout(r, 500));
  const left = await flowsNow();
  check(
    outcome.ok && left.length === 0,
    `the data arrived intact (${(outcome.sent / 1e6).toFixed(1)} MB each way, SHA-256 equal); the FIN handed the flow back (0 flows left)`,
  );
  flush();
  await echo.stop();
  writeFileSync(join(host.configDir, 'offload'), "config offload 'main'\n\toption enabled '0'\n");
  mark = host.lines.length;
  await cli('reload');
  await host.waitForLog(/offload disabled/, { from: mark, timeoutMs: 15_000 });

  step('8. SIGTERM: teardown in reverse order, state flushed');
  const stopped = await host.stop();
  flush();
  check(stopped.code === 0, `the host exited with ${stopped.code}`);
  const saved = JSON.parse(readFileSync(join(host.stateDir, 'heartbeat.json'), 'utf8'));
  console.log(`  heartbeat.json ${JSON.stringify(saved)}`);

  step('9. The same bundle on QuickJS (the router engine), on the same state and ubusd');
  if (existsSync(qjs)) {
    writeFileSync(join(host.configDir, 'heartbeat'), config.heartbeat);
    host = await lab.startHost('router', {
      engine: 'qjs',
      hostBundle: bundle,
      pluginDir,
      config: {},
      qjs,
      native,
      root: host.root,
    });
    shown = 0;
    await host.waitForLog(/heartbeat: beat count=(\d+)/);
    flush();
    const first = Number(/count=(\d+)/.exec(host.matching(/heartbeat: beat count/)[0] ?? '')?.[1]);
    check(first === saved.count + 1, `QuickJS carried on counting from the saved state (beat ${first})`);
    const onQjs = lab.node('router').run([qjs, '--no-unhandled-rejection', bundle, '--config-dir', host.configDir, 'plugins'], {
      timeoutMs: 15_000,
      env: { WRTKIT_NATIVE: native },
    });
    say(['plugins', '(the CLI on QuickJS, over ubus)'], await onQjs);
    check((await host.stop()).code === 0, 'the QuickJS host stopped cleanly');
  } else {
    check(false, `qjs not found at ${qjs} (scripts/fetch-qjs.sh)`);
  }
  await ubusd.stop();

  step('10. mptcp: two routers, two 10 Mbit/s paths, plain TCP aggregated over kernel MPTCP');
  mptcpPrefix = await mptcpStep({ repo, check, c, indent, bundleTs });
} catch (error) {
  console.error(c('31', `demo failed: ${error?.stack ?? error}`));
  exitCode = 1;
} finally {
  if (bpffs) spawnSync('umount', ['-l', bpffs]);
  await lab.destroy();
  const left = leftovers(lab.prefix);
  const leftMptcp = mptcpPrefix ? leftovers(mptcpPrefix) : { namespaces: [], processes: [], dirs: [] };
  const clean = [left, leftMptcp].every((l) => l.namespaces.length === 0 && l.processes.length === 0 && l.dirs.length === 0);
  summary.push([clean, 'the lab is gone: no namespaces, processes or files left']);
  console.log(`\n${c('1', 'Summary')}`);
  for (const [ok, what] of summary) console.log(`  ${ok ? c('32', '✓') : c('31', '✗')} ${what}`);
  if (summary.some(([ok]) => !ok)) exitCode = 1;
  console.log(exitCode === 0 ? c('1;32', '\ndemo done.') : c('1;31', '\ndemo finished with failures.'));
  process.exit(exitCode);
}
