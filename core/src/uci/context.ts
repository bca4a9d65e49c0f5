/**
 * A UCI context over a config dir and a save dir, as libuci's struct uci_context with
 * its file backend: configs are read from `<confdir>/<name>` (or `<overridedir>/<name>`
 * when that exists), changes are staged in `<savedir>/<name>` and `commit` folds them
 * into the config file.
 *
 * The high-level methods (get/set/add/.../commit) each load what they need, act, stage
 * and forget, like one `uci` command. The lower-level ones (lookup, savePackage,
 * commitPackage, ...) work on packages kept loaded in the context; the CLI emulation
 * uses those to follow libuci step by step.
 */
import { ErrorCodes, WrtkitError } from '../errors.js';
import type { FileSystem } from '../platform/platform.js';
import { applyDelta, applyDeltaFile, formatDelta, readDeltaFile, type UciDelta } from './delta.js';
import { isUciError, uciInvalid, uciNotFound, type UciParseError } from './errors.js';
import { exportUci } from './export.js';
import type { UciPackage, UciSection, UciValue } from './model.js';
import { validatePackage } from './names.js';
import { uciAddList, uciAddSection, uciDelete, uciDelList, uciRename, uciReorder, uciSet, type UciRecorder } from './ops.js';
import { parseUciStream } from './parse.js';
import { parseUciPath, resolvePath, type UciPtr } from './path.js';

export interface UciContextOptions {
  /** Where configs live (default /etc/config). */
  confdir?: string;
  /** Where changes are staged (default /tmp/.uci). */
  savedir?: string;
  /** Configs found here are read from and committed to here instead (uci -C). */
  overridedir?: string;
  /** More dirs whose change files are applied on load, before the save dir's (uci -p). */
  deltaPaths?: readonly string[];
  /** Stop at the first parse error (default true, as uci without -S). */
  strict?: boolean;
  /** Commit writes the generated names of anonymous sections (uci -n). */
  nameAnonymous?: boolean;
  /** commit does nothing (uci -P). */
  noCommit?: boolean;
  /** Called for every parse error while loading (uci -S prints them). */
  onParseError?: (error: UciParseError) => void;
}

interface PackageState {
  path: string;
  /** A config from the config dir: changes are staged (not written straight away). */
  hasDelta: boolean;
  /** Changes made since load, not yet staged. */
  pending: UciDelta[];
  /** The staged changes found on load (uci changes). */
  saved: UciDelta[];
}

export class UciContext {
  readonly fs: FileSystem;
  readonly confdir: string;
  readonly savedir: string;
  readonly overridedir: string | undefined;
  readonly deltaPaths: readonly string[];
  readonly strict: boolean;
  readonly nameAnonymous: boolean;
  readonly noCommit: boolean;
  private readonly onParseError: ((error: UciParseError) => void) | undefined;
  /** Parses started (config or change files); the CLI's batch reader restarts after each. */
  loadCount = 0;
  /** Packages kept loaded (libuci's ctx->root). */
  private readonly root = new Map<string, UciPackage>();
  private readonly states = new WeakMap<UciPackage, PackageState>();

  constructor(fs: FileSystem, options: UciContextOptions = {}) {
    this.fs = fs;
    this.confdir = options.confdir ?? '/etc/config';
    this.savedir = options.savedir ?? '/tmp/.uci';
    this.overridedir = options.overridedir;
    this.deltaPaths = [...(options.deltaPaths ?? [])];
    this.strict = options.strict ?? true;
    this.nameAnonymous = options.nameAnonymous ?? false;
    this.noCommit = options.noCommit ?? false;
    this.onParseError = options.onParseError;
  }

  // ---------------------------------------------------------------- files

  /** The file a config is read from and committed to. */
  configPath(name: string): string {
    if (this.overridedir !== undefined) {
      const override = `${this.overridedir}/${name}`;
      if (this.fs.exists(override)) return override;
    }
    return `${this.confdir}/${name}`;
  }

  /** Config names in the config (and override) dir, sorted; files with a dot are skipped. */
  listConfigs(): string[] {
    const entries = [...this.fs.list(this.confdir)];
    if (this.overridedir !== undefined) entries.push(...this.fs.list(this.overridedir));
    const visible = entries.filter((e) => !e.name.startsWith('.'));
    // glob() matching nothing is an error in libuci.
    if (visible.length === 0) throw uciNotFound(`${this.confdir}/*`);
    const names = new Set<string>();
    for (const e of visible) {
      if (e.kind === 'directory' || e.name.includes('.') || !validatePackage(e.name)) continue;
      names.add(e.name);
    }
    return [...names].sort();
  }

