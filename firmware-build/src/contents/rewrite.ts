/**
 * The changes a repository recipe gets when it is copied into the source feed. Each is
 * small, deterministic and recorded (the feed's Makefile lists them in its header); each
 * finds what it changes by structure (a define block, an assignment, a command), and fails
 * when the recipe no longer has what it expects, so a changed recipe cannot silently
 * produce a wrong feed.
 */
import { findDefine, logicalLines, type MakefileDoc, parseMakefile } from './makefile.js';

export class RecipeEditor {
  private lines: string[];
  readonly changes: string[] = [];

  constructor(
    text: string,
    readonly origin: string,
  ) {
    this.lines = text.split('\n');
  }

  get text(): string {
    return this.lines.join('\n');
  }

  doc(): MakefileDoc {
    return parseMakefile(this.text, this.origin);
  }

  private block(name: string) {
    const block = findDefine(this.doc(), name);
    if (!block) throw new Error(`${this.origin}: no define ${name}`);
    return block;
  }

  /** Replaces the body of a define. */
  private setBody(name: string, body: string[]): void {
    const block = this.block(name);
    this.lines.splice(block.start + 1, block.end - block.start - 1, ...body);
  }

  /**
   * The build locations of the recipe point into the package directory: WRTKIT_BUILD
   * (plugin bundles, ACLs) at ./dist, WRTKIT_REPO (sources) at ./src, and a build product
   * the recipe expects next to itself (`./wrtkit.js`) at ./dist too.
   */
  pointIntoPackage(): this {
    const doc = this.doc();
    for (const [name, dir] of [
      ['WRTKIT_BUILD', 'dist'],
      ['WRTKIT_REPO', 'src'],
    ] as const) {
      const d = doc.defaults.get(name);
      if (!d) continue;
      this.lines[d.line] = `${name} ?= $(CURDIR)/${dir}`;
      this.changes.push(`${name} is $(CURDIR)/${dir} (was ${d.value})`);
    }
    for (const block of doc.defines.filter((b) => /^Package\/[^/]+\/install$/.test(b.name))) {
      for (let i = block.start + 1; i < block.end; i++) {
        const line = this.lines[i] ?? '';
        const moved = line.replace(/(\s)\.\/(?!files\/|dist\/|src\/)(\S+)/g, (_all, space: string, rel: string) => {
          this.changes.push(`./${rel} is read from ./dist/${rel}`);
          return `${space}./dist/${rel}`;
        });
        this.lines[i] = moved;
      }
    }
    return this;
  }

  /**
   * bpf.mk names the target's byte order BPF_TARGET (bpfel, bpfeb) and has no BPF_ENDIAN: a
   * recipe that uses $(BPF_ENDIAN) would install `offload.bpf.o`. Defined from BPF_TARGET.
   */
  defineBpfEndian(): this {
    const doc = this.doc();
    if (!this.text.includes('$(BPF_ENDIAN)') || doc.vars.has('BPF_ENDIAN')) return this;
    const at = this.lines.findIndex((l) => l.trim() === 'include $(INCLUDE_DIR)/bpf.mk');
    if (at < 0) throw new Error(`${this.origin}: uses $(BPF_ENDIAN) without including bpf.mk`);
    this.lines.splice(
      at + 1,
      0,
      '# bpf.mk has BPF_TARGET (bpfel or bpfeb), not BPF_ENDIAN',
      'BPF_ENDIAN:=$(patsubst bpf%,%,$(BPF_TARGET))',
    );
    this.changes.push('BPF_ENDIAN (el, eb) is defined from BPF_TARGET: bpf.mk has no BPF_ENDIAN');
    return this;
  }

