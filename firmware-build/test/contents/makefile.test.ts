// The recipe reader and the feed's recipe edits on small recipes: what package.mk would
// read, and refusing what it cannot read rather than guessing.
import { describe, expect, it } from 'vitest';
import { expand, parseMakefile, words } from '../../src/contents/makefile.js';
import { readPackages } from '../../src/contents/recipe.js';
import { RecipeEditor } from '../../src/contents/rewrite.js';

const RECIPE = `include $(TOPDIR)/rules.mk

PKG_NAME:=demo
PKG_VERSION:=1.2.3
PKG_RELEASE:=4
PKG_LICENSE:=MIT
PKG_MAINTAINER:=someone

include $(INCLUDE_DIR)/package.mk

WRTKIT_BUILD ?= $(CURDIR)/../build
APP:=/usr/share/demo

define Package/$(PKG_NAME)
  SECTION:=utils
  CATEGORY:=Utilities
  TITLE:=Demo \\# one
  DEPENDS:=+wrtkit +libfoo
  DEPENDS+=$(BPF_DEPENDS)
  PKGARCH:=all
endef

define Package/$(PKG_NAME)/description
  First line,
  second line.
endef

define Package/$(PKG_NAME)/conffiles
/etc/config/demo
endef

define Build/Prepare
	$(INSTALL_DIR) $(PKG_BUILD_DIR)/app $(PKG_BUILD_DIR)/daemon
	$(CP) ./src/daemon/*.c $(PKG_BUILD_DIR)/daemon/
endef

define Build/Compile
	# the daemon
	$(TARGET_CC) -o $(PKG_BUILD_DIR)/daemon/daemon \\
		$(PKG_BUILD_DIR)/daemon/*.c
endef

define Package/$(PKG_NAME)/install
	$(INSTALL_DIR) $(1)$(APP) $(1)/etc/config $(1)/usr/sbin
	$(INSTALL_DATA) $(WRTKIT_BUILD)/a.js $(WRTKIT_BUILD)/b.js $(1)$(APP)/
	$(INSTALL_CONF) ./files/demo.conf $(1)/etc/config/demo
	$(INSTALL_BIN) $(PKG_BUILD_DIR)/daemon/daemon $(1)/usr/sbin/daemon
endef

define Package/$(PKG_NAME)/postinst
#!/bin/sh
[ -n "$\${IPKG_INSTROOT}" ] && exit 0
echo $(PKG_NAME)
endef

$(eval $(call BuildPackage,$(PKG_NAME)))
`;

