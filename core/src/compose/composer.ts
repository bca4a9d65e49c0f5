import type { Clock } from '../clock/clock.js';
import { ErrorCodes, WrtkitError, messageOf, serializeError, type SerializedError } from '../errors.js';
import { type ComposedPackage, ComposedPackages } from '../hooks/events.js';
import type { HostHooks } from '../hooks/host-hooks.js';
import type { Logger } from '../log/logger.js';
import { UciPackage, diffPackages } from '../uci/index.js';
import type { ConfigApplier } from './applier.js';

export interface ComposeStatus {
  runs: number;
  applies: number;
  /** Wall-clock ms of the last apply. */
  lastApplyAt?: number;
  lastChanges?: number;
  lastReason?: string;
  lastError?: SerializedError;
}

/**
 * Config composition: plugins describe the UCI state they want through a waterfall per
 * package, and the host applies the result once. Several requests close together (a
 * plugin's state change, a config reload, boot) coalesce into one run per package; a run
 * that changes nothing applies nothing — so `wifi reload` runs once per real change,
 * never once per plugin.
 */
export class Composer {
  private readonly status = new Map<ComposedPackage, ComposeStatus>();
  private readonly pending = new Map<ComposedPackage, { reasons: string[]; waiters: Array<() => void> }>();
  private worker: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly hooks: HostHooks,
    private readonly loadCommitted: (pkg: ComposedPackage) => UciPackage | undefined,
    private readonly applier: ConfigApplier,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly isEnabled: (pkg: ComposedPackage) => boolean = () => true,
  ) {}

  /** Asks for a composition run; resolves when a run that saw this request is done. */
  request(pkg: ComposedPackage, reason: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const entry = this.pending.get(pkg) ?? { reasons: [], waiters: [] };
    if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
    this.pending.set(pkg, entry);
    const done = new Promise<void>((resolve) => entry.waiters.push(resolve));
    this.kick();
    return done;
  }

  requestAll(reason: string): Promise<void> {
    return Promise.all(ComposedPackages.map((pkg) => this.request(pkg, reason))).then(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.pending.values()) for (const resolve of entry.waiters) resolve();
    this.pending.clear();
  }

  describe(): Record<string, ComposeStatus> {
    const out: Record<string, ComposeStatus> = {};
    for (const pkg of ComposedPackages) out[pkg] = { ...(this.status.get(pkg) ?? { runs: 0, applies: 0 }) };
    return out;
  }

  private kick(): void {
    if (this.worker) return;
    this.worker = this.work().finally(() => {
      this.worker = undefined;
      if (this.pending.size > 0 && !this.stopped) this.kick();
    });
  }

  private async work(): Promise<void> {
    // Requests made while one event is being handled (several plugins reacting to it)
    // join a single run: let the taps that are already running reach their request.
    // Microtasks, not a timer, so a fake clock in tests needs no nudging.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    while (this.pending.size > 0 && !this.stopped) {
      const [pkg, entry] = this.pending.entries().next().value as [
        ComposedPackage,
        { reasons: string[]; waiters: Array<() => void> },
      ];
      this.pending.delete(pkg);
      try {
        await this.run(pkg, entry.reasons.join(', '));
      } finally {
        for (const resolve of entry.waiters) resolve();
      }
    }
  }
  /** One composition of one package: waterfall, diff, apply when something changed. */
  private async run(pkg: ComposedPackage, reason: string): Promise<void> {
    const hook = this.hooks.compose[pkg];
    const status = this.status.get(pkg) ?? { runs: 0, applies: 0 };
    this.status.set(pkg, status);
    if (!hook.isUsed() || !this.isEnabled(pkg)) return;
    status.runs++;
    status.lastReason = reason;
    try {
      const committed = this.loadCommitted(pkg);
      const base = committed ?? new UciPackage(pkg);
      const desired = await hook.promise(base.clone(), { package: pkg, reason });
      if (!(desired instanceof UciPackage)) {
        throw new WrtkitError(ErrorCodes.APPLY_FAILED, `compose.${pkg} produced something that is not a UCI package`);
      }
      const changes = diffPackages(base, desired);
      if (changes.length === 0) {
        this.log.debug('composition changed nothing; not applying', { package: pkg, reason });
        return;
      }
      this.log.info('applying composed config', { package: pkg, reason, changes: changes.length });
      await this.applier.apply(pkg, desired, changes);
      status.applies++;
      status.lastApplyAt = this.clock.now();
      status.lastChanges = changes.length;
      delete status.lastError;
    } catch (error) {
      const wrapped =
        error instanceof WrtkitError
          ? error
          : new WrtkitError(ErrorCodes.APPLY_FAILED, `cannot apply ${pkg}: ${messageOf(error)}`, { cause: error });
      status.lastError = serializeError(wrapped);
      this.log.error(wrapped.message, { package: pkg, code: wrapped.code });
    }
  }
}
