import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { cScanInt, cStrtolInt, cStrtoulInt } from '../../src/uci/cnum.js';
import {
  UciPackage,
  anonymousSectionName,
  djbHash,
  exportUci,
  validateName,
  validatePackage,
  validateType,
} from '../../src/uci/index.js';
import { utf8Decode, utf8Encode } from '../../src/uci/names.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('names', () => {
  it('generates libuci names: counter of all sections, hash of the type', () => {
    const p = new UciPackage('firewall');
    expect(p.addSection('defaults').name).toBe('cfg01e63d');
    expect(p.addSection('rule').name).toBe('cfg0292bd');
    expect(p.addSection('zone', 'lan').name).toBe('lan');
    expect(p.addSection('rule').name).toBe('cfg0492bd');
    expect(p.sectionCount).toBe(4);
    p.removeSection('cfg0292bd');
    // The counter never goes back: names stay unique.
    expect(p.addSection('rule').name).toBe('cfg0592bd');
  });

  it('hashes UTF-8 bytes as signed chars, like C on x86', () => {
    expect(anonymousSectionName(1, 'Grüße')).toBe('cfg015e84');
    expect(anonymousSectionName(1, '日本')).toBe('cfg017535');
    expect(
      anonymousSectionName(2, 'rule', [
        ['name', 'Allow-DHCP'],
        ['list', ['x']],
      ]),
    ).toBe('cfg0231c5');
    expect(anonymousSectionName(300, 'rule')).toBe('cfg12c92bd');
    expect(djbHash(undefined, '')).toBe(5381);
  });

  it('validates names, types and config names as libuci does', () => {
    expect(validateName('lan_1')).toBe(true);
    expect(validateName('bad-name')).toBe(false);
    expect(validateName('')).toBe(false);
    expect(validateName('grüße')).toBe(false);
    expect(validateType('wifi-iface')).toBe(true);
    expect(validateType('a b')).toBe(false);
    expect(validateType('tÿpe')).toBe(false);
    expect(validatePackage('my-config')).toBe(true);
    expect(validatePackage('/tmp/file')).toBe(true);
    expect(validatePackage('')).toBe(false);
  });

  it('encodes and decodes UTF-8 without TextEncoder', () => {
    for (const s of ['', 'abc', 'Grüße – 日本', '😀x', '\u0080\u07ff\u0800\uffff']) {
      expect(Array.from(utf8Encode(s))).toEqual(Array.from(Buffer.from(s, 'utf8')));
      expect(utf8Decode(utf8Encode(s))).toBe(s);
    }
    expect(utf8Decode([0xff, 0x41])).toBe('\ufffdA');
    expect(Array.from(utf8Encode('\ud800'))).toEqual([0xef, 0xbf, 0xbd]);
  });
});

describe('C number conversions', () => {
  it('strtol into int', () => {
    expect(cStrtolInt('')).toEqual({ value: 0, end: 0 });
    expect(cStrtolInt(' -2')).toEqual({ value: -2, end: 3 });
    expect(cStrtolInt('+7x')).toEqual({ value: 7, end: 2 });
    expect(cStrtolInt('4294967297').value).toBe(1);
    expect(cStrtolInt('99999999999999999999').value).toBe(-1);
  });

  it('strtoul passed as int, sscanf %d', () => {
    expect(cStrtoulInt('3')).toBe(3);
    expect(cStrtoulInt('-1')).toBe(-1);
    expect(cStrtoulInt('abc')).toBe(0);
    expect(cScanInt('12abc')).toEqual({ count: 1, value: 12 });
    expect(cScanInt('two words').count).toBe(0);
    expect(cScanInt('   ').count).toBe(-1);
  });
});

