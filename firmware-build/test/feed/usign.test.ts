import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isWrtkitError } from '@wrtkit/core';
import { packagesIndex } from '../../src/feed/packages-index.js';
import {
  fingerprint,
  formatPublicKey,
  formatSecretKey,
  formatSignature,
  keyIdOf,
  newKeyPair,
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  publicKeyFileOf,
  sign,
  verify,
} from '../../src/feed/usign.js';
import { writeIpk } from '../../src/packages/ipk.js';
import { EPOCH, sampleSpec } from './sample.js';

const SIGNIFY = 'signify-openbsd';

function signifyVerify(dir: string, pub: string, message: string, sig: string): number | null {
  return spawnSync(SIGNIFY, ['-V', '-q', '-p', join(dir, pub), '-m', join(dir, message), '-x', join(dir, sig)]).status;
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('usign keys and signatures', () => {
  let dir: string;
  let packages: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wrtkit-usign-'));
    packages = packagesIndex([await writeIpk(sampleSpec(), { mtime: EPOCH })]);
    writeFileSync(join(dir, 'Packages'), packages);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes key files in usign’s layout', () => {
    const pair = newKeyPair();
    const [pubComment, pubB64, pubEnd] = pair.publicKeyFile.split('\n');
    expect(pubComment).toBe(`untrusted comment: public key ${pair.keyId}`);
    expect(pubEnd).toBe('');
    const pub = Buffer.from(pubB64 as string, 'base64');
    expect(pub.length).toBe(2 + 8 + 32);
    expect(pub.subarray(0, 2).toString()).toBe('Ed');

    const [secComment, secB64] = pair.secretKeyFile.split('\n');
    expect(secComment).toBe(`untrusted comment: private key ${pair.keyId}`);
    const sec = Buffer.from(secB64 as string, 'base64');
    expect(sec.length).toBe(2 + 2 + 4 + 16 + 8 + 8 + 64);
    expect(sec.subarray(0, 4).toString()).toBe('EdBK');
    expect(sec.readUInt32BE(4)).toBe(0);
    const secretKey = sec.subarray(40, 104);
    expect(sec.subarray(24, 32)).toEqual(createHash('sha512').update(secretKey).digest().subarray(0, 8));
    // Same key number in both; the secret key's second half is the public key.
    expect(sec.subarray(32, 40)).toEqual(pub.subarray(2, 10));
    expect(secretKey.subarray(32)).toEqual(pub.subarray(10));
    // usign -F: the key number as hex, without leading zeros.
    expect(pair.keyId).toBe(pub.readBigUInt64BE(2).toString(16));
    expect(fingerprint(pair.publicKeyFile)).toBe(pair.keyId);
    expect(fingerprint(pair.secretKeyFile)).toBe(pair.keyId);
    expect(newKeyPair('Local build key').publicKeyFile.startsWith('untrusted comment: Local build key\n')).toBe(true);
  });

  it('round-trips key and signature files', () => {
    const pair = newKeyPair('round trip');
    expect(formatSecretKey(parseSecretKey(pair.secretKeyFile))).toBe(pair.secretKeyFile);
    expect(formatPublicKey(parsePublicKey(pair.publicKeyFile))).toBe(pair.publicKeyFile);
    expect(publicKeyFileOf(pair.secretKeyFile, 'round trip')).toBe(pair.publicKeyFile);
    const sig = sign(new TextEncoder().encode(packages), pair.secretKeyFile);
    expect(formatSignature(parseSignature(sig))).toBe(sig);
    expect(fingerprint(sig)).toBe(pair.keyId);
  });

  it('names key ids as usign does: hex of the key number without leading zeros', () => {
    expect(keyIdOf(Buffer.from('00000a0b0c0d0e0f', 'hex'))).toBe('a0b0c0d0e0f');
    expect(keyIdOf(Buffer.from('5151f69420c3f508', 'hex'))).toBe('5151f69420c3f508');
    const pair = newKeyPair();
    const key = parseSecretKey(pair.secretKeyFile);
    const shifted = formatSecretKey({ ...key, keyNumber: Buffer.from('000000000000beef', 'hex') });
    expect(sign(new Uint8Array([1]), shifted).split('\n')[0]).toBe('untrusted comment: signed by key beef');
  });

  it('signs Packages so that signify-openbsd -V accepts it, and refuses a tampered Packages', () => {
    const pair = newKeyPair();
    writeFileSync(join(dir, 'key.pub'), pair.publicKeyFile);
    const sig = sign(readFileSync(join(dir, 'Packages')), pair.secretKeyFile);
    expect(sig.split('\n')[0]).toBe(`untrusted comment: signed by key ${pair.keyId}`);
    writeFileSync(join(dir, 'Packages.sig'), sig);
    // The check the issue asks for, with signify's normal output.
    execFileSync(SIGNIFY, ['-V', '-p', join(dir, 'key.pub'), '-m', join(dir, 'Packages'), '-x', join(dir, 'Packages.sig')], {
      stdio: 'pipe',
    });
    expect(signifyVerify(dir, 'key.pub', 'Packages', 'Packages.sig')).toBe(0);

    writeFileSync(join(dir, 'Packages.tampered'), packages.replace('Version: 0.1.0-r1', 'Version: 0.1.0-r2'));
    expect(signifyVerify(dir, 'key.pub', 'Packages.tampered', 'Packages.sig')).not.toBe(0);
    // Another key's public half does not verify it either.
    writeFileSync(join(dir, 'other.pub'), newKeyPair().publicKeyFile);
    expect(signifyVerify(dir, 'other.pub', 'Packages', 'Packages.sig')).not.toBe(0);

    expect(verify(new TextEncoder().encode(packages), sig, pair.publicKeyFile)).toBe(true);
    expect(verify(readFileSync(join(dir, 'Packages.tampered')), sig, pair.publicKeyFile)).toBe(false);
  });

  it('works with keys and signatures made by signify-openbsd', () => {
    execFileSync(SIGNIFY, ['-G', '-n', '-c', 'signify key', '-p', join(dir, 's.pub'), '-s', join(dir, 's.sec')]);
    const secretKeyFile = readFileSync(join(dir, 's.sec'), 'utf8');
    const publicKeyFile = readFileSync(join(dir, 's.pub'), 'utf8');
    expect(fingerprint(secretKeyFile)).toBe(fingerprint(publicKeyFile));
    expect(publicKeyFileOf(secretKeyFile, 'signify key public key')).toBe(publicKeyFile);

    writeFileSync(join(dir, 'Packages.s.sig'), sign(readFileSync(join(dir, 'Packages')), secretKeyFile));
    expect(signifyVerify(dir, 's.pub', 'Packages', 'Packages.s.sig')).toBe(0);

    execFileSync(SIGNIFY, [
      '-S',
      '-s',
      join(dir, 's.sec'),
      '-m',
      join(dir, 'Packages'),
      '-x',
      join(dir, 'Packages.by-signify.sig'),
    ]);
    const theirs = readFileSync(join(dir, 'Packages.by-signify.sig'), 'utf8');
    expect(verify(readFileSync(join(dir, 'Packages')), theirs, publicKeyFile)).toBe(true);
    // Ed25519 signatures are deterministic: ours is signify's, bar the comment.
    expect(parseSignature(theirs).signature).toEqual(parseSignature(readFileSync(join(dir, 'Packages.s.sig'), 'utf8')).signature);
  });

  it('is standard Ed25519 (RFC 8032, test 1)', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const pub = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
    const keyNumber = Buffer.from('0102030405060708', 'hex');
    const secretKey = Buffer.concat([seed, pub]);
    const secretKeyFile = formatSecretKey({
      comment: 'rfc8032',
      kdfRounds: 0,
      salt: Buffer.alloc(16),
      checksum: createHash('sha512').update(secretKey).digest().subarray(0, 8),
      keyNumber,
      secretKey,
    });
    const sig = parseSignature(sign(new Uint8Array(), secretKeyFile));
    expect(Buffer.from(sig.signature).toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('refuses a passphrase-protected secret key with a coded error', () => {
    const key = parseSecretKey(newKeyPair().secretKeyFile);
    const locked = formatSecretKey({ ...key, kdfRounds: 42 });
    const err = errorOf(() => sign(new Uint8Array([1]), locked));
    expect(isWrtkitError(err, ErrorCodes.UNSUPPORTED)).toBe(true);
    expect((err as { details: Record<string, unknown> }).details).toMatchObject({
      reason: 'usign-key-passphrase',
      kdfRounds: 42,
    });
    expect((err as Error).message).toMatch(/passphrase-protected/);
  });

  it('refuses broken files: wrong checksum, not base64, wrong algorithm, no comment line', () => {
    const pair = newKeyPair();
    const key = parseSecretKey(pair.secretKeyFile);
    const bad = [
      formatSecretKey({ ...key, checksum: Buffer.alloc(8) }),
      'untrusted comment: x\nnot*base64\n',
      pair.secretKeyFile.replace(/^untrusted comment: /, 'comment: '),
      `untrusted comment: x\n${Buffer.concat([Buffer.from('Xx'), Buffer.alloc(102)]).toString('base64')}\n`,
    ];
    for (const file of bad)
      expect(
        isWrtkitError(
          errorOf(() => sign(new Uint8Array([1]), file)),
          ErrorCodes.INVALID_ARGUMENT,
        ),
      ).toBe(true);
    expect(
      isWrtkitError(
        errorOf(() => newKeyPair('two\nlines')),
        ErrorCodes.INVALID_ARGUMENT,
      ),
    ).toBe(true);
    // A signature checked against another key number fails without error.
    const sig = sign(new Uint8Array([1]), pair.secretKeyFile);
    expect(verify(new Uint8Array([1]), sig, newKeyPair().publicKeyFile)).toBe(false);
  });
});
