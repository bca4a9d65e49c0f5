/**
 * usign/signify Ed25519 keys and signatures with node:crypto, in the files OpenWrt's usign
 * and OpenBSD's signify read and write: a line `untrusted comment: …`, then one line of
 * base64 of
 *
 * - public key: "Ed" | key number (8) | public key (32)
 * - secret key: "Ed" | "BK" | kdfrounds (u32 BE) | salt (16) | checksum (8) | key number (8)
 *   | secret key (64 = seed | public key); checksum = SHA-512(secret key)[0..8]
 * - signature:  "Ed" | key number (8) | Ed25519 signature (64) of the whole message
 *
 * The key number is usign's fingerprint: `usign -F` prints it as hex without leading zeros
 * (printf "%" PRIx64), and opkg looks for the public key at /etc/opkg/keys/<that hex>.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as edSign,
  verify as edVerify,
} from 'node:crypto';
import { ErrorCodes, WrtkitError } from '@wrtkit/core';

export interface UsignKeyPair {
  /** The secret key file's text (unencrypted: kdfrounds 0). */
  secretKeyFile: string;
  publicKeyFile: string;
  /** usign's fingerprint of the key, e.g. `5151f69420c3f508` (no leading zeros). */
  keyId: string;
}

export interface UsignPublicKey {
  comment: string;
  keyNumber: Uint8Array;
  publicKey: Uint8Array;
}

export interface UsignSecretKey {
  comment: string;
  kdfRounds: number;
  salt: Uint8Array;
  checksum: Uint8Array;
  keyNumber: Uint8Array;
  /** Seed (32) then public key (32). */
  secretKey: Uint8Array;
}

export interface UsignSignature {
  comment: string;
  keyNumber: Uint8Array;
  signature: Uint8Array;
}

const COMMENT_PREFIX = 'untrusted comment: ';
const ED = Buffer.from('Ed');
const BK = Buffer.from('BK');
// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410), the form node:crypto imports.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function keyError(message: string, reason: string): WrtkitError {
  return new WrtkitError(ErrorCodes.INVALID_ARGUMENT, message, { details: { reason } });
}

/** usign's fingerprint text: the 8 bytes as one big-endian number in hex, without padding. */
export function keyIdOf(keyNumber: Uint8Array): string {
  return Buffer.from(keyNumber).readBigUInt64BE(0).toString(16);
}

function fileText(comment: string, payload: Uint8Array): string {
  if (/[\r\n]/.test(comment)) throw keyError('a usign comment must be one line', 'usign-comment');
  return `${COMMENT_PREFIX}${comment}\n${Buffer.from(payload).toString('base64')}\n`;
}

/** The comment and the decoded payload; `what` names the file kind in errors. */
function parseFile(text: string, size: number, what: string): { comment: string; payload: Buffer } {
  const lines = text.split('\n');
  const first = lines[0] ?? '';
  if (!first.startsWith(COMMENT_PREFIX))
    throw keyError(`not a usign/signify ${what}: no "untrusted comment:" line`, 'usign-format');
  const encoded = (lines[1] ?? '').trim();
  const payload = Buffer.from(encoded, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || payload.length !== size || !payload.subarray(0, 2).equals(ED)) {
    throw keyError(`not a usign/signify Ed25519 ${what}: expected ${size} bytes starting with "Ed"`, 'usign-format');
  }
  return { comment: first.slice(COMMENT_PREFIX.length), payload };
}

export function parsePublicKey(text: string): UsignPublicKey {
  const { comment, payload } = parseFile(text, 42, 'public key');
  return { comment, keyNumber: payload.subarray(2, 10), publicKey: payload.subarray(10, 42) };
}

export function parseSecretKey(text: string): UsignSecretKey {
  const { comment, payload } = parseFile(text, 104, 'secret key');
  if (!payload.subarray(2, 4).equals(BK))
    throw keyError('usign/signify secret key with an unknown KDF (expected "BK")', 'usign-format');
  return {
    comment,
    kdfRounds: payload.readUInt32BE(4),
    salt: payload.subarray(8, 24),
    checksum: payload.subarray(24, 32),
    keyNumber: payload.subarray(32, 40),
    secretKey: payload.subarray(40, 104),
  };
}

export function parseSignature(text: string): UsignSignature {
  const { comment, payload } = parseFile(text, 74, 'signature');
  return { comment, keyNumber: payload.subarray(2, 10), signature: payload.subarray(10, 74) };
}

export function formatPublicKey(key: UsignPublicKey): string {
  return fileText(key.comment, Buffer.concat([ED, key.keyNumber, key.publicKey]));
}

export function formatSecretKey(key: UsignSecretKey): string {
  const rounds = Buffer.alloc(4);
  rounds.writeUInt32BE(key.kdfRounds);
  return fileText(key.comment, Buffer.concat([ED, BK, rounds, key.salt, key.checksum, key.keyNumber, key.secretKey]));
}