  /**
   * Moves every command of Build/Prepare, Build/Compile and the package's install that
   * mentions `marker` (with the comment lines right above it) out of the recipe, and the
   * directories only those commands used. Returns them for the new package's Makefile.
   */
  splitOut(pkg: string, marker: string, into: string): SplitPart {
    const part: SplitPart = { prepare: [], compile: [], install: [], prepareDirs: [], installDirs: [] };
    const doc = this.doc();
    const orig = new Set([...doc.vars.keys(), ...doc.defaults.keys()]);
    const install = `Package/${pkg}/install`;
    for (const name of ['Build/Prepare', 'Build/Compile', install]) {
      const block = findDefine(doc, name);
      if (!block) continue;
      const keep: string[] = [];
      const moved: string[] = [];
      const dirLines: { index: number; line: string }[] = [];
      const movedDests: string[] = [];
      let comments: string[] = [];
      for (const l of logicalLines(block.body)) {
        const physical = block.body.slice(l.first, l.last + 1);
        const t = l.text.trim();
        if (t.startsWith('#')) {
          comments.push(...physical);
          continue;
        }
        if (t.startsWith('$(INSTALL_DIR)')) {
          keep.push(...comments);
          comments = [];
          dirLines.push({ index: keep.length, line: l.text });
          keep.push(l.text);
          continue;
        }
        if (t.includes(marker)) {
          moved.push(...comments, ...physical);
          const dest = t.split(/\s+/).pop() ?? '';
          movedDests.push(dest.slice(0, dest.lastIndexOf('/')));
        } else keep.push(...comments, ...physical);
        comments = [];
      }
      keep.push(...comments);
      // directories: those naming the marker go; in the install, also those that only
      // the moved commands installed into
      const movedDirs: string[] = [];
      const edits = dirLines.map(({ index, line }) => {
        const [command = '', ...dirs] = line.trim().split(/\s+/);
        const goes = (d: string): boolean =>
          d.includes(marker) ||
          (name === install && movedDests.includes(d) && !keep.some((k) => !k.includes('$(INSTALL_DIR)') && k.includes(`${d}/`)));
        movedDirs.push(...dirs.filter(goes));
        return { index, command, dirs, stays: dirs.filter((d) => !goes(d)) };
      });
      for (const { index, command, dirs, stays } of edits.reverse()) {
        if (stays.length === 0) keep.splice(index, 1);
        else if (stays.length !== dirs.length) keep[index] = `\t${command} ${stays.join(' ')}`;
      }
      if (moved.length === 0 && movedDirs.length === 0) continue;
      this.setBody(name, keep);
      if (name === 'Build/Prepare') {
        part.prepare.push(...moved);
        part.prepareDirs.push(...movedDirs);
      } else if (name === 'Build/Compile') part.compile.push(...moved);
      else {
        part.install.push(...moved);
        part.installDirs.push(...movedDirs);
      }
    }
    if (part.install.length === 0) throw new Error(`${this.origin}: nothing of ${pkg}'s install mentions ${marker}`);
    // the moved lines go into a Makefile of their own: they must not need this recipe's variables
    for (const line of [...part.prepare, ...part.compile, ...part.install]) {
      for (const m of line.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
        const name = m[1] ?? '';
        if (orig.has(name) && name !== 'WRTKIT_REPO')
          throw new Error(`${this.origin}: a line moved to ${into} uses $(${name}): ${line.trim()}`);
      }
    }
    this.changes.push(`${into} is a package of its own (../${into}): its build and install lines moved there`);
    return part;
  }

  /** Adds DEPENDS+= to the package's definition. */
  addDepends(pkg: string, depends: string): this {
    const block = this.block(`Package/${pkg}`);
    this.lines.splice(block.end, 0, `  DEPENDS+=${depends}`);
    this.changes.push(`depends also on ${depends.replace(/^\+/, '')}`);
    return this;
  }

  /** Installs `files/<path>` (INSTALL_BIN) at `/<path>`. */
  addFile(pkg: string, path: string): this {
    const block = this.block(`Package/${pkg}/install`);
    const dir = path.slice(0, path.lastIndexOf('/'));
    this.lines.splice(block.end, 0, `\t$(INSTALL_DIR) $(1)/${dir}`, `\t$(INSTALL_BIN) ./files/${path} $(1)/${path}`);
    this.changes.push(`installs /${path}`);
    return this;
  }

  /** The header saying where the Makefile comes from and how it differs. */
  withHeader(): string {
    const header = [`# wrtkit source feed: ${this.origin}, copied by firmware-build. Do not edit here.`];
    if (this.changes.length > 0) header.push('# Changed for the feed:', ...this.changes.map((c) => `#   - ${c}`));
    return `${header.join('\n')}\n${this.text}`;
  }
}

export interface SplitPart {
  prepare: string[];
  compile: string[];
  install: string[];
  prepareDirs: string[];
  installDirs: string[];
}
