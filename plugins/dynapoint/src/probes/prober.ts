/**
 * The prober: one probe of one target, by the cheapest means that does what the rule
 * asks, as a result — a probe never throws, and never takes longer than its time limit
 * (plus SLACK_MS for a program that is slow to die).
 *
 * | kind  | natively (platform sockets)           | with a program (argv, never a shell)        |
 * |-------|---------------------------------------|---------------------------------------------|
 * | http  | no interface/source, not use_curl     | curl; without curl uclient-fetch, wget      |
 * | https | never (no TLS here)                   | curl; without curl uclient-fetch, wget      |
 * | dns   | always (source binds the socket)      | —  (interface binding is not possible)      |
 * | icmp  | —                                     | ping                                        |
 *
 * uclient-fetch and wget cannot bind and do not report the status: with them a probe is
 * good when the request succeeded, and says so.
 */
import { ErrorCodes } from '@wrtkit/sdk';
import { type ProbeClock, type ProbeFiles, type ProbeProcesses, type ProbeSockets, codeOf, errnoOf, messageOf } from './deps.js';
import { queryDns, resolveHost } from './dns-client.js';
import {
  type StatusRanges,
  curlArgv,
  curlExitDetail,
  fetchArgv,
  fetchExitDetail,
  headOnce,
  judgeStatus,
  parseStatusLine,
} from './http.js';
import { judgePing, pingArgv } from './icmp.js';
import type { DnsTarget, HttpTarget, IcmpTarget, ProbeKind, ProbeTarget } from './target.js';

export interface ProbeOptions {
  /** The time limit of the probe. */
  timeoutMs: number;
  /** The interface to bind to (curl --interface, ping -I). */
  interface?: string;
  /** The source address (curl --interface, ping -I, the DNS socket's bind); interface wins for curl and ping. */
  source?: string;
  /** HTTP statuses that count as online, inclusive ranges: [[200, 399]]. */
  expectStatus: StatusRanges;
  /** http:// with curl too (upstream's way), not natively. */
  useCurl?: boolean;
}

export interface ProbeResult {
  /** The entry as configured. */
  target: string;
  kind: ProbeKind;
  ok: boolean;
  /** How long the probe took, whole milliseconds. */
  ms: number;
  /** `HTTP 204`, `HTTP 503 (expected 200-399)`, `refused`, `timeout`, `A 192.0.2.1`, `NXDOMAIN`, `reply 0.4 ms`, … */
  detail: string;
}

export interface Prober {
  probe(target: ProbeTarget, options: ProbeOptions): Promise<ProbeResult>;
}

export interface ProberDeps {
  processes: ProbeProcesses;
  clock: ProbeClock;
  /** ctx.platform.sockets; without them http goes through curl and dns fails. */
  sockets?: ProbeSockets;
  /** ctx.platform.fs, for the resolv.conf and hosts files. */
  fs?: ProbeFiles;
  /** ctx.platform.randomBytes, for DNS query ids. */
  randomBytes?: (length: number) => Uint8Array;
  /** Where nameservers are read for native http (default /etc/resolv.conf). */
  resolvConf?: string;
  /** The hosts file read first (default /etc/hosts). */
  hostsFile?: string;
}

/** What a probe may take beyond its time limit: a program killed at the limit needs a moment to go. */
export const SLACK_MS = 500;
/** A program gets this much beyond the limit it was given, so that its own timeout reports first. */
const PROGRAM_GRACE_MS = 250;

interface Verdict {
  ok: boolean;
  detail: string;
}

const no = (detail: string): Verdict => ({ ok: false, detail });

/**
 * Why these options cannot be honoured for this kind of probe, or undefined when they
 * can. The config check uses it; a probe given such options fails with the same reason.
 */
export function bindingSupported(kind: ProbeKind, options: Pick<ProbeOptions, 'interface' | 'source'>): string | undefined {
  if (kind === 'dns' && options.interface !== undefined)
    return 'dns probes cannot bind to an interface (sockets bind to addresses): use source';
  return undefined;
}

type ToolRun =
  | { kind: 'missing' }
  | { kind: 'forbidden'; detail: string }
  | { kind: 'done'; exitCode: number | null; stdout: string; stderr: string; timedOut: boolean };