export function formatSignature(sig: UsignSignature): string {
  return fileText(sig.comment, Buffer.concat([ED, sig.keyNumber, sig.signature]));
}

function checksumOf(secretKey: Uint8Array): Buffer {
  return createHash('sha512').update(secretKey).digest().subarray(0, 8);
}

/**
 * A new key pair, as `usign -G` makes one: random key number, salt and seed, no passphrase.
 * Without a comment the files say "public key <id>" / "private key <id>" (usign's words;
 * usign itself writes them on the wrong files).
 */
export function newKeyPair(comment?: string): UsignKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d as string, 'base64url');
  const publicKey = Buffer.from(jwk.x as string, 'base64url');
  const keyNumber = randomBytes(8);
  const keyId = keyIdOf(keyNumber);
  const secretKey = Buffer.concat([seed, publicKey]);
  return {
    secretKeyFile: formatSecretKey({
      comment: comment ?? `private key ${keyId}`,
      kdfRounds: 0,
      salt: randomBytes(16),
      checksum: checksumOf(secretKey),
      keyNumber,
      secretKey,
    }),
    publicKeyFile: formatPublicKey({ comment: comment ?? `public key ${keyId}`, keyNumber, publicKey }),
    keyId,
  };
}

/** The public key file that goes with a secret key file (what opkg installs in /etc/opkg/keys/<id>). */
export function publicKeyFileOf(secretKeyFile: string, comment?: string): string {
  const key = usableSecretKey(secretKeyFile);
  return formatPublicKey({
    comment: comment ?? `public key ${keyIdOf(key.keyNumber)}`,
    keyNumber: key.keyNumber,
    publicKey: key.secretKey.subarray(32),
  });
}

/** Parses a secret key and refuses one this module cannot sign with. */
function usableSecretKey(secretKeyFile: string): UsignSecretKey {
  const key = parseSecretKey(secretKeyFile);
  if (key.kdfRounds !== 0) {
    // usign refuses these too ("Password protected secret keys are not supported").
    throw new WrtkitError(
      ErrorCodes.UNSUPPORTED,
      `the usign/signify secret key ${keyIdOf(key.keyNumber)} is passphrase-protected (kdfrounds ${key.kdfRounds}); ` +
        'feeds are signed with unencrypted keys only: make one with `wrtkit keys new` (or `signify -G -n`)',
      { details: { reason: 'usign-key-passphrase', keyId: keyIdOf(key.keyNumber), kdfRounds: key.kdfRounds } },
    );
  }
  if (!checksumOf(key.secretKey).equals(key.checksum)) {
    throw keyError(
      `the usign/signify secret key ${keyIdOf(key.keyNumber)} is corrupt: its checksum does not match`,
      'usign-checksum',
    );
  }
  const derived = createPublicKey(seedKey(key.secretKey)).export({ format: 'jwk' }).x as string;
  if (!Buffer.from(derived, 'base64url').equals(key.secretKey.subarray(32))) {
    throw keyError(
      `the usign/signify secret key ${keyIdOf(key.keyNumber)} is corrupt: its public half does not match`,
      'usign-checksum',
    );
  }
  return key;
}

function seedKey(secretKey: Uint8Array) {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, secretKey.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** The signature file of a message (`usign -S`): comment "signed by key <id>". */
export function sign(message: Uint8Array, secretKeyFile: string): string {
  const key = usableSecretKey(secretKeyFile);
  const signature = edSign(null, message, seedKey(key.secretKey));
  return formatSignature({ comment: `signed by key ${keyIdOf(key.keyNumber)}`, keyNumber: key.keyNumber, signature });
}

/**
 * Whether the signature file is a good signature of the message by the public key. A
 * signature made by another key number is refused before any maths, as signify does.
 */
export function verify(message: Uint8Array, signatureFile: string, publicKeyFile: string): boolean {
  const sig = parseSignature(signatureFile);
  const key = parsePublicKey(publicKeyFile);
  if (!Buffer.from(sig.keyNumber).equals(key.keyNumber)) return false;
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.publicKey).toString('base64url') },
    format: 'jwk',
  });
  return edVerify(null, message, publicKey, sig.signature);
}

/** `usign -F`: the key id of a public key, secret key or signature file. */
export function fingerprint(file: string): string {
  const payloadLength = Buffer.from((file.split('\n')[1] ?? '').trim(), 'base64').length;
  if (payloadLength === 104) return keyIdOf(parseSecretKey(file).keyNumber);
  if (payloadLength === 74) return keyIdOf(parseSignature(file).keyNumber);
  return keyIdOf(parsePublicKey(file).keyNumber);
}