  private readOptional(path: string): string | undefined {
    try {
      const st = this.fs.stat(path);
      if (!st || st.kind === 'directory' || st.kind === 'other') return undefined;
      return this.fs.tryReadText(path);
    } catch (e) {
      if (isUciError(e)) return undefined;
      throw e;
    }
  }

  // ---------------------------------------------------------------- loading

  /**
   * Loads a config afresh: the file, then (unless `delta: false`) its staged changes.
   * Missing config: WRTKIT_ERR_UCI_NOT_FOUND; syntax error in strict mode: UciParseError.
   */
  load(name: string, options: { delta?: boolean } = {}): UciPackage {
    return this.loadFile(name, options.delta ?? true);
  }

  /**
   * The config as committed (no staged changes), or undefined when the file does not
   * exist. A syntax error throws (UciParseError in strict mode).
   */
  loadCommitted(name: string): UciPackage | undefined {
    try {
      return this.loadFile(name, false);
    } catch (e) {
      if (e instanceof WrtkitError && e.code === ErrorCodes.UCI_NOT_FOUND) return undefined;
      throw e;
    }
  }

  private loadFile(name: string, withDelta: boolean): UciPackage {
    let path: string;
    let pkgName: string;
    let hasDelta: boolean;
    if (name.startsWith('.') || name.startsWith('/')) {
      // A path outside the config dir: changes go straight to that file.
      if (name.startsWith('.') && name[1] !== '/') throw uciNotFound(name);
      path = name;
      pkgName = name.slice(name.lastIndexOf('/') + 1);
      hasDelta = false;
    } else {
      // libuci would follow `a/../../x` out of the config dir; a config name is one file name.
      if (name.includes('/')) throw uciInvalid(`invalid UCI config name ${JSON.stringify(name)}`, name);
      path = this.configPath(name);
      pkgName = name;
      hasDelta = true;
    }
    if (!validatePackage(pkgName)) throw uciInvalid(`invalid UCI config name ${JSON.stringify(name)}`, name);
    this.loadCount++;
    const text = this.readOptional(path);
    if (text === undefined) throw uciNotFound(name);
    const pkg = this.parseFile(text, pkgName);
    const state: PackageState = { path, hasDelta, pending: [], saved: [] };
    this.states.set(pkg, state);
    if (hasDelta && withDelta) this.applyStaged(pkg, state);
    return pkg;
  }

  private parseFile(text: string, name: string): UciPackage {
    const options: Parameters<typeof parseUciStream>[1] = { name, strict: this.strict };
    if (this.onParseError) options.onError = this.onParseError;
    const result = parseUciStream(text, options);
    return result.current as UciPackage;
  }

  /** Applies the change files (delta paths, then the save dir); returns how many of the save dir's applied. */
  private applyStaged(pkg: UciPackage, state: PackageState): { applied: number; savefile: string | undefined } {
    state.saved = [];
    for (const dir of this.deltaPaths) {
      const text = this.readOptional(`${dir}/${pkg.name}`);
      if (text === undefined) continue;
      this.loadCount++;
      state.saved.push(...applyDeltaFile(pkg, text).entries);
    }
    const savefile = this.readOptional(`${this.savedir}/${pkg.name}`);
    if (savefile === undefined) return { applied: 0, savefile };
    this.loadCount++;
    const r = applyDeltaFile(pkg, savefile);
    state.saved.push(...r.entries);
    return { applied: r.applied, savefile };
  }

  /** The package as kept loaded in this context (loaded with its changes on first use). */
  loaded(name: string): UciPackage {
    const have = this.root.get(name);
    if (have) return have;
    const pkg = this.loadFile(name, true);
    this.root.set(name, pkg);
    return pkg;
  }

  unload(pkg: UciPackage | string): void {
    if (typeof pkg === 'string') {
      this.root.delete(pkg);
      return;
    }
    for (const [key, value] of this.root) if (value === pkg) this.root.delete(key);
  }

  unloadAll(): void {
    this.root.clear();
  }

  private stateOf(pkg: UciPackage): PackageState {
    let st = this.states.get(pkg);
    if (!st) {
      // A package made elsewhere (import, or built by hand): written straight to its file.
      st = { path: this.configPath(pkg.name), hasDelta: false, pending: [], saved: [] };
      this.states.set(pkg, st);
    }
    return st;
  }