describe('UciPackage and UciSection', () => {
  it('keeps option order; updates stay in place', () => {
    const p = new UciPackage('network');
    const lan = p.addSection('interface', 'lan');
    lan.set('proto', 'static');
    lan.set('ipaddr', ['192.168.1.1/24']);
    lan.set('device', 'br-lan');
    lan.set('proto', 'dhcp');
    expect(lan.options()).toEqual([
      ['proto', 'dhcp'],
      ['ipaddr', ['192.168.1.1/24']],
      ['device', 'br-lan'],
    ]);
    expect(lan.get('missing')).toBeUndefined();
    expect(lan.delete('ipaddr')).toBe(true);
    expect(lan.delete('ipaddr')).toBe(false);
    lan.renameOption('device', 'ifname');
    expect(lan.options().map(([n]) => n)).toEqual(['proto', 'ifname']);
  });

  it('hands out copies of lists', () => {
    const s = new UciPackage('x').addSection('t', 's');
    const items = ['a'];
    s.set('l', items);
    items.push('b');
    (s.get('l') as string[]).push('c');
    expect(s.get('l')).toEqual(['a']);
    (s.options()[0]?.[1] as string[]).push('d');
    expect(s.get('l')).toEqual(['a']);
  });

  it('finds sections by name and type, moves, renames and removes them', () => {
    const p = new UciPackage('firewall');
    p.addSection('defaults');
    const zone = p.addSection('zone', 'lan');
    p.addSection('rule');
    p.addSection('rule', 'named_rule');
    expect(p.section('lan')).toBe(zone);
    expect(p.ofType('rule').map((s) => s.name)).toEqual(['cfg0392bd', 'named_rule']);
    p.moveSection('named_rule', 0);
    p.moveSection('cfg01e63d', 99);
    expect(p.sections.map((s) => s.name)).toEqual(['named_rule', 'lan', 'cfg0392bd', 'cfg01e63d']);
    p.moveSection('cfg01e63d', -5);
    expect(p.sections[0]?.name).toBe('cfg01e63d');
    p.renameSection('cfg0392bd', 'ping');
    expect(p.section('ping')?.anonymous).toBe(false);
    expect(p.removeSection('lan')).toBe(true);
    expect(p.removeSection('lan')).toBe(false);
    expect(p.sections.map((s) => s.name)).toEqual(['cfg01e63d', 'named_rule', 'ping']);
  });

  it('rejects invalid names, types and duplicates with coded errors', () => {
    const p = new UciPackage('x');
    p.addSection('t', 'a');
    expect(code(() => p.addSection('t', 'a'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    expect(code(() => p.addSection('t', 'bad-name'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    expect(code(() => p.addSection('bad type'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    expect(code(() => p.section('a')?.set('bad.opt', 'v'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    p.addSection('t', 'b');
    expect(code(() => p.renameSection('b', 'a'))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
    expect(code(() => p.moveSection('nope', 0))).toBe(ErrorCodes.UCI_INVALID_ARGUMENT);
  });

  it('clones deeply', () => {
    const p = new UciPackage('x');
    p.addSection('t', 'a').set('l', ['1']);
    const c = p.clone();
    c.section('a')?.set('l', ['2']);
    c.addSection('t');
    expect(p.section('a')?.get('l')).toEqual(['1']);
    expect(p.sections).toHaveLength(1);
    expect(c.sectionCount).toBe(2);
  });

  it('exports like uci export and uci commit', () => {
    const p = new UciPackage('demo');
    const a = p.addSection('rule');
    a.set('name', "it's");
    a.set('list', ['', 'two words']);
    p.addSection('zone', 'lan');
    expect(exportUci(p)).toBe(
      "package demo\n\nconfig rule\n\toption name 'it'\\''s'\n\tlist list ''\n\tlist list 'two words'\n\nconfig zone 'lan'\n\n",
    );
    expect(exportUci(p, { mode: 'commit', nameAnonymous: true })).toBe(
      "\nconfig rule 'cfg0192bd'\n\toption name 'it'\\''s'\n\tlist list ''\n\tlist list 'two words'\n\nconfig zone 'lan'\n\n",
    );
    expect(exportUci(new UciPackage('empty'), { mode: 'commit' })).toBe('\n');
  });
});
