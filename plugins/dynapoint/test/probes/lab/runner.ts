// Runs probes on the real platform of whichever engine runs it — Node.js, or QuickJS as
// on the router — in whatever network namespace it was started in: the lab test bundles
// it with the repo's bundler (one bundle for both engines) and runs it in the client node.
// Argument: a RunnerSpec as JSON. Output: RunnerOutput[] as one JSON line.
import { loadPlatform } from '../../../../../core/src/platform/detect.js';
import type { ProbeProcesses } from '../../../src/probes/deps.js';
import type { ProbeOptions, ProbeResult } from '../../../src/probes/index.js';
import { createProber, parseTarget } from '../../../src/probes/index.js';

export interface RunnerSpec {
  resolvConf: string;
  hostsFile: string;
  /** Make curl look uninstalled (argv[0] rewritten to a path that does not exist). */
  hideCurl?: boolean;
  probes: Array<{ target: string; options: ProbeOptions }>;
}

export interface RunnerOutput {
  engine: 'node' | 'qjs';
  result?: ProbeResult;
  /** parseTarget's reason, for a target that does not parse. */
  reason?: string;
  /** Time the probe took, measured here with the engine's monotonic clock. */
  elapsedMs: number;
  /** The argv of the programs the prober ran. */
  argv: string[][];
}

// An async main, not top-level await (core/src/main.ts: the QuickJS job-queue stall).
async function main(): Promise<void> {
  const platform = await loadPlatform();
  const spec = JSON.parse(platform.args[0] as string) as RunnerSpec;
  const timers = platform.timers;
  const clock = {
    monotonic: () => timers.monotonicMs(),
    setTimeout: (fn: () => void, ms: number) => {
      const handle = timers.setTimeout(fn, ms);
      return () => timers.clearTimeout(handle);
    },
  };
  let ran: string[][] = [];
  const processes: ProbeProcesses = {
    run(argv, options) {
      ran.push([...argv]);
      const real = spec.hideCurl && argv[0] === 'curl' ? ['/nonexistent/curl', ...argv.slice(1)] : argv;
      return platform.processes.run(real, options);
    },
  };
  const prober = createProber({
    processes,
    clock,
    ...(platform.sockets ? { sockets: platform.sockets } : {}),
    fs: platform.fs,
    randomBytes: (n) => platform.randomBytes(n),
    resolvConf: spec.resolvConf,
    hostsFile: spec.hostsFile,
  });

  const out: RunnerOutput[] = [];
  for (const { target, options } of spec.probes) {
    ran = [];
    const parsed = parseTarget(target);
    if (!parsed.ok) {
      out.push({ engine: platform.engine, reason: parsed.reason, elapsedMs: 0, argv: [] });
      continue;
    }
    const started = timers.monotonicMs();
    const result = await prober.probe(parsed.target, options);
    out.push({ engine: platform.engine, result, elapsedMs: Math.round(timers.monotonicMs() - started), argv: ran });
  }
  platform.stdio.writeStdout(`${JSON.stringify(out)}\n`);
  // connections a probe gave up on (a server that never answers) must not keep us alive
  platform.exit(0);
}

void main();
