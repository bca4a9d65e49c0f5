import { PiraniaErrors, piraniaError } from './errors.js';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** `aa:bb:cc:dd:ee:ff` in lower case (the form Pirania stores and compares), or undefined. */
export function parseMac(input: string): string | undefined {
  const mac = input.trim().toLowerCase();
  return MAC.test(mac) ? mac : undefined;
}

/**
 * The MAC a voucher may be bound to, lower-cased; anything else throws MAC_INVALID.
 * Multicast (and broadcast) and all-zero addresses never belong to one client device, so
 * binding a voucher to them would let a spoofer in or waste the voucher.
 */
export function normalizeMac(input: string): string {
  const mac = parseMac(input);
  if (mac === undefined) {
    throw piraniaError(PiraniaErrors.MAC_INVALID, `invalid MAC ${JSON.stringify(input)}: expected aa:bb:cc:dd:ee:ff`, {
      mac: input,
    });
  }
  if (mac === '00:00:00:00:00:00') {
    throw piraniaError(PiraniaErrors.MAC_INVALID, `invalid MAC ${mac}: the zero address is no device`, { mac: input });
  }
  // The least significant bit of the first octet marks a group (multicast) address.
  if ((parseInt(mac.slice(0, 2), 16) & 1) === 1) {
    throw piraniaError(PiraniaErrors.MAC_INVALID, `invalid MAC ${mac}: a multicast address is no device`, { mac: input });
  }
  return mac;
}
