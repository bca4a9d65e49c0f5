/** The kernel's random source (platform.randomBytes). */
export type RandomBytes = (length: number) => Uint8Array;

export const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const CODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const ID_SIZE = 6;
export const CODE_SIZE = 6;

/**
 * `length` characters drawn uniformly from `alphabet`. A byte is used only when it falls
 * below the largest multiple of the alphabet's size (rejection sampling): `byte % 26`
 * over all 256 values would make the first 22 letters likelier, and a code is a secret
 * whose guessing odds must be what its length promises.
 */
export function randomString(randomBytes: RandomBytes, length: number, alphabet: string): string {
  const size = alphabet.length;
  if (size < 2 || size > 256) throw new RangeError(`alphabet of ${size} characters`);
  const limit = 256 - (256 % size);
  let out = '';
  while (out.length < length) {
    // Ask for a little more than needed so a rejected byte rarely costs another read.
    for (const byte of randomBytes(length - out.length + 4)) {
      if (byte >= limit) continue;
      out += alphabet[byte % size];
      if (out.length === length) break;
    }
  }
  return out;
}

export function newId(randomBytes: RandomBytes): string {
  return randomString(randomBytes, ID_SIZE, ID_ALPHABET);
}

export function newCode(randomBytes: RandomBytes): string {
  return randomString(randomBytes, CODE_SIZE, CODE_ALPHABET);
}
