/**
 * Recipes for the packages that have none in the repository, written in the style of the
 * repository's own so that one reader (recipe.ts) and one installer (realize.ts) serve
 * every package, and the source feed gets the same Makefile the binary feed was made from:
 *   - a plugin without openwrt/Makefile (the examples): its build output, package.json's
 *     `wrtkit.openwrt` {depends, title}, its openwrt/files/ if present;
 *   - the site package: the community's uci-defaults script;
 *   - a part split out of a recipe (offloadd): the moved lines and the table's metadata.
 */
import type { Split } from './components.js';
import type { SplitPart } from './rewrite.js';

const MAINTAINER = 'wrtkit developers';

/** The plugins' postinst/postrm (as their recipes and the SDK template have them). */
const PLUGIN_SCRIPTS = `# The host loads plugins when it starts: restart it so it loads (or forgets) this one;
# let rpcd read the new ACL. Nothing to do when building an image (IPKG_INSTROOT).
define Package/$(PKG_NAME)/postinst
#!/bin/sh
[ -n "$\${IPKG_INSTROOT}" ] && exit 0
/etc/init.d/wrtkit restart
[ -x /etc/init.d/rpcd ] && /etc/init.d/rpcd reload
exit 0
endef

define Package/$(PKG_NAME)/postrm
#!/bin/sh
[ -n "$\${IPKG_INSTROOT}" ] && exit 0
/etc/init.d/wrtkit restart
[ -x /etc/init.d/rpcd ] && /etc/init.d/rpcd reload
exit 0
endef
`;

export interface GenericPlugin {
  /** Manifest name (`heartbeat`). */
  name: string;
  /** Repository-relative plugin directory. */
  source: string;
  version: string;
  license: string;
  title: string;
  description: string;
  /** `+pkg` tokens after +wrtkit. */
  depends: string[];
  /** Files of the build output (plugins/<name>/), sorted. */
  bundle: string[];
  /** Whether the build wrote acl.d/wrtkit-<name>.json. */
  acl: boolean;
  /** Paths under openwrt/files/, sorted, with whether they are executable. */
  files: { path: string; executable: boolean }[];
}

export function genericPluginRecipe(p: GenericPlugin): string {
  const files = p.files.map((f) => ({ ...f, install: installCommand(f.path, f.executable) }));
  const conffiles = p.files.filter((f) => f.path.startsWith('etc/config/')).map((f) => `/${f.path}`);
  const dirs = [
    '$(1)$(PLUGIN_DIR)',
    ...(p.acl ? ['$(1)/usr/share/rpcd/acl.d'] : []),
    ...unique(files.map((f) => `$(1)/${dirname(f.path)}`)),
  ];
  const checked = [...p.bundle.map((b) => `$(PLUGIN)/${b}`), ...(p.acl ? ['acl.d/wrtkit-$(PLUGIN).json'] : [])];
  return `# wrtkit source feed: the recipe of the wrtkit plugin ${p.name} (${p.source}),
# which has none of its own, written by firmware-build from the plugin's bundle
# (WRTKIT_BUILD, ./dist here), package.json's wrtkit.openwrt {depends, title} and its
# openwrt/files/. JavaScript built on the build host: architecture-independent.
include $(TOPDIR)/rules.mk

PKG_NAME:=wrtkit-${p.name}
PKG_VERSION:=${p.version}
PKG_RELEASE:=1
PKG_LICENSE:=${p.license}
PKG_MAINTAINER:=${MAINTAINER}

include $(INCLUDE_DIR)/package.mk

WRTKIT_BUILD ?= $(CURDIR)/dist
PLUGIN:=${p.name}
PLUGIN_DIR:=/usr/share/wrtkit/plugins/$(PLUGIN)

define Package/$(PKG_NAME)
  SECTION:=utils
  CATEGORY:=Utilities
  SUBMENU:=wrtkit plugins
  TITLE:=${makeText(p.title)}
  DEPENDS:=${['+wrtkit', ...p.depends].join(' ')}
  PKGARCH:=all
endef

define Package/$(PKG_NAME)/description
${wrap(p.description)
  .map((l) => `  ${makeText(l)}`)
  .join('\n')}
endef
${conffiles.length > 0 ? `\ndefine Package/$(PKG_NAME)/conffiles\n${conffiles.join('\n')}\nendef\n` : ''}
define Build/Compile
	@for f in ${checked.join(' ')}; do \\
	  [ -f "$(WRTKIT_BUILD)/$$$$f" ] || { echo "$(WRTKIT_BUILD)/$$$$f is missing: run the wrtkit build" >&2; exit 1; }; \\
	done
endef

define Package/$(PKG_NAME)/install
	$(INSTALL_DIR) ${dirs.join(' ')}
	$(INSTALL_DATA) ${p.bundle.map((b) => `$(WRTKIT_BUILD)/$(PLUGIN)/${b}`).join(' ')} $(1)$(PLUGIN_DIR)/
${p.acl ? '\t$(INSTALL_DATA) $(WRTKIT_BUILD)/acl.d/wrtkit-$(PLUGIN).json $(1)/usr/share/rpcd/acl.d/wrtkit-$(PLUGIN).json\n' : ''}${files
    .map((f) => `\t$(${f.install}) ./files/${f.path} $(1)/${f.path}\n`)
    .join('')}endef

${PLUGIN_SCRIPTS}
$(eval $(call BuildPackage,$(PKG_NAME)))
`;
}

