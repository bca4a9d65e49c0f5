import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import type { Platform } from '../../src/platform/platform.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { UciContext, UciParseError, diffPackages, type UciContextOptions } from '../../src/uci/index.js';

let platform: Platform;
let tmp: string;
let n = 0;
let confdir: string;
let savedir: string;

beforeAll(async () => {
  platform = await createNodePlatform([]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-uci-ctx-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  const root = path.join(tmp, String(n++));
  confdir = path.join(root, 'conf');
  savedir = path.join(root, 'save');
  fs.mkdirSync(confdir, { recursive: true });
});

const write = (name: string, text: string, dir = confdir): void => fs.writeFileSync(path.join(dir, name), text);
const read = (name: string, dir = confdir): string | undefined =>
  fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name), 'utf8') : undefined;
const context = (options: UciContextOptions = {}): UciContext => new UciContext(platform.fs, { confdir, savedir, ...options });

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

const NETWORK = "config interface 'lan'\n\toption proto 'static'\n\tlist dns '1.1.1.1'\n\nconfig rule\n\toption name 'x'\n";

describe('UciContext', () => {
  it('loads with or without the staged changes', () => {
    write('network', NETWORK);
    const ctx = context();
    ctx.set('network.lan.proto', 'dhcp');
    expect(read('network', savedir)).toBe("network.lan.proto='dhcp'\n");
    expect(ctx.load('network').section('lan')?.get('proto')).toBe('dhcp');
    expect(ctx.load('network', { delta: false }).section('lan')?.get('proto')).toBe('static');
    expect(ctx.loadCommitted('network')?.section('lan')?.get('proto')).toBe('static');
    expect(ctx.loadCommitted('missing')).toBeUndefined();
    expect(codeOf(() => ctx.load('missing'))).toBe(ErrorCodes.UCI_NOT_FOUND);
  });

  it('edits, stages, shows changes, reverts and commits like uci', () => {
    write('network', NETWORK);
    const ctx = context();
    expect(ctx.get('network.lan')).toBe('interface');
    expect(ctx.get('network.@rule[0].name')).toBe('x');
    expect(ctx.get('network.lan.dns')).toEqual(['1.1.1.1']);
    expect(ctx.get('network.lan.nope')).toBeUndefined();
    expect(ctx.get('network.nope')).toBeUndefined();
    const name = ctx.add('network', 'route');
    expect(name).toBe('cfg03c8b4');
    ctx.set(`network.${name}.target`, '10.0.0.0/8');
    ctx.addList('network.lan.dns', '9.9.9.9');
    ctx.addList('network.lan.dns', '8.8.8.8');
    ctx.delList('network.lan.dns', '1.1.1.1');
    ctx.delete('network.lan.dns', 1);
    ctx.rename('network.@rule[0]', 'ping');
    ctx.reorder('network.ping', 0);
    ctx.set('network.lan.proto', 'dhcp');
    ctx.revert('network.lan.proto');
    expect(ctx.changes('network')[0]?.changes.length).toBe(8);
    expect(read('network', savedir)).toBe(
      [
        "+network.cfg03c8b4='route'",
        "network.cfg03c8b4.target='10.0.0.0/8'",
        "|network.lan.dns='9.9.9.9'",
        "|network.lan.dns='8.8.8.8'",
        "~network.lan.dns='1.1.1.1'",
        "-network.lan.dns='1'",
        "@network.cfg0292bd='ping'",
        "^network.ping='0'",
        '',
      ].join('\n'),
    );
    ctx.commit('network');
    expect(read('network')).toBe(
      "\nconfig rule 'ping'\n\toption name 'x'\n\nconfig interface 'lan'\n\toption proto 'static'\n\tlist dns '9.9.9.9'\n\nconfig route\n\toption target '10.0.0.0/8'\n\n",
    );
    expect(read('network', savedir)).toBe('');
    expect(ctx.changes()).toEqual([{ config: 'network', changes: [] }]);
  });

  it('reports coded errors', () => {
    write('network', NETWORK);
    write('broken', "config x 'y'\n\toption a 'b\n");
    const ctx = context();
    expect(codeOf(() => ctx.get('missing.a.b'))).toBe(ErrorCodes.UCI_NOT_FOUND);
    expect(codeOf(() => ctx.get('network.a.bad-option'))).toBe(ErrorCodes.UCI_PARSE);
    expect(codeOf(() => ctx.get('network.@rule[x]'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    expect(codeOf(() => ctx.delete('network.nope'))).toBe(ErrorCodes.UCI_NOT_FOUND);
    expect(codeOf(() => ctx.set('network.nope.opt', 'v'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    expect(codeOf(() => ctx.set('network.lan', 'bad type'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    expect(codeOf(() => ctx.rename('network.lan', 'bad-name'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    expect(codeOf(() => ctx.add('network', 'a b'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    // A config name never leads out of the config dir.
    expect(codeOf(() => ctx.load('x/../../network'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    expect(codeOf(() => ctx.load('../network'))).toBe(ErrorCodes.UCI_NOT_FOUND);
    let error: unknown;
    try {
      ctx.load('broken');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UciParseError);
    expect((error as UciParseError).details).toEqual({ reason: "EOF with unterminated '", line: 2, byte: 13, uciErr: 5 });
    expect(read('network', savedir)).toBeUndefined();
  });

  it('reads what it can of a broken file when not strict', () => {
    write('broken', "config x 'y'\n\toption a 'b'\nbogus\n\toption c 'd'\n");
    const errors: string[] = [];
    const ctx = context({ strict: false, onParseError: (e) => errors.push(e.message) });
    expect(ctx.load('broken').section('y')?.options()).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(errors).toEqual(['Parse error (invalid command) at line 3, byte 0']);
  });

  it('commits nothing when nothing is staged, everything with commit()', () => {
    write('a', "config t 'x'\n");
    write('b', "config t 'y'\n");
    const ctx = context();
    ctx.commit();
    expect(read('a')).toBe("config t 'x'\n");
    ctx.set('b.y.o', 'v');
    ctx.commit();
    expect(read('a')).toBe("config t 'x'\n");
    expect(read('b')).toBe("\nconfig t 'y'\n\toption o 'v'\n\n");
  });

  it('uses the override dir when the config is there', () => {
    const override = path.join(tmp, `override-${n}`);
    fs.mkdirSync(override);
    write('system', "config system\n\toption hostname 'base'\n");
    write('system', "config system\n\toption hostname 'override'\n", override);
    const ctx = context({ overridedir: override });
    expect(ctx.get('system.@system[0].hostname')).toBe('override');
    ctx.set('system.@system[0].hostname', 'new');
    ctx.commit('system');
    expect(read('system', override)).toBe("\nconfig system\n\toption hostname 'new'\n\n");
    expect(read('system')).toBe("config system\n\toption hostname 'base'\n");
  });

  it('applies extra change dirs without flushing them; noCommit commits nothing', () => {
    const extra = path.join(tmp, `extra-${n}`);
    fs.mkdirSync(extra);
    write('x', "config t 's'\n");
    write('x', "x.s.a='1'\n", extra);
    const ctx = context({ deltaPaths: [extra] });
    expect(ctx.get('x.s.a')).toBe('1');
    ctx.set('x.s.b', '2');
    ctx.commit('x');
    expect(read('x')).toBe("\nconfig t 's'\n\toption a '1'\n\toption b '2'\n\n");
    expect(read('x', extra)).toBe("x.s.a='1'\n");
    const frozen = context({ noCommit: true });
    frozen.set('x.s.c', '3');
    frozen.commit('x');
    expect(read('x')).not.toContain("'3'");
  });

  it('writes configs outside the config dir straight away', () => {
    const file = path.join(tmp, `outside-${n}`);
    fs.writeFileSync(file, "config t 's'\n");
    const ctx = context();
    const p = ctx.loaded(file);
    expect(p.name).toBe(path.basename(file));
    ctx.set(`${file}.s.o`, 'v');
    expect(fs.readFileSync(file, 'utf8')).toBe("\nconfig t 's'\n\toption o 'v'\n\n");
    expect(fs.existsSync(savedir)).toBe(false);
  });

  it('imports whole configs or merges into one', () => {
    write('base', "config t 'a'\n\toption o '1'\n");
    const ctx = context();
    expect(ctx.import('package one\nconfig t x\npackage two\nconfig u\n')).toEqual(['one', 'two']);
    expect(read('one')).toBe("\nconfig t 'x'\n\n");
    expect(read('two')).toBe('\nconfig u\n\n');
    ctx.import("config t 'a'\n\toption p '2'\nconfig t\n", { name: 'base', merge: true });
    expect(read('base', savedir)).toBe("base.a.p='2'\n+base.cfg02b619='t'\n");
  });

  it('stages a diff in one go, or nothing when a change does not apply', () => {
    write('wireless', "config wifi-iface 'ap'\n\toption ssid 'old'\n");
    const ctx = context();
    const base = ctx.loadCommitted('wireless');
    if (!base) throw new Error('no base');
    const desired = base.clone();
    desired.section('ap')?.set('ssid', 'new');
    ctx.applyChanges('wireless', diffPackages(base, desired));
    expect(read('wireless', savedir)).toBe("wireless.ap.ssid='new'\n");
    expect(
      codeOf(() =>
        ctx.applyChanges('wireless', [
          { cmd: 'change', section: 'ap', option: 'mode', value: 'ap' },
          { cmd: 'remove', section: 'nope' },
        ]),
      ),
    ).toBe(ErrorCodes.UCI_NOT_FOUND);
    expect(read('wireless', savedir)).toBe("wireless.ap.ssid='new'\n");
  });

  it('lists configs as uci does (no dotted names, none is an error)', () => {
    const ctx = context();
    expect(codeOf(() => ctx.listConfigs())).toBe(ErrorCodes.UCI_NOT_FOUND);
    write('b', '');
    write('a', '');
    write('c.bak', '');
    write('.hidden', '');
    fs.mkdirSync(path.join(confdir, 'dir'));
    expect(ctx.listConfigs()).toEqual(['a', 'b']);
  });
});
