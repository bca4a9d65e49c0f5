/**
 * Hook call overhead: what the host's guarded plugin taps cost per hook call compared
 * with calling the same K async functions directly. Bundled by bench/lib/fixtures.mjs
 * with the repo's rollup setup and run on node and on qjs by bench/lib/hooks.mjs; prints
 * one JSON object on stdout. It measures, it asserts nothing about speed.
 *
 *   <engine> .cache/bench/hook-overhead.js [--ks 1,10,50] [--target-ms 25] [--rounds 7]
 *
 * Three ways to run the same K functions, each timed the same way:
 *  - direct:  awaited by hand (Promise.all for the parallel hook, a loop passing the
 *             value on for the waterfall);
 *  - tapable: the same functions tapped straight onto a tapable hook (what tapable's
 *             generated dispatch costs on its own);
 *  - guarded: each function tapped by its own PluginRuntime through createPluginHooks, as
 *             the host wires a plugin (guardTap: liveness check, a time limit armed and
 *             cleared on the clock, per-hook stats, and for waterfalls a copy of the value
 *             per tap so a failing tap's half-made changes can be dropped).
 * The hooks are the host's own (createHostHooks): `link` (AsyncParallelHook, called
 * through a plugin's CallView as a plugin emitting an event does) and `compose.wireless`
 * (AsyncSeriesWaterfallHook over a UciPackage, called as the Composer calls it).
 */
import { AsyncParallelHook, AsyncSeriesWaterfallHook } from 'tapable';
import { SystemClock } from '../core/src/clock/clock.js';
import type { ComposeContext, LinkEvent } from '../core/src/hooks/events.js';
import { createHostHooks } from '../core/src/hooks/host-hooks.js';
import { type PluginHooks, createPluginHooks } from '../core/src/hooks/view.js';
import { PluginRuntime } from '../core/src/host/plugin-runtime.js';
import { definePlugin } from '../core/src/plugin/define.js';
import type { Platform } from '../core/src/platform/platform.js';
import { loadPlatform } from '../core/src/platform/detect.js';
import { type UciPackage, parseUci } from '../core/src/uci/index.js';

type Variant = 'direct' | 'tapable' | 'guarded';
const VARIANTS: Variant[] = ['direct', 'tapable', 'guarded'];

interface Options {
  ks: number[];
  targetMs: number;
  rounds: number;
}

function parseOptions(args: readonly string[]): Options {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  return {
    ks: (value('--ks') ?? '1,10,50').split(',').map(Number),
    targetMs: Number(value('--target-ms') ?? 25),
    rounds: Number(value('--rounds') ?? 7),
  };
}

/** A small but real /etc/config/wireless: what compose.wireless taps receive. */
const WIRELESS = `
config wifi-device 'radio0'
\toption type 'mac80211'
\toption path 'platform/soc/18000000.wifi'
\toption channel '1'
\toption band '2g'
\toption htmode 'HE20'

config wifi-device 'radio1'
\toption type 'mac80211'
\toption path 'platform/soc/18000000.wifi+1'
\toption channel '36'
\toption band '5g'
\toption htmode 'HE80'

config wifi-iface 'default_radio0'
\toption device 'radio0'
\toption network 'lan'
\toption mode 'ap'
\toption ssid 'OpenWrt'
\toption encryption 'sae-mixed'
\toption key 'secret-passphrase'

config wifi-iface 'default_radio1'
\toption device 'radio1'
\toption network 'lan'
\toption mode 'ap'
\toption ssid 'OpenWrt'
\toption encryption 'sae-mixed'
\toption key 'secret-passphrase'
`;

/** One hook with K taps, callable the three ways. */
interface Case {
  hook: 'AsyncParallelHook' | 'AsyncSeriesWaterfallHook';
  k: number;
  calls: Record<Variant, () => Promise<unknown>>;
}

