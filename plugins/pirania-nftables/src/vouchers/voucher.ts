/**
 * A voucher as Pirania stores it: one JSON object per file, `<db_path>/<id>.json`. Field
 * names and units are Pirania's (lime-packages packages/pirania, voucher/vouchera.lua):
 * dates are Unix seconds, durations minutes, an absent field is Lua's nil. Files written
 * by Pirania load here and the other way round.
 */
export interface Voucher {
  /** 6 random characters; the file name. */
  id: string;
  /** Free text chosen by whoever created it (who paid, which batch). */
  name: string;
  /** The secret a client types: 6 upper-case letters. */
  code: string;
  /** The device it was activated for (`aa:bb:cc:dd:ee:ff`, lower case); absent while unused. */
  mac?: string;
  /** Minutes of access from activation; absent: permanent. */
  duration_m?: number;
  creation_date: number;
  activation_date?: number;
  /** Unused after this date, the voucher can no longer be activated. */
  activation_deadline?: number;
  /** Set when it was invalidated: a tombstone, kept until pruned so replicas learn of it. */
  invalidation_date?: number;
  /** Hostname of the node that created it. */
  author_node?: string;
  /** Bumped on every change; the higher counter wins when replicas merge. */
  mod_counter: number;
  /** Its device passes even where authorized devices are restricted (pirania-unrestricted-macs). */
  unrestricted?: boolean;
}

/** available → active (bound to a MAC) → expired; invalidated at any point. */
export type VoucherStatus = 'available' | 'active' | 'expired' | 'invalidated';

/** A device that may pass, and until when: what the nftables sets hold. */
export interface Authorization {
  mac: string;
  voucherId: string;
  /** Unix seconds when access ends; absent: permanent. */
  expiresAt?: number;
  unrestricted: boolean;
}
