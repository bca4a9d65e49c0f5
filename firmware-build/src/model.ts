/**
 * What the parts of firmware-build hand each other: a package to write (what goes on the
 * device, with its control data), and a package written. The site file's own types are in
 * site/.
 */

/** One file a package installs, at its absolute path on the device. */
export interface PackageFile {
  /** e.g. `/usr/share/wrtkit/wrtkit.js`; directories are implied by the paths. */
  path: string;
  data: Uint8Array;
  /** 0o644 for data, 0o755 for programs and scripts. */
  mode: number;
}

/** The maintainer scripts opkg/apk run (shell, `#!/bin/sh` included). */
export interface PackageScripts {
  preinst?: string;
  postinst?: string;
  prerm?: string;
  postrm?: string;
}

/** A package as OpenWrt's package.mk would describe it. */
export interface PackageSpec {
  /** opkg name, e.g. `wrtkit-offload`. */
  name: string;
  /** `<PKG_VERSION>-r<PKG_RELEASE>` as OpenWrt writes it, e.g. `0.1.0-r1`. */
  version: string;
  /** `all` for JavaScript-only packages (PKGARCH:=all), else the target's package arch. */
  architecture: string;
  /** Package names without OpenWrt's `+` (e.g. `wrtkit`, `libbpf`). */
  depends: string[];
  conflicts?: string[];
  section: string;
  category?: string;
  license: string;
  maintainer: string;
  /** Where the package comes from in this repository, e.g. `plugins/offload`. */
  source: string;
  /** One line, then optional more lines (the control file indents them). */
  description: string;
  files: PackageFile[];
  /** Paths of files opkg keeps when the user changed them (`/etc/config/<name>`). */
  conffiles: string[];
  scripts: PackageScripts;
}

/** A package written to the feed. */
export interface BuiltPackage {
  spec: PackageSpec;
  /** File name in the feed, e.g. `wrtkit-offload_0.1.0-r1_all.ipk`. */
  filename: string;
  bytes: Uint8Array;
  sha256: string;
  /** Bytes the files take once installed (the control file's Installed-Size). */
  installedSize: number;
}