  // ---------------------------------------------------------------- low level

  /**
   * uci_lookup_ptr: parses `config[.section[.option]][=value]` (a `value` argument
   * replaces the `=value` part), loads the config and resolves what exists.
   */
  lookup(path: string, options: { extended?: boolean; value?: string; allowValue?: boolean } = {}): UciPtr {
    const parsed = parseUciPath(path, { allowValue: options.allowValue ?? options.value === undefined });
    if (options.value !== undefined) parsed.value = options.value;
    const pkg = this.loaded(parsed.package);
    return resolvePath(pkg, parsed, options.extended ?? true);
  }

  /** Records changes to this package until savePackage stages (or, outside the config dir, writes) them. */
  recorder(pkg: UciPackage): UciRecorder {
    const st = this.stateOf(pkg);
    return (d) => st.pending.push(d);
  }

  /** The staged changes found when the package was loaded. */
  changesOf(pkg: UciPackage): UciDelta[] {
    return [...this.stateOf(pkg).saved];
  }

  /** uci_save: appends the changes made since load to the save dir. */
  savePackage(pkg: UciPackage): void {
    const st = this.stateOf(pkg);
    if (!st.hasDelta) {
      this.writeConfig(st.path, pkg);
      st.pending = [];
      return;
    }
    if (st.pending.length === 0) return;
    this.fs.mkdirp(this.savedir);
    this.fs.appendText(`${this.savedir}/${pkg.name}`, formatDelta(pkg.name, st.pending));
    st.pending = [];
  }

  private writeConfig(path: string, pkg: UciPackage): void {
    this.fs.writeAtomic(path, exportUci(pkg, { mode: 'commit', nameAnonymous: this.nameAnonymous }));
  }

  /**
   * uci_commit: stages pending changes, then re-reads the config file, replays the
   * staged changes on it and writes it; the save dir's change file is emptied. Nothing is
   * written when no staged change applied. `overwrite` writes the package as it is.
   */
  commitPackage(pkg: UciPackage, overwrite = false): UciPackage {
    const st = this.stateOf(pkg);
    if (overwrite || !st.hasDelta) {
      this.writeConfig(st.path, pkg);
      return pkg;
    }
    this.savePackage(pkg);
    this.loadCount++;
    const text = this.readOptional(st.path);
    if (text === undefined) throw uciNotFound(pkg.name);
    const fresh = this.parseFile(text, pkg.name);
    const freshState: PackageState = { path: st.path, hasDelta: true, pending: [], saved: [] };
    this.states.set(fresh, freshState);
    for (const [key, value] of this.root) if (value === pkg) this.root.set(key, fresh);
    const { applied, savefile } = this.applyStaged(fresh, freshState);
    if (applied === 0) return fresh;
    this.writeConfig(st.path, fresh);
    if (savefile !== undefined) this.fs.writeAtomic(`${this.savedir}/${pkg.name}`, '');
    return fresh;
  }

  /**
   * uci_revert: drops the staged changes of a config, section or option (matching the
   * section's real name) from the save dir.
   */
  revertPtr(ptr: UciPtr): void {
    const st = this.stateOf(ptr.p);
    if (!st.hasDelta) throw uciInvalid(`${ptr.package} is not in the config dir`, ptr.package);
    this.savePackage(ptr.p);
    const file = `${this.savedir}/${ptr.p.name}`;
    const text = this.readOptional(file);
    this.unload(ptr.p);
    if (text === undefined) return;
    const keep = readDeltaFile(text).filter((entry) => {
      if (ptr.section === undefined) return false;
      const d = entry.parsed?.delta;
      if (!d || d.section !== ptr.section) return true;
      return ptr.option !== undefined && d.option !== ptr.option;
    });
    this.fs.writeAtomic(file, keep.map((e) => `${e.raw}\n`).join(''));
  }

  /** uci import: parses configs from text; merged into the existing one (staged) or written whole. */
  importText(text: string, options: { name?: string; merge?: boolean } = {}): UciPackage[] {
    let target: UciPackage | undefined;
    if (options.merge && options.name !== undefined) {
      try {
        target = this.loaded(options.name);
      } catch (e) {
        if (!isUciError(e)) throw e;
      }
    }
    const parseOptions: Parameters<typeof parseUciStream>[1] = { strict: this.strict };
    if (options.name !== undefined) parseOptions.name = options.name;
    if (this.onParseError) parseOptions.onError = this.onParseError;
    if (target) {
      parseOptions.merge = target;
      parseOptions.record = this.recorder(target);
    }
    const result = parseUciStream(text, parseOptions);
    if (target) {
      this.savePackage(target);
      return [target];
    }
    for (const p of result.packages) this.commitPackage(p, true);
    return result.packages;
  }

