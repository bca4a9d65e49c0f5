/**
 * What goes into each package of a wrtkit build: the host (`wrtkit`), one package per
 * chosen plugin (`wrtkit-<plugin>`) and the community's settings (`wrtkit-site-<slug>`),
 * all architecture-independent. Each is its OpenWrt recipe carried out the way package.mk
 * would, from the bundles of scripts/build.mjs and the eBPF objects of `make -C
 * ebpf/offload` (both byte orders). The arch-specific packages the recipes also describe
 * (wrtkit-native, offloadd) come from the source feed (source-feed.ts), built by the SDK.
 * The pieces are in contents/: feed-package.ts (the packages as feed directories, the
 * model both feeds share), realize.ts (a Makefile's install carried out), components.ts
 * (what the recipes cannot say).
 */
import path from 'node:path';
import { type FeedInput, feedPackages } from './contents/feed-package.js';
import { realize } from './contents/realize.js';
import type { PackageSpec } from './model.js';

export type { FeedFile, FeedInput, FeedPackage, SiteDefaults } from './contents/feed-package.js';
export { feedPackages } from './contents/feed-package.js';

export interface ContentsOptions extends FeedInput {
  /** Where `make -C ebpf/offload` wrote its objects; default `<repoRoot>/.cache/ebpf/offload`. */
  ebpfDir?: string;
}

/** The all-architecture packages of a build: wrtkit, then the plugins (by name), then the site. */
export function packageContents(options: ContentsOptions): PackageSpec[] {
  const ebpfDir = options.ebpfDir ?? path.join(options.repoRoot, '.cache/ebpf/offload');
  return feedPackages(options)
    .filter((p) => p.binary !== null)
    .flatMap((p) => realize(p, { ebpfDir }));
}
