/**
 * The probe layer of dynapoint: what a `hosts` entry means (parseTarget, HOST_PATTERN for
 * the schema), how it is probed (createProber), and upstream's round over a rule's
 * targets (probeRound).
 *
 * ```ts
 * const prober = createProber({
 *   processes: ctx.processes, clock: ctx.clock, sockets: ctx.platform.sockets, fs: ctx.platform.fs,
 *   randomBytes: (n) => ctx.platform.randomBytes(n),
 * });
 * const parsed = rule.hosts.map(parseTarget);         // { ok: false, reason }: a config issue
 * const targets = parsed.flatMap((p) => (p.ok ? [p.target] : []));
 * const { online, results } = await probeRound(prober, targets, {
 *   timeoutMs: rule.timeout * 1000,
 *   expectStatus: parseStatusRanges(rule.expect_status ?? '200-399') ?? [[200, 399]],
 *   interface: rule.interface, source: rule.source, useCurl: rule.use_curl,
 * });
 * // results[i]: { target, kind, ok, ms, detail }: `HTTP 204`, `NXDOMAIN`, `timeout`, …
 * ```
 */
export { HOST_PATTERN, ipFamily, isIPv4, isIPv6, parseTarget } from './target.js';
export type { DnsTarget, DnsType, HttpTarget, IcmpTarget, ParsedTarget, ProbeKind, ProbeTarget } from './target.js';
export { SLACK_MS, bindingSupported, createProber, probeRound } from './prober.js';
export type { ProbeOptions, ProbeResult, Prober, ProberDeps, RoundResult } from './prober.js';
export { formatStatusRanges, parseStatusRanges } from './http.js';
export type { StatusRanges } from './http.js';
export type { ProbeClock, ProbeConnection, ProbeDatagram, ProbeFiles, ProbeProcesses, ProbeSockets } from './deps.js';