  // ---------------------------------------------------------------- high level

  private session<T>(fn: () => T): T {
    try {
      return fn();
    } finally {
      this.unloadAll();
    }
  }

  private edit(path: string, value: string | undefined, op: (ptr: UciPtr, record: UciRecorder) => void): void {
    this.session(() => {
      const ptr = value === undefined ? this.lookup(path, { allowValue: false }) : this.lookup(path, { value });
      op(ptr, this.recorder(ptr.p));
      this.savePackage(ptr.p);
    });
  }

  /** An option's value, a section's type, or undefined when missing (config missing: throws). */
  get(path: string): UciValue | undefined {
    return this.session(() => {
      const ptr = this.lookup(path, { allowValue: false });
      if (!ptr.complete || !ptr.s) return undefined;
      if (ptr.option === undefined) return ptr.s.type;
      return ptr.s.get(ptr.option);
    });
  }

  /** uci set: an option's value, or a section (created when missing) with that type. '' deletes. */
  set(path: string, value: string): void {
    this.edit(path, value, uciSet);
  }

  /** uci add: a new anonymous section; returns its generated name. */
  add(config: string, type: string): string {
    return this.session(() => {
      const pkg = this.loaded(config);
      const s = uciAddSection(pkg, type, this.recorder(pkg));
      this.savePackage(pkg);
      return s.name;
    });
  }

  addList(path: string, value: string): void {
    this.edit(path, value, uciAddList);
  }

  delList(path: string, value: string): void {
    this.edit(path, value, uciDelList);
  }

  /** uci delete: a section, an option, or (with index) one item of a list. */
  delete(path: string, index?: number): void {
    this.edit(path, index === undefined ? undefined : String(index), (ptr, record) => {
      uciDelete(ptr, record);
    });
  }

  /** uci rename: a section or an option gets a new name. */
  rename(path: string, name: string): void {
    this.edit(path, name, uciRename);
  }

  /** uci reorder: moves a section to a position (0 = first). */
  reorder(path: string, position: number): void {
    this.session(() => {
      const ptr = this.lookup(path, { allowValue: false });
      if (!ptr.s) throw uciNotFound(path);
      uciReorder(ptr.p, ptr.s, Math.trunc(position), this.recorder(ptr.p));
      this.savePackage(ptr.p);
    });
  }

  /** uci revert: forgets staged changes of a config, section or option. */
  revert(path: string): void {
    this.session(() => this.revertPtr(this.lookup(path, { allowValue: false })));
  }

  /** The staged changes of one config, or of every config. */
  changes(config?: string): Array<{ config: string; changes: UciDelta[] }> {
    return this.session(() =>
      (config === undefined ? this.listConfigs() : [config]).map((name) => ({
        config: name,
        changes: this.changesOf(this.loaded(name)),
      })),
    );
  }

  /** uci commit: one config, or every config. */
  commit(config?: string): void {
    if (this.noCommit) return;
    this.session(() => {
      for (const name of config === undefined ? this.listConfigs() : [config]) this.commitPackage(this.loaded(name));
    });
  }

  /** uci import (-m with merge). Returns the names of the configs written or merged into. */
  import(text: string, options: { name?: string; merge?: boolean } = {}): string[] {
    return this.session(() => this.importText(text, options).map((p) => p.name));
  }

  /**
   * Stages a list of changes (from diffPackages) on a config in one go: all apply to the
   * loaded config or none is staged.
   */
  applyChanges(config: string, changes: readonly UciDelta[]): void {
    this.session(() => {
      const pkg = this.loaded(config);
      const staged: UciDelta[] = [];
      for (const d of changes) applyDelta(pkg, d, (x) => staged.push(x));
      const st = this.stateOf(pkg);
      st.pending.push(...staged);
      this.savePackage(pkg);
    });
  }

  /** A section by path, for callers that want the object (`config.section` or `config.@type[n]`). */
  section(path: string): UciSection | undefined {
    return this.session(() => {
      const ptr = this.lookup(path, { allowValue: false });
      return ptr.s?.clone();
    });
  }
}
