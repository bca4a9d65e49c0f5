/**
 * Link events from the kernel: `ip -o monitor link address` as a supervised child (the
 * host has no netlink watcher of its own yet; iproute2's monitor is the proven one). A link
 * state change becomes a LinkEvent on the hook bus, so other plugins see it too, and
 * mptcp's own `link` tap re-applies routes and endpoints; an address change goes
 * straight to the plugin (LinkEvent has no field for it).
 */
import { type Clock, type LinkEvent, type Logger, type PluginProcesses, Supervisor } from '@wrtkit/sdk';
import { parseMonitorLine } from './parse.js';

export const MONITOR_ARGV = ['ip', '-o', 'monitor', 'link', 'address'] as const;

export class LinkMonitor {
  private readonly supervisor: Supervisor;

  constructor(deps: {
    processes: Pick<PluginProcesses, 'spawn'>;
    clock: Clock;
    log: Logger;
    /** A device's link state changed (only changes: the monitor repeats lines for other reasons). */
    onLink: (event: LinkEvent) => void;
    /** An IPv4/IPv6 address of a device came or went. */
    onAddress: (ifname: string) => void;
  }) {
    const last = new Map<string, string>();
    this.supervisor = new Supervisor({
      name: 'ip monitor',
      processes: deps.processes,
      clock: deps.clock,
      log: deps.log,
      onLine: (line) => {
        const parsed = parseMonitorLine(line);
        if (!parsed) return;
        if (parsed.up === undefined) {
          deps.onAddress(parsed.ifname);
          return;
        }
        const state = `${String(parsed.up)}/${String(parsed.carrier)}`;
        if (last.get(parsed.ifname) === state) return;
        last.set(parsed.ifname, state);
        deps.onLink({
          ifname: parsed.ifname,
          up: parsed.up,
          ...(parsed.carrier !== undefined ? { carrier: parsed.carrier } : {}),
        });
      },
    });
  }

  start(): Promise<void> {
    return this.supervisor.start(MONITOR_ARGV);
  }

  stop(): Promise<void> {
    return this.supervisor.stop();
  }

  info(): Record<string, unknown> {
    return { ...this.supervisor.info() };
  }
}
