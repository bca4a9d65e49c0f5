/**
 * What the recipes cannot say, per component, read by both the binary feed (contents) and
 * the source feed, so the two cannot drift. The recipes stay the source of truth for what
 * each package is and installs; this table only says
 *   - which sources a recipe's Build/Prepare reads (copied into the feed, under src/),
 *   - what the binary feed installs in place of what the SDK compiles ($(PKG_BUILD_DIR)),
 *     or that the package is built only by the SDK (arch-specific: not in the binary feed),
 *   - the parts split into packages of their own (offloadd) and the files added (offload's
 *     uci-defaults that picks the datapath's byte order).
 * Plugins without an entry need none: dynapoint and pirania-nftables install only their
 * build output and files/, and plugins without a recipe get a generated one (generate.ts).
 */

/** Files of a repository directory copied into a feed package directory. */
export interface SourceCopy {
  /** Repository-relative directory (not recursive). */
  from: string;
  /** Which of its files. */
  files: RegExp;
  /** Directory inside the feed package (`src/…`). */
  to: string;
}

/** How the binary feed builds a package that the SDK would compile something for. */
export interface BinaryPlan {
  /**
   * The package is architecture-independent in the binary feed although its recipe is
   * not (it compiles the eBPF datapath for the target's byte order): the binary carries
   * both byte orders.
   */
  allArch: boolean;
  /** An install source the SDK compiles with CompileBPF, and the object name the binary
   * feed installs instead, once per byte order (`$(BPF_ENDIAN)` in the destination). */
  ebpf?: { product: string; object: string };
  /** Install commands other than INSTALL_* (by their first word), and why the binary
   * feed has nothing to do for them. */
  ignore?: Record<string, string>;
}

/** A part of a recipe moved into a package of its own in the feed. */
export interface Split {
  name: string;
  /** Recipe lines that mention this path belong to the split-off package. */
  marker: string;
  /** PackageSpec.source of the new package. */
  source: string;
  section: string;
  category: string;
  title: string;
  /** What it links: its own DEPENDS (the library packages of its `-l` flags). */
  depends: string[];
  description: string[];
  /** Build/Prepare: directories and commands it needs besides those moved out of the recipe. */
  prepareDirs: string[];
  prepare: string[];
  sources: SourceCopy[];
}

export interface Component {
  /** Repository-relative directory of the recipe (Makefile, files/). */
  recipe: string;
  /** PackageSpec.source. */
  source: string;
  sources: SourceCopy[];
  /** null: built only by the SDK from the source feed (native code). */
  binary: BinaryPlan | null;
  split?: Split;
  /** Files added to the package (under files/ in the feed, installed with INSTALL_BIN). */
  extraFiles?: { path: string; content: string }[];
}

export const HOST: Component = {
  recipe: 'core/openwrt',
  source: 'core',
  sources: [],
  binary: { allArch: false },
};

/** The QuickJS C module: its recipe builds core/native's Makefile from ./src when it has native.h. */
export const NATIVE: Component = {
  recipe: 'core/native/openwrt',
  source: 'core/native',
  sources: [{ from: 'core/native', files: /^(?:[^/]+\.[ch]|Makefile)$/, to: 'src' }],
  binary: null,
};

const OFFLOAD_OBJECT_DEFAULTS = `#!/bin/sh
# wrtkit-offload: /etc/config/offload's \`object\` defaults to the little-endian datapath,
# /lib/bpf/offload.bpfel.o. The package of the binary feed carries both byte orders
# (offload.bpfel.o, offload.bpfeb.o), one built by the SDK only the target's: on a
# big-endian device name the big-endian object, unless an object is set already. EI_DATA,
# the sixth byte of an ELF file, is the byte order of the system: 1 little, 2 big-endian.
[ -n "$(uci -q get offload.main.object)" ] && exit 0
[ "$(dd if=/bin/busybox bs=1 skip=5 count=1 2>/dev/null | hexdump -v -e '1/1 "%u"')" = 2 ] || exit 0
uci -q set offload.main.object=/lib/bpf/offload.bpfeb.o
uci -q commit offload
exit 0
`;

/** Plugins whose recipe needs more than the build output (by manifest name). */
export const PLUGINS: Record<string, Omit<Component, 'recipe' | 'source'>> = {
  offload: {
    sources: [{ from: 'ebpf/offload', files: /^[^/]+\.[ch]$/, to: 'src/ebpf/offload' }],
    binary: {
      allArch: true,
      ebpf: { product: '$(PKG_BUILD_DIR)/ebpf/offload.bpf.o', object: 'offload' },
      ignore: {
        // renames the default object to the target's byte order; the binary carries both
        // and the uci-defaults below names the big-endian one where it is needed
        '$(SED)': 'the recipe points /etc/config/offload at the target byte order',
      },
    },
    split: {
      name: 'offloadd',
      marker: '/offloadd',
      source: 'native/offloadd',
      section: 'net',
      category: 'Network',
      title: 'offloadd, the daemon of the wrtkit eBPF flow offload',
      depends: ['+libbpf', '+libmnl', '+libnetfilter-conntrack', '+libjansson'],
      description: [
        'Sets up flows on the eBPF datapath of wrtkit-offload: checks each new flow',
        'against conntrack, resolves NAT and the next hop, writes it into the',
        "datapath's maps and tears it down when the connection ends. Run and",
        'configured by the wrtkit offload plugin (wrtkit-offload).',
      ],
      // offloadd includes the datapath's offload.h and settings.h
      prepareDirs: ['$(PKG_BUILD_DIR)/ebpf'],
      prepare: ['$(CP) $(WRTKIT_REPO)/ebpf/offload/*.h $(PKG_BUILD_DIR)/ebpf/'],
      sources: [
        { from: 'native/offloadd', files: /^[^/]+\.[ch]$/, to: 'src/native/offloadd' },
        { from: 'ebpf/offload', files: /^[^/]+\.h$/, to: 'src/ebpf/offload' },
      ],
    },
    extraFiles: [{ path: 'etc/uci-defaults/80-wrtkit-offload', content: OFFLOAD_OBJECT_DEFAULTS }],
  },
};

/** bpf.mk's BPF_DEPENDS: build-time conditions only, no package dependencies. */
export const EXTERNAL_VARS: ReadonlyMap<string, string> = new Map([['BPF_DEPENDS', '@HAS_BPF_TOOLCHAIN +@NEED_BPF_TOOLCHAIN']]);

/** The byte orders of the eBPF objects: bpf.mk's BPF_TARGET is `bpf` + one of them. */
export const BPF_ENDIANS = ['el', 'eb'] as const;