export function createProber(deps: ProberDeps): Prober {
  /** Programs found missing (for the prober's life: the package set does not change under us). */
  const missing = new Set<string>();

  async function runTool(argv: string[], timeoutMs: number): Promise<ToolRun> {
    try {
      const r = await deps.processes.run(argv, { timeoutMs: timeoutMs + PROGRAM_GRACE_MS });
      if (r.exitCode === 127 && !r.timedOut) return { kind: 'missing' }; // exec failed in the child
      return { kind: 'done', exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut === true };
    } catch (error) {
      if (codeOf(error) === ErrorCodes.PERMISSION)
        return { kind: 'forbidden', detail: `not allowed to run ${argv[0] as string}` };
      if (codeOf(error) === ErrorCodes.PROCESS_SPAWN && errnoOf(error) === 'ENOENT') return { kind: 'missing' };
      return { kind: 'forbidden', detail: `cannot run ${argv[0] as string}: ${errnoOf(error) ?? messageOf(error)}` };
    }
  }

  async function httpWithPrograms(target: HttpTarget, options: ProbeOptions, bind: string | undefined): Promise<Verdict> {
    const { timeoutMs } = options;
    if (!missing.has('curl')) {
      const r = await runTool(curlArgv(target.text, timeoutMs, bind), timeoutMs);
      if (r.kind === 'forbidden') return no(r.detail);
      if (r.kind === 'done') {
        if (r.timedOut) return no('timeout');
        if (r.exitCode !== 0) return no(r.exitCode === null ? 'curl was killed' : curlExitDetail(r.exitCode));
        const status = parseStatusLine(`HTTP/1.1 ${r.stdout.trim()}`);
        return status === undefined ? no('no HTTP status') : judgeStatus(status, options.expectStatus);
      }
      missing.add('curl');
    }
    if (bind !== undefined) return no(`binding to ${bind} needs curl, which is not installed`);
    for (const program of ['uclient-fetch', 'wget'] as const) {
      if (missing.has(program)) continue;
      const r = await runTool(fetchArgv(program, target.text, timeoutMs), timeoutMs);
      if (r.kind === 'forbidden') return no(r.detail);
      if (r.kind === 'missing') {
        missing.add(program);
        continue;
      }
      if (r.timedOut) return no('timeout');
      if (r.exitCode === 0) return { ok: true, detail: `OK via ${program} (status not checked)` };
      return no(r.exitCode === null ? `${program} was killed` : fetchExitDetail(program, r.exitCode));
    }
    return no('none of curl, uclient-fetch, wget is installed');
  }

  async function httpNative(target: HttpTarget, options: ProbeOptions, sockets: ProbeSockets): Promise<Verdict> {
    const deadline = deps.clock.monotonic() + options.timeoutMs;
    const resolved = await resolveHost({ ...deps, sockets }, target.host, options.timeoutMs);
    if (!resolved.ok)
      return no(resolved.detail === 'timeout' ? 'timeout resolving the host' : `cannot resolve: ${resolved.detail}`);
    // the first IPv4 and the first IPv6 address: the next one only when the connect fails
    const v4 = resolved.addresses.find((a) => !a.includes(':'));
    const v6 = resolved.addresses.find((a) => a.includes(':'));
    const candidates = [v4, v6].filter((a): a is string => a !== undefined);
    let detail = 'no address';
    for (const address of candidates) {
      const left = deadline - deps.clock.monotonic();
      if (left <= 0) return no('timeout');
      const outcome = await headOnce({ sockets, clock: deps.clock }, target, address, left);
      if (outcome.kind === 'status') return judgeStatus(outcome.status, options.expectStatus);
      detail = outcome.detail;
      if (outcome.kind === 'failed') break;
    }
    return no(detail);
  }

  async function http(target: HttpTarget, options: ProbeOptions): Promise<Verdict> {
    const bind = options.interface ?? options.source;
    if (target.kind === 'http' && deps.sockets && !options.useCurl && bind === undefined)
      return httpNative(target, options, deps.sockets);
    return httpWithPrograms(target, options, bind);
  }

  async function dns(target: DnsTarget, options: ProbeOptions): Promise<Verdict> {
    const unsupported = bindingSupported('dns', options);
    if (unsupported !== undefined) return no(unsupported);
    if (!deps.sockets) return no('no UDP sockets on this engine (the native module is missing)');
    const answer = await queryDns(
      { ...deps, sockets: deps.sockets },
      { address: target.server, port: target.port },
      target.name,
      target.type,
      options.timeoutMs,
      options.source,
    );
    return { ok: answer.addresses.length > 0, detail: answer.detail };
  }

  async function icmp(target: IcmpTarget, options: ProbeOptions): Promise<Verdict> {
    const r = await runTool(pingArgv(target, options.timeoutMs, options.interface ?? options.source), options.timeoutMs);
    if (r.kind === 'missing') return no('ping is not installed');
    if (r.kind === 'forbidden') return no(r.detail);
    if (r.timedOut) return no('timeout');
    return judgePing(r.exitCode, r.stdout, r.stderr);
  }

  function run(target: ProbeTarget, options: ProbeOptions): Promise<Verdict> {
    switch (target.kind) {
      case 'http':
      case 'https':
        return http(target, options);
      case 'dns':
        return dns(target, options);
      case 'icmp':
        return icmp(target, options);
      default:
        return Promise.resolve(no(`unknown kind ${(target as { kind: unknown }).kind as string}`));
    }
  }

  return {
    probe(target, options) {
      const started = deps.clock.monotonic();
      const timeoutMs = Number.isFinite(options.timeoutMs) && options.timeoutMs > 0 ? options.timeoutMs : 1;
      return new Promise<ProbeResult>((resolve) => {
        let done = false;
        const finish = (verdict: Verdict) => {
          if (done) return;
          done = true;
          cancel();
          const ms = Math.max(0, Math.round(deps.clock.monotonic() - started));
          resolve({ target: target.text, kind: target.kind, ok: verdict.ok, ms, detail: verdict.detail });
        };
        // the guard: whatever hangs below (a program that will not die), the result comes in time
        const cancel = deps.clock.setTimeout(() => finish(no('timeout')), timeoutMs + SLACK_MS);
        let work: Promise<Verdict>;
        try {
          work = run(target, { ...options, timeoutMs });
        } catch (error) {
          work = Promise.reject(error);
        }
        work.then(finish, (error: unknown) => finish(no(`failed: ${messageOf(error)}`)));
      });
    },
  };
}

export interface RoundResult {
  /** Some target answered. */
  online: boolean;
  /** One result per target tried, in order; the last is the good one when online. */
  results: ProbeResult[];
}

/** Upstream's round: the targets in order until one answers. */
export async function probeRound(prober: Prober, targets: readonly ProbeTarget[], options: ProbeOptions): Promise<RoundResult> {
  const results: ProbeResult[] = [];
  for (const target of targets) {
    const result = await prober.probe(target, options);
    results.push(result);
    if (result.ok) return { online: true, results };
  }
  return { online: false, results };
}
