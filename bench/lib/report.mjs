// The printed report: plain-text tables (also pasted into docs/performance.md).

const ms = (v) => (v === undefined ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const ratio = (v) => (v === undefined ? '—' : v < 10 ? `${v.toFixed(2)}×` : `${v.toFixed(1)}×`);
const mib = (kib) => (kib === undefined ? '—' : (kib / 1024).toFixed(1));
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const ns = (v) => Math.round(v).toLocaleString('en-US');
const us = (v) => (v / 1000 < 10 ? (v / 1000).toFixed(1) : Math.round(v / 1000).toLocaleString('en-US'));
const perSecond = (nsPerOp) => Math.round(1e9 / nsPerOp).toLocaleString('en-US');
const mbps = (bytes, nsPerOp) => ((bytes / nsPerOp) * 1e3).toFixed(1); // bytes/ns × 1000 = MB/s

/** Left-aligns the first `left` columns, right-aligns the rest. */
function table(header, rows, left = 1) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((cell, i) => (i < left ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatReport(result) {
  const out = [];
  const { machine, boot, hooks, sizes } = result;
  out.push(
    `wrtkit bench, ${result.date}: ${machine.cpus} × ${machine.cpuModel}, Linux ${machine.kernel}, ` +
      `node ${machine.node}${machine.qjs ? `, QuickJS ${machine.qjs}` : ''}; load average at start ${machine.loadavg}`,
  );

  if (boot) {
    out.push('');
    out.push(`Boot: process start until the host's "ready" log line (median of ${boot.runs} interleaved runs)`);
    out.push('bare = the same engine running a module that only prints "ready" and idles; ratios taken per round');
    out.push(
      table(
        ['engine', 'what', 'boot ms', '× bare', 'min–max ms', 'RSS MiB', '× bare', 'stop ms'],
        boot.rows.map((r) => [
          r.engine,
          r.what === 'bare' ? 'bare engine' : `${r.plugins} plugin${r.plugins === 1 ? '' : 's'}`,
          ms(r.ms),
          ratio(r.ratio),
          `${ms(r.msRange.min)}–${ms(r.msRange.max)}`,
          mib(r.rssKiB),
          ratio(r.rssRatio),
          ms(r.stopMs),
        ]),
        2,
      ),
    );
    for (const d of boot.derived) {
      out.push(
        `${d.engine}: the host without plugins costs ${ms(d.hostFixedMs)} ms over bare, ${ms(d.bundleMs)} ms of it loading ` +
          `the bundle (\`wrtkit version\` ${ms(d.bundleExitMs)} ms vs empty module ${ms(d.emptyExitMs)} ms, start→exit); ` +
          `each plugin adds ${ms(d.perPluginMs)} ms and ${d.perPluginKiB.toFixed(0)} KiB RSS (1→${d.maxPlugins} plugins)`,
      );
    }
  }

  if (hooks) {
    out.push('');
    out.push('Hook call overhead: ns per call with K taps (median of rounds); × = ratio to calling the K functions directly');
    const rows = [];
    for (const [engine, r] of Object.entries(hooks)) {
      for (const x of r.results) {
        rows.push([
          engine,
          x.hook,
          x.k,
          ns(x.ns.direct),
          ns(x.ns.tapable),
          ratio(x.ratio.tapable),
          ns(x.ns.guarded),
          ratio(x.ratio.guarded),
          ns(x.guardNsPerTap),
        ]);
      }
    }
    out.push(table(['engine', 'hook', 'K', 'direct ns', 'tapable ns', '×', 'guarded ns', '×', 'guard ns/tap'], rows, 2));
  }

  if (result.ubus) out.push(...formatUbus(result.ubus));

  if (sizes) {
    out.push('');
    out.push('Bundle sizes (minified as `make build` makes them; gzip -9)');
    out.push(
      table(
        ['bundle', 'minified', 'gzip'],
        sizes.map((s) => [s.name, kib(s.bytes), kib(s.gzip)]),
      ),
    );
  }
  out.push('');
  out.push(`(${(result.totalMs / 1000).toFixed(1)} s in all; raw figures in ${result.jsonPath})`);
  return out.join('\n');
}

const CALL_ROWS = [
  ['ubusById', 'ubus call by id'],
  ['ubusByPath', 'ubus call by path (lookup + call)'],
  ['frames', 'ubus, pre-encoded both ends (broker only)'],
  ['rawDirect', 'raw: client ↔ server'],
  ['rawRelayed', 'raw: client ↔ relay ↔ server'],
];

function formatUbus(ubus) {
  const out = [];
  out.push('');
  out.push('ubus codec: blobmsg encode+decode vs JSON.stringify+JSON.parse of the same payload (median of rounds)');
  out.push("ops/s and MB/s of encode+decode, MB/s over each format's own size; × = blobmsg time ÷ JSON time, per round");
  const rows = [];
  for (const [engine, results] of Object.entries(ubus.codec)) {
    for (const r of results) {
      rows.push([
        engine,
        r.name,
        r.blobBytes,
        r.jsonBytes,
        ns(r.ns.blobEncode),
        ns(r.ns.blobDecode),
        perSecond(r.ns.blobRoundTrip),
        mbps(r.blobBytes, r.ns.blobRoundTrip),
        ns(r.ns.jsonStringify),
        ns(r.ns.jsonParse),
        perSecond(r.ns.jsonRoundTrip),
        mbps(r.jsonBytes, r.ns.jsonRoundTrip),
        ratio(r.ratio),
      ]);
    }
  }
  out.push(
    table(
      [
        'engine',
        'payload',
        'blob B',
        'JSON B',
        'enc ns',
        'dec ns',
        'blob ops/s',
        'MB/s',
        'str ns',
        'parse ns',
        'JSON ops/s',
        'MB/s',
        '×',
      ],
      rows,
      2,
    ),
  );
  const engines = Object.keys(ubus.calls);
  if (engines.length === 0) return out;
  const sizes = ubus.calls[engines[0]].sizes;
  out.push('');
  out.push(
    `ubus calls: round trips through our broker over unix sockets, one after another (median of ${ubus.settings.callRounds} rounds); ` +
      `the call sends ${sizes.request} B and gets ${sizes.reply} B back`,
  );
  out.push(
    'raw = the same bytes as one length-prefixed frame each way, nothing encoded; × = time ÷ the relayed raw round trip ' +
      '(client → broker → server → broker → client has the same 4 socket hops)',
  );
  const callRows = [];
  for (const engine of engines) {
    for (const [layout, label] of [
      ['oneProcess', 'one process'],
      ['separate', 'separate processes'],
    ]) {
      const r = ubus.calls[engine][layout];
      for (const [key, what] of CALL_ROWS) {
        callRows.push([engine, label, what, us(r.ns[key]), perSecond(r.ns[key]), ratio(r.ratio[key])]);
      }
    }
  }
  out.push(table(['engine', 'layout', 'what', 'µs/call', 'calls/s', '× relayed'], callRows, 3));
  return out;
}
