/**
 * An 802.11v BSS Transition Management request, asked in OpenWrt's words — the arguments
 * of hostapd's ubus method `hostapd.<ifname> bss_transition_request` (addr, neighbors as
 * hex neighbor report elements, abridged, disassociation_imminent, disassociation_timer,
 * validity_period) — and sent as hostapd's control command `BSS_TM_REQ`. So a steering
 * plugin asks the same thing of OpenWrt's hostapd (ubus) and of a plain hostapd (control
 * socket).
 */
import { ErrorCodes, WrtkitError } from '../../errors.js';

export interface BssTransitionRequest {
  /** The station, `aa:bb:cc:dd:ee:ff`. */
  addr: string;
  /**
   * Neighbor report elements (without element id and length), hex: BSSID (6 bytes), BSSID
   * information (4, little endian), operating class, channel, PHY type, then optional
   * subelements (e.g. `0301ff`: candidate preference 255).
   */
  neighbors?: string[];
  abridged?: boolean;
  disassociation_imminent?: boolean;
  /** Beacon intervals until the AP disassociates the station. */
  disassociation_timer?: number;
  /** Beacon intervals the candidate list is valid for. */
  validity_period?: number;
  dialog_token?: number;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function invalid(message: string): WrtkitError {
  return new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `bss_transition_request: ${message}`);
}

/** One neighbor report element → hostapd's `neighbor=<bssid>,<info>,<class>,<channel>,<phy>[,<subelements>]`. */
export function neighborArgument(hex: string): string {
  if (!/^([0-9a-fA-F]{2})+$/.test(hex) || hex.length < 26) {
    throw invalid(`neighbor '${hex}' is not a neighbor report (at least 13 bytes of hex)`);
  }
  const bytes = hex.toLowerCase().match(/../g) ?? [];
  const bssid = bytes.slice(0, 6).join(':');
  const info = Number.parseInt(bytes.slice(6, 10).reverse().join(''), 16);
  const [opClass, channel, phy] = bytes.slice(10, 13).map((b) => Number.parseInt(b, 16));
  const sub = bytes.slice(13).join('');
  return `neighbor=${bssid},0x${info.toString(16).padStart(4, '0')},${opClass},${channel},${phy}${sub ? `,${sub}` : ''}`;
}

/** The `BSS_TM_REQ` control command for a request. */
export function bssTransitionCommand(request: BssTransitionRequest): string {
  if (!MAC.test(request.addr)) throw invalid(`addr '${request.addr}' is not a MAC address`);
  const words = ['BSS_TM_REQ', request.addr.toLowerCase()];
  const neighbors = request.neighbors ?? [];
  if (request.dialog_token !== undefined) words.push(`dialog_token=${request.dialog_token}`);
  if (request.disassociation_imminent) words.push('disassoc_imminent=1');
  if (request.disassociation_timer !== undefined) words.push(`disassoc_timer=${request.disassociation_timer}`);
  if (request.validity_period !== undefined) words.push(`valid_int=${request.validity_period}`);
  // a candidate list is what makes a request "preferred"; abridged: others are less preferred
  if (neighbors.length > 0) words.push('pref=1');
  if (request.abridged) words.push('abridged=1');
  for (const n of neighbors) words.push(neighborArgument(n));
  return words.join(' ');
}

/** A neighbor report element as hex, from its parts (what `neighbors` takes). */
export function neighborReport(n: {
  bssid: string;
  bssidInfo?: number;
  opClass: number;
  channel: number;
  phyType?: number;
  preference?: number;
}): string {
  if (!MAC.test(n.bssid)) throw invalid(`bssid '${n.bssid}' is not a MAC address`);
  const hex = (v: number, bytes: number) =>
    Array.from({ length: bytes }, (_, i) => ((v >>> (8 * i)) & 0xff).toString(16).padStart(2, '0')).join('');
  const info = n.bssidInfo ?? 0;
  return (
    n.bssid.toLowerCase().replace(/:/g, '') +
    hex(info, 4) +
    hex(n.opClass, 1) +
    hex(n.channel, 1) +
    hex(n.phyType ?? 0, 1) +
    (n.preference !== undefined ? `0301${hex(n.preference, 1)}` : '')
  );
}
