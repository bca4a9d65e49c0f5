/**
 * ICMP probes: one echo request with the system's ping (raw sockets need root, which the
 * host has; ping does the rest). Same flags for iputils and BusyBox ping.
 */
import type { IcmpTarget } from './target.js';
import { ipFamily } from './target.js';

/** `ping -c 1 -W <s> [-I <ifname|source>] [-6] <host>`; -W takes whole seconds (BusyBox). */
export function pingArgv(target: IcmpTarget, timeoutMs: number, bind?: string): string[] {
  return [
    'ping',
    '-c',
    '1',
    '-W',
    String(Math.max(1, Math.ceil(timeoutMs / 1000))),
    ...(bind !== undefined ? ['-I', bind] : []),
    ...(ipFamily(target.host) === 6 ? ['-6'] : []),
    target.host,
  ];
}

/** The round-trip time ping printed (`time=0.045 ms`, `time=12 ms`), as `0.045`. */
export function pingTime(stdout: string): string | undefined {
  const m = /\btime[=<]([0-9]+(?:\.[0-9]+)?) ?ms\b/.exec(stdout);
  return m ? m[1] : undefined;
}

/** The probe's verdict from ping's exit code and output. */
export function judgePing(exitCode: number | null, stdout: string, stderr: string): { ok: boolean; detail: string } {
  const output = `${stdout}\n${stderr}`;
  if (exitCode === 0) {
    const time = pingTime(stdout);
    return { ok: true, detail: time === undefined ? 'reply' : `reply ${time} ms` };
  }
  if (/unreachable/i.test(output)) return { ok: false, detail: 'unreachable' };
  if (/unknown host|bad address|name or service not known|temporary failure in name resolution|no address/i.test(output))
    return { ok: false, detail: 'cannot resolve the host' };
  if (exitCode === 1) return { ok: false, detail: 'timeout' };
  const first = stderr.split('\n').find((l) => l.trim() !== '');
  return { ok: false, detail: first !== undefined ? `ping: ${first.trim().replace(/^ping: /, '')}` : `ping exit ${exitCode}` };
}
