import { ErrorCodes, WrtkitError } from '../errors.js';
import type { AnyHook } from './guard.js';
import { type OfferedHooksView, type ViewOwner, makeTapView } from './view.js';

/**
 * Hooks a plugin offers to others. They live beside core's hooks, never on them
 * (webpack's `getCompilationHooks` pattern): the offering plugin declares a factory with
 * defineHooks, the host creates the hooks once per host, and other plugins reach them
 * with `ctx.hooksOf(offer)` after declaring the offering plugin as a dependency.
 *
 * Offers are keyed by the owner's name, not by object identity: each plugin is its own
 * bundle, so the consumer's copy of the offer object is not the owner's.
 */
export interface HookOffer<T extends object> {
  /** Name of the plugin that offers (and alone may call) these hooks. */
  readonly owner: string;
  readonly create: () => T;
}

export function defineHooks<T extends Record<string, object>>(owner: string, create: () => T): HookOffer<T> {
  return Object.freeze({ owner, create });
}

export class OfferedHooks {
  private readonly byOwner = new Map<string, Record<string, AnyHook>>();

  /** Creates the owner's hooks; called once when the owner is loaded. */
  register(offer: HookOffer<object>): void {
    if (this.byOwner.has(offer.owner)) return;
    const hooks = Object.freeze(offer.create()) as Record<string, AnyHook>;
    this.byOwner.set(offer.owner, hooks);
  }

  has(owner: string): boolean {
    return this.byOwner.has(owner);
  }

  /** Names of the hooks each plugin offers (for `wrtkit plugins` and docs). */
  describe(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [owner, hooks] of this.byOwner) out[owner] = Object.keys(hooks);
    return out;
  }

  /**
   * The offered hooks as `consumer` sees them: the owner may tap and call them, plugins
   * that declared the owner as a dependency may tap them (call throws
   * WRTKIT_ERR_HOOK_NOT_CALLABLE), anyone else is refused.
   */
  view<T extends object>(offer: HookOffer<T>, consumer: ViewOwner, consumerDependencies: readonly string[]): OfferedHooksView<T> {
    const hooks = this.byOwner.get(offer.owner);
    if (!hooks) {
      throw new WrtkitError(
        ErrorCodes.HOOK_OWNER_MISSING,
        `plugin ${consumer.name} wants hooks of ${offer.owner}, which is not loaded`,
        {
          plugin: consumer.name,
          details: { owner: offer.owner },
        },
      );
    }
    const isOwner = consumer.name === offer.owner;
    if (!isOwner && !consumerDependencies.includes(offer.owner)) {
      throw new WrtkitError(
        ErrorCodes.HOOK_UNDECLARED_DEPENDENCY,
        `plugin ${consumer.name} uses hooks of ${offer.owner} without declaring it in dependencies`,
        { plugin: consumer.name, details: { owner: offer.owner } },
      );
    }
    const view: Record<string, unknown> = {};
    for (const [key, hook] of Object.entries(hooks)) {
      const made = makeTapView(hook, consumer, `${offer.owner}.${key}`, undefined, { callable: isOwner });
      view[key] = made;
    }
    return Object.freeze(view) as OfferedHooksView<T>;
  }
}
