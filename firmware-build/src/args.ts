/**
 * The command line of `wrtkit build` and `wrtkit keys`, parsed without surprises: known
 * options only, each value checked, errors that say which option and what it wants.
 */
export interface BuildArgs {
  site: string;
  check: boolean;
  out?: string;
  key?: string;
  imagebuilder?: string;
  openwrtSdk?: string;
  minify: boolean;
}

export interface KeysArgs {
  out: string;
  comment?: string;
  force: boolean;
}

export class UsageError extends Error {
  readonly code = 'WRTKIT_ERR_USAGE';
}

interface Spec {
  flags: Record<string, string>;
  values: Record<string, string>;
}

function parse(argv: readonly string[], spec: Spec): { flags: Set<string>; values: Map<string, string>; rest: string[] } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (name in spec.flags) {
      if (inline !== undefined) throw new UsageError(`${name} takes no value`);
      flags.add(name);
    } else if (name in spec.values) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs ${spec.values[name]}`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option ${name}`);
    }
  }
  return { flags, values, rest };
}

export const BUILD_USAGE = `usage: wrtkit build <site.yaml|site.json> [options]

From one site file: bundles, OpenWrt packages, a signed feed, a source feed, and images
when an ImageBuilder is given. The site file is checked against every chosen plugin's
schema first; nothing is built when it has errors.

  --check               only check the site file (every error with its path)
  --out DIR             where everything goes (default: ./firmware/<site name>)
  --key FILE            usign secret key that signs the feed (Packages.sig), default
                        $WRTKIT_SIGN_KEY; its public key must be one of the site's feed.keys
  --imagebuilder DIR    an unpacked OpenWrt ImageBuilder: build the images of the site's
                        profiles for its target (flash budget checked first)
  --openwrt-sdk DIR     an OpenWrt SDK or ImageBuilder of 25.12+: its apk tool makes .apk
                        packages and packages.adb
  --no-minify           readable bundles (for debugging; not for release)

Reproducible: SOURCE_DATE_EPOCH (default: the time of the repository's last commit) sets
every timestamp; the same inputs give the same bytes (manifest.json lists the hashes).`;

export const KEYS_USAGE = `usage: wrtkit keys new [--out DIR] [--comment TEXT] [--force]

Makes a usign (Ed25519) key pair for signing a feed: DIR/<key id>.sec (keep it secret)
and DIR/<key id>.pub, whose second line goes into the site file's feed.keys (nodes get it
as /etc/opkg/keys/<key id> at first boot).
  --out DIR       where to write them (default: ./keys)
  --comment TEXT  the keys' "untrusted comment"
  --force         overwrite existing files`;

export function parseBuildArgs(argv: readonly string[]): BuildArgs {
  const { flags, values, rest } = parse(argv, {
    flags: { '--check': '', '--no-minify': '' },
    values: {
      '--out': 'a directory',
      '--key': 'a usign secret key file',
      '--imagebuilder': 'a directory',
      '--openwrt-sdk': 'a directory',
    },
  });
  if (rest.length !== 1)
    throw new UsageError(rest.length === 0 ? 'give the site file' : `one site file, not ${rest.length}: ${rest.join(' ')}`);
  return {
    site: rest[0]!,
    check: flags.has('--check'),
    out: values.get('--out'),
    key: values.get('--key'),
    imagebuilder: values.get('--imagebuilder'),
    openwrtSdk: values.get('--openwrt-sdk'),
    minify: !flags.has('--no-minify'),
  };
}

export function parseKeysArgs(argv: readonly string[]): KeysArgs {
  const { flags, values, rest } = parse(argv, {
    flags: { '--force': '' },
    values: { '--out': 'a directory', '--comment': 'a text' },
  });
  if (rest.length > 0) throw new UsageError(`unexpected ${rest.join(' ')}`);
  return { out: values.get('--out') ?? 'keys', comment: values.get('--comment'), force: flags.has('--force') };
}
