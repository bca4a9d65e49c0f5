// `make demo`, step 10: the mptcp plugin on two lab routers joined by two 10 Mbit/s paths
// (plugins/mptcp/test/lab/mptcp-lab.ts, bundled for this plain Node script): plain TCP
// from hostA to hostB over one path, then through the plugin on both routers; the status
// with a subflow on each path; a path taken down and back, re-applied by the plugin. Its
// own lab, torn down at the end (demo.mjs checks nothing is left).
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Runs the step; `check(ok, what)` records a summary line; `bundleTs(entry, outfile)` is demo.mjs's TypeScript bundler. */
export async function mptcpStep({ repo, check, c, indent, bundleTs }) {
  const module = join(repo, '.cache/demo/mptcp-lab.mjs');
  await bundleTs(join(repo, 'plugins/mptcp/test/lab/mptcp-lab.ts'), module);
  const m = await import(module);
  const lab = await m.createMptcpLab({ rates: ['10mbit', '10mbit'] });
  try {
    console.log(
      `  hostA ── routerA ══ p1, p2: 10 Mbit/s each (tc tbf) ══ routerB ── hostB; server address ${m.ADDR.server} on routerB; lab ${lab.prefix}`,
    );
    // only the mptcp plugin on these two routers
    const plugins = lab.tempDir('mptcp-plugins');
    mkdirSync(plugins, { recursive: true });
    cpSync(join(repo, 'build/plugins/mptcp'), join(plugins, 'mptcp'), { recursive: true });
    const single = await m.singlePathBaseline(lab, { seconds: 4, omit: 1 });
    console.log(`  plain TCP over one path (routerA → routerB on p1): ${single.toFixed(2)} Mbit/s`);
    const { a, b } = await m.startRouters(lab, { hostBundle: join(repo, 'build/wrtkit.js'), pluginDir: plugins });
    check(true, 'mptcp: client (routerA) and server (routerB) applied');
    const status = () => a.call('mptcp', 'status');
    const during = new Promise((resolve) => setTimeout(() => resolve(status()), 3500));
    const agg = await m.iperfGoodput(lab, { seconds: 5, omit: 1 });
    const ratio = agg.mbps / single;
    console.log(`  hostA → hostB, plain TCP through the plugin: ${agg.mbps.toFixed(2)} Mbit/s = ${ratio.toFixed(2)}× one path`);
    check(ratio >= 1.5, `mptcp: hostA's plain TCP got ${ratio.toFixed(2)}× one path's goodput over two paths`);
    const s = await during;
    console.log(c('1', '  $ ubus call mptcp status   (routerA, during the transfer; abridged)'));
    for (const p of s.paths) {
      console.log(
        indent(
          `${p.name}: ${p.up ? 'up' : 'down'} ${p.address} via ${p.gateway} table ${p.table} endpoint ${p.endpoint ? 'yes' : 'no'}, ` +
            `${p.subflows} subflow(s), ${(p.subflow_tx_bytes / 1e6).toFixed(1)} MB sent on them`,
        ),
      );
    }
    const conn = s.connections.find((x) => x.subflows.length >= 2);
    if (conn) console.log(indent(`connection ${conn.token}: subflows on ${conn.subflows.map((f) => f.path).join(' + ')}`));
    check(conn !== undefined, 'mptcp: one connection, a subflow on each path');

    await m.pathDown(lab, 1);
    const downAt = Date.now();
    let st;
    for (let i = 0; i < 50; i++) {
      st = await status();
      if (st.paths[0].endpoint === false && st.main_path === 'p2') break;
      await m.sleep(100);
    }
    const route = await a.node.exec(['ip', 'route', 'show', m.ADDR.server]);
    console.log(`  p1 down: re-applied in ${Date.now() - downAt} ms — p1's endpoint removed, ${route.trim()}`);
    const ping = await lab.node('hostA').run(['ping', '-c', '1', '-W', '2', m.ADDR.hostB], { timeoutMs: 5000 });
    check(st?.main_path === 'p2' && ping.exitCode === 0, 'mptcp: p1 down — main routes moved to p2, hostB still reachable');
    await m.pathUp(lab, 1);
    const upAt = Date.now();
    for (let i = 0; i < 100; i++) {
      st = await status();
      if (st.paths.every((p) => p.up && p.endpoint) && st.main_path === 'p1') break;
      await m.sleep(100);
    }
    console.log(
      `  p1 up: endpoint back after ${Date.now() - upAt} ms (rejoin delay 1.5 s after the removal), main routes on p1 again`,
    );
    check(
      st.paths.every((p) => p.endpoint),
      'mptcp: p1 back — its endpoint re-added',
    );
    const stopped = [await a.stop(), await b.stop()];
    const routerA = lab.node('routerA');
    const left = [
      await routerA.exec(['ip', 'route', 'show', 'table', 'all', 'proto', '91']),
      await routerA.exec(['ip', 'mptcp', 'endpoint', 'show']),
      (await routerA.exec(['ip', 'rule', 'show']))
        .split('\n')
        .filter((l) => /lookup 18\d/.test(l))
        .join('\n'),
      (await routerA.run(['nft', 'list', 'table', 'ip', 'wrtkit_mptcp'])).stdout,
    ].join('');
    check(
      stopped.every((x) => x.code === 0) && left.trim() === '',
      'mptcp: both hosts stopped; no route, rule, endpoint or nft table left on routerA',
    );
  } finally {
    await lab.destroy();
  }
  return lab.prefix;
}