describe('the recipe reader', () => {
  it('reads a package as package.mk does', () => {
    const [pkg] = readPackages(parseMakefile(RECIPE, 'demo'), 'demo');
    expect(pkg).toMatchObject({
      name: 'demo',
      version: '1.2.3-r4',
      license: 'MIT',
      maintainer: 'someone',
      section: 'utils',
      title: 'Demo # one',
      pkgarch: 'all',
      depends: ['+wrtkit', '+libfoo', '$(BPF_DEPENDS)'],
      description: 'First line,\nsecond line.',
      conffiles: ['/etc/config/demo'],
      scripts: { postinst: '#!/bin/sh\n[ -n "${IPKG_INSTROOT}" ] && exit 0\necho demo\n' },
    });
    expect(pkg?.install).toMatchObject([
      { kind: 'dir', dirs: ['/usr/share/demo', '/etc/config', '/usr/sbin'] },
      {
        kind: 'file',
        mode: 0o644,
        sources: ['$(WRTKIT_BUILD)/a.js', '$(WRTKIT_BUILD)/b.js'],
        dest: '/usr/share/demo',
        intoDir: true,
      },
      { kind: 'file', mode: 0o600, sources: ['./files/demo.conf'], dest: '/etc/config/demo', intoDir: false },
      { kind: 'file', mode: 0o755, sources: ['$(PKG_BUILD_DIR)/daemon/daemon'], dest: '/usr/sbin/daemon', intoDir: false },
    ]);
  });

  it('refuses make it does not understand', () => {
    expect(() => parseMakefile('ifeq ($(X),y)\nA:=1\nendif\n', 'x')).toThrow(/x:1: not understood/);
    expect(() => parseMakefile('define A\nno end\n', 'x')).toThrow(/without endef/);
    const script = RECIPE.replace('echo $(PKG_NAME)', 'echo $(shell date)');
    expect(() => readPackages(parseMakefile(script, 'demo'), 'demo')).toThrow(/cannot evaluate \$\(shell date\)/);
    const outside = RECIPE.replace('$(1)/etc/config/demo', '/etc/config/demo');
    expect(() => readPackages(parseMakefile(outside, 'demo'), 'demo')).toThrow(/outside \$\(1\)/);
  });

  it('expands the recipe’s variables only', () => {
    const vars = new Map([
      ['A', 'x$(B)'],
      ['B', 'y'],
      ['F', '$(patsubst a%,%,$(B))'],
    ]);
    expect(expand('$(A) $$(A) $(C) $(1) $(F)', vars)).toBe('xy $$(A) $(C) $(1) $(F)');
    expect(expand('$(F)', vars, true)).toBe('$(patsubst a%,%,y)');
    expect(words(' a $(call f, b c)  d ')).toEqual(['a', '$(call f, b c)', 'd']);
  });
});

describe('the feed edits', () => {
  it('point the build locations into the package', () => {
    const editor = new RecipeEditor(RECIPE, 'demo/Makefile').pointIntoPackage();
    expect(editor.text).toContain('WRTKIT_BUILD ?= $(CURDIR)/dist');
    expect(editor.withHeader()).toMatch(
      /^# wrtkit source feed: demo\/Makefile, copied by firmware-build\. Do not edit here\.\n# Changed for the feed:\n#   - WRTKIT_BUILD is \$\(CURDIR\)\/dist \(was \$\(CURDIR\)\/\.\.\/build\)\n/,
    );
  });

  it('split a part out: its commands, the directories only it used, and the comment above', () => {
    const editor = new RecipeEditor(RECIPE, 'demo/Makefile');
    const part = editor.splitOut('demo', '/daemon', 'demo-daemon');
    expect(part).toEqual({
      prepare: ['\t$(CP) ./src/daemon/*.c $(PKG_BUILD_DIR)/daemon/'],
      prepareDirs: ['$(PKG_BUILD_DIR)/daemon'],
      compile: ['\t# the daemon', '\t$(TARGET_CC) -o $(PKG_BUILD_DIR)/daemon/daemon \\', '\t\t$(PKG_BUILD_DIR)/daemon/*.c'],
      install: ['\t$(INSTALL_BIN) $(PKG_BUILD_DIR)/daemon/daemon $(1)/usr/sbin/daemon'],
      installDirs: ['$(1)/usr/sbin'],
    });
    expect(editor.text).toContain('define Build/Prepare\n\t$(INSTALL_DIR) $(PKG_BUILD_DIR)/app\nendef');
    expect(editor.text).toContain('define Build/Compile\nendef');
    expect(editor.text).toContain('\t$(INSTALL_DIR) $(1)$(APP) $(1)/etc/config\n');
    expect(() => new RecipeEditor(RECIPE, 'demo/Makefile').splitOut('demo', '/nothing', 'x')).toThrow(
      /nothing of demo's install/,
    );
    // a moved line must not need a variable of the recipe it leaves
    const uses = RECIPE.replace('$(1)/usr/sbin/daemon\n', '$(1)/usr/sbin/daemon$(APP)\n');
    expect(() => new RecipeEditor(uses, 'demo/Makefile').splitOut('demo', '/daemon', 'x')).toThrow(/uses \$\(APP\)/);
  });
});
