// Can the lab run here, and what does this kernel offer?
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { buildLab, labUnsupportedReason } from './lab.js';

/** Whether a program is on PATH (or in /usr/sbin, /sbin, where `ip` and `tc` live). */
export function hasProgram(name: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export type LabSupport = { ok: true } | { ok: false; reason: string };

/**
 * Whether labs can be created here: Linux, root, iproute2 (`ip`, `tc`) and `sysctl`.
 * Synchronous, so tests can `describe.skipIf(!labSupported().ok)`.
 */
export function labSupported(): LabSupport {
  const reason = labUnsupportedReason();
  if (reason) return { ok: false, reason };
  const missing = ['ip', 'tc', 'sysctl'].filter((p) => !hasProgram(p));
  if (missing.length > 0) {
    return { ok: false, reason: `the lab needs ${missing.join(', ')} (Debian: apt-get install iproute2 procps)` };
  }
  return { ok: true };
}

/** Throws an error that says why labs cannot run here (not root, not Linux, no iproute2). */
export function requireRoot(): void {
  const support = labSupported();
  if (!support.ok) throw new Error(`wrtkit lab: ${support.reason}`);
}

/** What this machine offers labs; see labCapabilities(). */
export interface LabCapabilities {
  /** `uname -r`. */
  kernel: string;
  /** Queueing disciplines usable in a namespace (tbf for rate, netem for delay/loss). */
  qdiscs: { tbf: boolean; netem: boolean; htb: boolean; fq_codel: boolean };
  /** Link types. */
  links: { veth: boolean; bridge: boolean };
  /** Programs tests commonly run in nodes. */
  programs: { ping: boolean; iperf3: boolean };
}

let probed: Promise<LabCapabilities> | undefined;

/**
 * Probes (once per process, in a throw-away namespace) which qdiscs and link types this
 * kernel has: a kernel without CONFIG_NET_SCH_NETEM cannot do `shape.delay`. Requires root.
 */
export function labCapabilities(): Promise<LabCapabilities> {
  probed ??= (async () => {
    requireRoot();
    const lab = await buildLab({ nodes: { probe: {} } });
    try {
      const node = lab.node('probe');
      const qdisc = async (...args: string[]) => {
        const ok = (await node.run(['tc', 'qdisc', 'add', 'dev', 'lo', 'root', ...args])).exitCode === 0;
        await node.run(['tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
        return ok;
      };
      const link = async (...args: string[]) => (await node.run(['ip', 'link', 'add', ...args])).exitCode === 0;
      return {
        kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
        qdiscs: {
          tbf: await qdisc('tbf', 'rate', '1mbit', 'burst', '32kb', 'latency', '50ms'),
          netem: await qdisc('netem', 'delay', '1ms'),
          htb: await qdisc('handle', '1:', 'htb'),
          fq_codel: await qdisc('fq_codel'),
        },
        links: {
          veth: await link('name', 'pa', 'type', 'veth', 'peer', 'name', 'pb'),
          bridge: await link('name', 'pbr', 'type', 'bridge'),
        },
        programs: { ping: hasProgram('ping'), iperf3: hasProgram('iperf3') },
      };
    } finally {
      await lab.destroy();
    }
  })();
  return probed;
}