export interface SitePackage {
  slug: string;
  version: string;
  license: string;
  /** Package names it pulls in (wrtkit and the chosen plugins). */
  depends: string[];
  /** Path under files/ (`etc/uci-defaults/90-wrtkit-site`). */
  script: string;
}

export function siteRecipe(s: SitePackage): string {
  return `# wrtkit source feed: the site package of the community ${s.slug}, written by
# firmware-build from its site file. The uci-defaults script carries the community's
# settings: it runs once, at the first boot of an image or when the package is installed
# on a running router (package.mk's default_postinst), and is removed once it succeeded.
include $(TOPDIR)/rules.mk

PKG_NAME:=wrtkit-site-${s.slug}
PKG_VERSION:=${s.version}
PKG_RELEASE:=1
PKG_LICENSE:=${s.license}
PKG_MAINTAINER:=${MAINTAINER}

include $(INCLUDE_DIR)/package.mk

define Package/$(PKG_NAME)
  SECTION:=utils
  CATEGORY:=Utilities
  SUBMENU:=wrtkit plugins
  TITLE:=wrtkit settings of the community ${s.slug}
  DEPENDS:=${s.depends.map((d) => `+${d}`).join(' ')}
  PKGARCH:=all
endef

define Package/$(PKG_NAME)/description
  The settings of the community network ${s.slug} for wrtkit and its plugins, applied
  once by /${s.script}.
endef

define Build/Compile
endef

define Package/$(PKG_NAME)/install
	$(INSTALL_DIR) $(1)/${dirname(s.script)}
	$(INSTALL_BIN) ./files/${s.script} $(1)/${s.script}
endef

$(eval $(call BuildPackage,$(PKG_NAME)))
`;
}

export interface SplitRecipe {
  split: Split;
  /** Repository path of the recipe it comes from, and that recipe's package. */
  from: string;
  parent: string;
  version: string;
  release: string;
  license: string;
  part: SplitPart;
}

export function splitRecipe({ split, from, parent, version, release, license, part }: SplitRecipe): string {
  const prepare = [
    `\t$(INSTALL_DIR) ${[...split.prepareDirs, ...part.prepareDirs].join(' ')}`,
    ...split.prepare.map((l) => `\t${l}`),
    ...part.prepare,
  ];
  return `# wrtkit source feed: ${split.name}, split by firmware-build out of
# ${from}: its build and install lines are that recipe's, moved here
# unchanged, so that ${parent} can be architecture-independent in the binary feed
# and depend on this package. C, built with the target toolchain: architecture-dependent.
include $(TOPDIR)/rules.mk

PKG_NAME:=${split.name}
PKG_VERSION:=${version}
PKG_RELEASE:=${release}
PKG_LICENSE:=${license}
PKG_MAINTAINER:=${MAINTAINER}

include $(INCLUDE_DIR)/package.mk

WRTKIT_REPO ?= $(CURDIR)/src

define Package/$(PKG_NAME)
  SECTION:=${split.section}
  CATEGORY:=${split.category}
  TITLE:=${makeText(split.title)}
  DEPENDS:=${split.depends.join(' ')}
endef

define Package/$(PKG_NAME)/description
${split.description.map((l) => `  ${makeText(l)}`).join('\n')}
endef

define Build/Prepare
${prepare.join('\n')}
endef

define Build/Compile
${part.compile.join('\n')}
endef

define Package/$(PKG_NAME)/install
	$(INSTALL_DIR) ${part.installDirs.join(' ')}
${part.install.join('\n')}
endef

$(eval $(call BuildPackage,$(PKG_NAME)))
`;
}

/** rules.mk's command for a file of files/: programs and scripts 0755, config 0600. */
function installCommand(path: string, executable: boolean): string {
  if (executable || /^(?:usr\/)?s?bin\/|^etc\/(?:init\.d|uci-defaults|hotplug\.d)\//.test(path)) return 'INSTALL_BIN';
  if (path.startsWith('etc/config/')) return 'INSTALL_CONF';
  return 'INSTALL_DATA';
}

/** Text safe in a make assignment or define: `$` and `#` escaped. */
function makeText(text: string): string {
  return text.replace(/\$/g, '$$$$').replace(/#/g, '\\#');
}

function wrap(text: string, width = 78): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.length > 0 ? lines : [''];
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
