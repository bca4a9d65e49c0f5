import { serializeVoucher } from './codec.js';
import { isInvalidated } from './status.js';
import type { Voucher } from './voucher.js';

/**
 * Replication: merging the vouchers another node has into ours. Which copy of a voucher
 * wins is decided by `preferred`, a total order on copies, so a merge is the maximum per
 * id. That makes it commutative, associative and idempotent: nodes that exchange their
 * sets in any order, any number of times, end up with the same vouchers.
 */

/**
 * The copy of one voucher (same id) that wins, whichever is passed first:
 *
 * 1. An invalidated copy beats one that is not, whatever the counters. Nothing undoes an
 *    invalidation, so a valid copy with a higher counter is an edit made without knowing
 *    of it (a rename on another node); letting it win would bring the voucher back, the
 *    bug Pirania had (lime-packages#886: removed vouchers came back).
 * 2. The higher mod_counter: the copy that has seen more changes.
 * 3. On equal counters, a used copy (activation_date set) beats an unused one, so two
 *    nodes that changed the same voucher at once never agree on "still unused" and let a
 *    second device in with its code.
 * 4. Otherwise the greater file text. "Keep the local copy" would be deterministic on
 *    each node but not across nodes: two nodes with different copies at the same counter
 *    would each keep their own for ever. Comparing the text is arbitrary yet the same
 *    everywhere, and equal texts are the same voucher, so nothing is lost by it.
 */
export function preferred(a: Voucher, b: Voucher): Voucher {
  const deadA = isInvalidated(a);
  if (deadA !== isInvalidated(b)) return deadA ? a : b;
  if (a.mod_counter !== b.mod_counter) return a.mod_counter > b.mod_counter ? a : b;
  const usedA = a.activation_date !== undefined;
  if (usedA !== (b.activation_date !== undefined)) return usedA ? a : b;
  return serializeVoucher(a) >= serializeVoucher(b) ? a : b;
}

export type RefusedReason = 'pruned';

export interface MergeResult {
  /** The merged set, sorted by id. */
  vouchers: Voucher[];
  /** Remote copies adopted: ids new here and local copies replaced. Sorted by id. */
  changed: Voucher[];
  /** Remote vouchers turned away. */
  refused: Array<{ id: string; reason: RefusedReason }>;
}

function byId(a: Voucher, b: Voucher): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Merges `remote` into `local` (neither is modified). A remote voucher whose id this node
 * pruned (`pruned`) is refused: it is over, and only a replica that has not pruned it yet
 * still has it.
 */
export function mergeVouchers(
  local: readonly Voucher[],
  remote: readonly Voucher[],
  pruned: ReadonlySet<string> = new Set(),
): MergeResult {
  const merged = new Map<string, Voucher>();
  for (const v of local) {
    const known = merged.get(v.id);
    merged.set(v.id, known ? preferred(known, v) : v);
  }
  const before = new Map(merged);
  const refused: MergeResult['refused'] = [];
  for (const v of remote) {
    if (pruned.has(v.id)) {
      if (!refused.some((r) => r.id === v.id)) refused.push({ id: v.id, reason: 'pruned' });
      continue;
    }
    const known = merged.get(v.id);
    merged.set(v.id, known ? preferred(known, v) : v);
  }
  const changed: Voucher[] = [];
  for (const [id, v] of merged) {
    const old = before.get(id);
    if (old === undefined || serializeVoucher(old) !== serializeVoucher(v)) changed.push(v);
  }
  return { vouchers: [...merged.values()].sort(byId), changed: changed.sort(byId), refused };
}