function makeCases(platform: Platform, k: number): Case[] {
  const clock = new SystemClock(platform.timers);
  const event: LinkEvent = { ifname: 'eth0', up: true, carrier: true };
  const pkg: UciPackage = parseUci(WIRELESS, { name: 'wireless' }).package;
  const context: ComposeContext = { package: 'wireless', reason: 'bench' };

  // The K functions, shared by all three variants. Each does a little real work.
  const counts = { up: 0 };
  const linkFns = Array.from({ length: k }, () => async (e: LinkEvent) => {
    if (e.up) counts.up++;
  });
  const composeFns = Array.from({ length: k }, (_, i) => async (wireless: UciPackage, _ctx: ComposeContext) => {
    wireless.section(i % 2 === 0 ? 'default_radio0' : 'default_radio1')?.set('ssid', `bench-${i % 4}`);
    return wireless;
  });

  // tapable alone.
  const rawLink = new AsyncParallelHook<[LinkEvent]>(['event'], 'link');
  const rawCompose = new AsyncSeriesWaterfallHook<[UciPackage, ComposeContext]>(['config', 'context'], 'compose.wireless');
  linkFns.forEach((fn, i) => rawLink.tapPromise(`p${i}`, fn));
  composeFns.forEach((fn, i) => rawCompose.tapPromise(`p${i}`, fn));

  // The host's wiring: one PluginRuntime per tap, its views from createPluginHooks.
  const hostHooks = createHostHooks();
  const views: PluginHooks[] = [];
  for (let i = 0; i < k; i++) {
    const name = `bench-p${i}`;
    const definition = definePlugin({ name, version: '0.1.0', apiVersion: '^1', setup() {} });
    const manifest = { name, version: '0.1.0', apiVersion: '^1', permissions: { uci: ['wireless'] } };
    const runtime = new PluginRuntime(definition, manifest, clock, { hookTimeoutMs: () => 10_000 }, (_plugin, error) => {
      // A failing tap would make the guarded figures meaningless: say so and stop.
      platform.stdio.writeStderr(`hook-overhead: a tap failed: ${error.message}\n`);
      platform.exit(1);
    });
    // What Host.startPlugin does around setup.
    runtime.nextGeneration();
    runtime.state = 'starting';
    runtime.setAcceptingTaps(true);
    const hooks = createPluginHooks(hostHooks, runtime, runtime.recorded);
    hooks.link.tap(linkFns[i] as (e: LinkEvent) => Promise<void>);
    hooks.compose.wireless.tap(composeFns[i] as (p: UciPackage, c: ComposeContext) => Promise<UciPackage>);
    runtime.setAcceptingTaps(false);
    runtime.state = 'running';
    views.push(hooks);
  }
  const emitter = views[0] as PluginHooks;

  const cases: Case[] = [
    {
      hook: 'AsyncParallelHook',
      k,
      calls: {
        direct: () => Promise.all(linkFns.map((fn) => fn(event))),
        tapable: () => rawLink.promise(event),
        guarded: () => emitter.link.call(event),
      },
    },
    {
      hook: 'AsyncSeriesWaterfallHook',
      k,
      calls: {
        direct: async () => {
          let value = pkg;
          for (const fn of composeFns) value = (await fn(value, context)) ?? value;
          return value;
        },
        tapable: () => rawCompose.promise(pkg, context),
        guarded: () => hostHooks.compose.wireless.promise(pkg, context),
      },
    },
  ];
  return cases;
}

/** Runs `call` iters times back to back; ns per call. */
async function batch(platform: Platform, call: () => Promise<unknown>, iters: number): Promise<number> {
  const started = platform.timers.monotonicMs();
  for (let i = 0; i < iters; i++) await call();
  return ((platform.timers.monotonicMs() - started) * 1e6) / iters;
}

/** Doubles the batch size until one batch takes targetMs (this also warms the JIT up). */
async function calibrate(platform: Platform, call: () => Promise<unknown>, targetMs: number): Promise<number> {
  let iters = 8;
  for (;;) {
    const ns = await batch(platform, call, iters);
    if ((ns * iters) / 1e6 >= targetMs || iters >= 1 << 24) return iters;
    iters *= 2;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function measure(platform: Platform, c: Case, options: Options) {
  const iters: Record<Variant, number> = { direct: 0, tapable: 0, guarded: 0 };
  for (const v of VARIANTS) iters[v] = await calibrate(platform, c.calls[v], options.targetMs);
  const samples: Record<Variant, number[]> = { direct: [], tapable: [], guarded: [] };
  const ratios: { tapable: number[]; guarded: number[] } = { tapable: [], guarded: [] };
  for (let r = 0; r < options.rounds; r++) {
    // Rotate the order each round so no variant always runs right after the same one
    // (GC debt and frequency changes land on all of them alike).
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length] as Variant);
    const round: Record<Variant, number> = { direct: 0, tapable: 0, guarded: 0 };
    for (const v of order) round[v] = await batch(platform, c.calls[v], iters[v]);
    for (const v of VARIANTS) samples[v].push(round[v]);
    // Ratios within a round: both sides saw the same machine load.
    ratios.tapable.push(round.tapable / round.direct);
    ratios.guarded.push(round.guarded / round.direct);
  }
  const ns = { direct: median(samples.direct), tapable: median(samples.tapable), guarded: median(samples.guarded) };
  return {
    hook: c.hook,
    k: c.k,
    iters,
    ns,
    samples,
    ratio: { tapable: median(ratios.tapable), guarded: median(ratios.guarded) },
    /** What each guarded tap adds over calling its function directly. */
    guardNsPerTap: (ns.guarded - ns.direct) / c.k,
  };
}

// No top-level await (see core/src/main.ts: on qjs 2025-04-26 it stalls promise jobs).
async function main(): Promise<void> {
  const platform = await loadPlatform();
  const options = parseOptions(platform.args);
  const results = [];
  const started = platform.timers.monotonicMs();
  for (const k of options.ks) for (const c of makeCases(platform, k)) results.push(await measure(platform, c, options));
  const out = { engine: platform.engine, options, ms: platform.timers.monotonicMs() - started, results };
  platform.stdio.writeStdout(`${JSON.stringify(out)}\n`);
  platform.exit(0);
}

void main();
