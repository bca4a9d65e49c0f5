/**
 * Applies the gate (src/nft/ruleset.ts) to the kernel: every change is one `nft -f -` run
 * with the script on stdin, so it is one transaction — all of it or nothing.
 *
 * The gate remembers what it last wrote into the MAC sets, so that `authorize` can skip
 * clients that are already in for long enough and replace the ones whose time changed.
 * That memory starts empty: call `reconcile` first (boot, config change), which writes
 * everything from the desired state.
 */
import { type Clock, ErrorCodes, type Logger, type PluginProcesses, WrtkitError } from '@wrtkit/sdk';
import type { Authorization } from '../vouchers/voucher.js';
import {
  type GateConfig,
  type MacExpiries,
  type MacSets,
  SET_AUTH_MACS,
  TABLE,
  authorizeScript,
  bridgeProbeScript,
  checkGateConfig,
  fullRuleset,
  isActive,
  macSets,
  refillScript,
  removeScript,
} from './ruleset.js';

/** An element of `pirania-auth-macs` as the kernel reports it. */
export interface AuthorizedMac {
  mac: string;
  /** Wall-clock ms when the kernel drops it (whole seconds: what `nft -j` reports); absent: permanent. */
  expiresMs?: number;
}

/** nft runs are short; a 10,000-element reconcile takes well under a second. */
const NFT_TIMEOUT_MS = 20_000;
/** How long the gate keeps remembering an expired element (the kernel's GC has long run by then). */
const FORGET_EXPIRED_MS = 10 * 60_000;

export class NftGate {
  /** The last reconciled config (normalized), for verify() and repairs. */
  private config: GateConfig | undefined;
  /** What the MAC sets hold, as far as this gate knows. */
  private sets: MacSets | undefined;
  /** Whether the kernel has the nftables bridge family; undefined until a failure made us look. */
  private bridgeFamily: boolean | undefined;
  /** What the last reconcile/remove left: tables present or not. */
  private expectPresent: boolean | undefined;
  /** What nft said when the bridge probe failed. */
  private bridgeProbeError = '';

  constructor(
    private readonly processes: PluginProcesses,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /**
   * Replaces both tables with the gate for `config` and these authorizations, in one
   * transaction (boot, config change, repair). Idempotent. Throws
   * WRTKIT_ERR_UNSUPPORTED (uciPath pirania.base_config.catch_bridged_interfaces) when
   * bridge ports are to be caught on a kernel without the nftables bridge family.
   */
  async reconcile(config: GateConfig, authorizations: readonly Authorization[]): Promise<void> {
    const checked = checkGateConfig(config);
    const now = this.clock.now();
    // Bridge ports to catch: always try (the module may have been installed since). None:
    // skip the bridge table once the kernel was found to lack the family.
    const withBridge = checked.catchBridgedInterfaces.length > 0 || this.bridgeFamily !== false;
    const script = fullRuleset(checked, authorizations, now, { bridge: withBridge });
    try {
      await this.apply(script, 'reconcile');
    } catch (error) {
      if (!withBridge || !(await this.bridgeMissing())) throw error;
      // The kernel has no bridge family; nothing to catch there: the inet table alone.
      if (checked.catchBridgedInterfaces.length > 0) throw this.noBridgeError(checked.catchBridgedInterfaces, error);
      this.log.info('no nftables bridge family (kmod-nft-bridge); gating without table bridge pirania');
      await this.apply(fullRuleset(checked, authorizations, now, { bridge: false }), 'reconcile');
    }
    this.config = checked;
    this.sets = macSets(authorizations, now);
    this.expectPresent = true;
    this.log.debug('gate reconciled', {
      catch: checked.catchInterfaces.join(' '),
      bridged: checked.catchBridgedInterfaces.join(' '),
      authorized: this.sets.auth.size,
    });
  }

  /**
   * Lets these clients through (a code was accepted): one transaction adding their MACs
   * with their remaining time. Only ever extends access: a MAC already in for longer is
   * left alone (use `refill` to shorten or remove). Expired authorizations are ignored.
   */
  async authorize(authorizations: readonly Authorization[]): Promise<void> {
    const now = this.clock.now();
    this.forgetExpired(now);
    const script = authorizeScript(authorizations, now, this.sets);
    if (script === '') return;
    await this.repairing(() => this.apply(script, 'authorize'), authorizations, 'merge');
    const added = macSets(authorizations, now);
    this.sets ??= { auth: new Map(), unrestricted: new Map() };
    merge(this.sets.auth, added.auth);
    merge(this.sets.unrestricted, added.unrestricted);
  }

  /**
   * Makes the MAC sets hold exactly these authorizations (someone was deauthorized or a
   * voucher invalidated): flush and re-add in one transaction.
   */
  async refill(authorizations: readonly Authorization[]): Promise<void> {
    const now = this.clock.now();
    await this.repairing(() => this.apply(refillScript(authorizations, now), 'refill'), authorizations, 'replace');
    this.sets = macSets(authorizations, now);
  }

  /** Deletes both tables (the portal is off). Tables that are not there are fine. */
  async remove(): Promise<void> {
    const withBridge = this.bridgeFamily !== false;
    try {
      await this.apply(removeScript({ bridge: withBridge }), 'remove');
    } catch (error) {
      if (!withBridge || !(await this.bridgeMissing())) throw error;
      await this.apply(removeScript({ bridge: false }), 'remove');
    }
    this.sets = undefined;
    this.expectPresent = false;
  }

  /**
   * Whether the kernel still holds what the last reconcile (or remove) left: both tables
   * present (the bridge one where the kernel has the family), or after remove() neither.
   * False means someone flushed the ruleset or loaded another one: reconcile again.
   * Before any reconcile: whether `table inet pirania` exists.
   */
  async verify(): Promise<boolean> {
    const result = await this.processes.run(['nft', 'list', 'tables'], { timeoutMs: NFT_TIMEOUT_MS });
    if (result.exitCode !== 0) throw this.nftError(['nft', 'list', 'tables'], result, undefined, 'verify');
    const tables = new Set(
      result.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    );
    const inet = tables.has(`table inet ${TABLE}`);
    const bridge = tables.has(`table bridge ${TABLE}`);
    if (this.expectPresent === false) return !inet && !bridge;
    if (this.expectPresent === undefined) return inet;
    return inet && (this.bridgeFamily === false || bridge);
  }

  /** The elements of `pirania-auth-macs` as the kernel has them (expired ones are gone). */
  async listAuthorized(): Promise<AuthorizedMac[]> {
    const argv = ['nft', '-j', 'list', 'set', 'inet', TABLE, SET_AUTH_MACS];
    const result = await this.processes.run(argv, { timeoutMs: NFT_TIMEOUT_MS });
    if (result.exitCode !== 0) throw this.nftError(argv, result, undefined, 'listAuthorized');
    const now = this.clock.now();
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.stdout);
    } catch (error) {
      throw new WrtkitError(ErrorCodes.APPLY_FAILED, `nft -j list set printed no JSON: ${String(error)}`, { cause: error });
    }
    const items = (parsed as { nftables?: Array<{ set?: { elem?: unknown[] } }> }).nftables ?? [];
    const out: AuthorizedMac[] = [];
    for (const item of items) {
      for (const e of item.set?.elem ?? []) {
        if (typeof e === 'string') {
          out.push({ mac: e });
        } else if (e && typeof e === 'object' && 'elem' in e) {
          const inner = (e as { elem: { val?: unknown; expires?: unknown } }).elem;
          if (typeof inner.val !== 'string') continue;
          out.push(
            typeof inner.expires === 'number' ? { mac: inner.val, expiresMs: now + inner.expires * 1000 } : { mac: inner.val },
          );
        }
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------

  /** Runs `nft -f -` with the script on stdin; a coded error with nft's complaint otherwise. */
  private async apply(script: string, what: string): Promise<void> {
    const argv = ['nft', '-f', '-'];
    const result = await this.processes.run(argv, { input: script, timeoutMs: NFT_TIMEOUT_MS });
    if (result.exitCode !== 0) throw this.nftError(argv, result, script, what);
    this.log.debug(`nft ${what}`, { lines: countLines(script), ms: Math.round(result.durationMs) });
  }

  /**
   * Runs an update of the MAC sets; when it fails because the tables are gone (someone
   * flushed the ruleset) and a reconcile happened before, rebuilds everything instead.
   */
  private async repairing(
    update: () => Promise<void>,
    authorizations: readonly Authorization[],
    mode: 'merge' | 'replace',
  ): Promise<void> {
    try {
      await update();
    } catch (error) {
      const config = this.config;
      if (!config || this.expectPresent !== true || (await this.verify().catch(() => true))) throw error;
      this.log.warn('pirania tables are gone; rebuilding the gate', { error: (error as Error).message });
      const now = this.clock.now();
      const desired = mode === 'replace' ? macSets(authorizations, now) : mergedSets(this.sets, macSets(authorizations, now));
      await this.reconcile(config, [...toAuthorizations(desired)]);
    }
  }

  /**
   * After a failed apply that included the bridge table: asks nft (check mode, nothing
   * changes) whether a bridge table with a base chain works at all.
   */
  private async bridgeMissing(): Promise<boolean> {
    const result = await this.processes.run(['nft', '-c', '-f', '-'], { input: bridgeProbeScript(), timeoutMs: NFT_TIMEOUT_MS });
    this.bridgeFamily = result.exitCode === 0;
    this.bridgeProbeError = this.bridgeFamily ? '' : result.stderr.trim();
    return !this.bridgeFamily;
  }

  private noBridgeError(ports: readonly string[], cause?: unknown): WrtkitError {
    return new WrtkitError(
      ErrorCodes.UNSUPPORTED,
      `pirania.base_config.catch_bridged_interfaces lists ${ports.join(', ')}, but this kernel has no nftables bridge ` +
        'family (install kmod-nft-bridge), so clients on bridge ports cannot be caught; install it, or catch the ' +
        `bridge itself with catch_interfaces instead${this.bridgeProbeError ? ` (nft: ${firstLine(this.bridgeProbeError)})` : ''}`,
      {
        uciPath: 'pirania.base_config.catch_bridged_interfaces',
        cause,
        details: { ports: [...ports], nft: this.bridgeProbeError },
      },
    );
  }

  private nftError(
    argv: readonly string[],
    result: { exitCode: number | null; stderr: string; stdout: string; timedOut: boolean },
    script: string | undefined,
    what: string,
  ): WrtkitError {
    const stderr = result.stderr.trim();
    // nft: "/dev/stdin:6:27-43: Error: Could not process rule: No such file or directory"
    const located = /^(?:\/dev\/stdin|-):(\d+):[^ ]* (Error: .*)$/m.exec(stderr);
    const line = located ? Number(located[1]) : undefined;
    const text = script !== undefined && line !== undefined ? script.split('\n')[line - 1] : undefined;
    const why = result.timedOut
      ? `timed out after ${NFT_TIMEOUT_MS} ms`
      : located
        ? (located[2] as string)
        : firstLine(stderr) || `exited with ${String(result.exitCode)}`;
    const where = line !== undefined ? ` at line ${line}${text !== undefined ? `: ${text.trim()}` : ''}` : '';
    return new WrtkitError(ErrorCodes.APPLY_FAILED, `pirania gate ${what}: \`${argv.join(' ')}\` failed${where}: ${why}`, {
      details: { argv: [...argv], exitCode: result.exitCode, stderr, ...(line !== undefined ? { line, text } : {}) },
    });
  }

  private forgetExpired(now: number): void {
    if (!this.sets) return;
    for (const set of [this.sets.auth, this.sets.unrestricted]) {
      for (const [mac, expiresAt] of set) {
        if (!isActive(expiresAt, now - FORGET_EXPIRED_MS)) set.delete(mac);
      }
    }
  }
}

function merge(into: MacExpiries, from: MacExpiries): void {
  for (const [mac, expiresAt] of from) {
    const had = into.get(mac);
    const keep = into.has(mac) && (had === undefined || (expiresAt !== undefined && had >= expiresAt));
    if (!keep) into.set(mac, expiresAt);
  }
}

function mergedSets(a: MacSets | undefined, b: MacSets): MacSets {
  const out: MacSets = { auth: new Map(a?.auth), unrestricted: new Map(a?.unrestricted) };
  merge(out.auth, b.auth);
  merge(out.unrestricted, b.unrestricted);
  return out;
}

/** MAC sets back to authorizations (for a rebuild). */
function* toAuthorizations(sets: MacSets): Iterable<Authorization> {
  for (const [mac, expiresAt] of sets.auth) {
    const unrestricted = sets.unrestricted.has(mac) && sets.unrestricted.get(mac) === expiresAt;
    yield { mac, voucherId: 'gate', unrestricted, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }
  for (const [mac, expiresAt] of sets.unrestricted) {
    if (sets.auth.has(mac) && sets.auth.get(mac) === expiresAt) continue;
    yield { mac, voucherId: 'gate', unrestricted: true, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
