import { describe, expect, it } from 'vitest';
import { ErrorCodes, WrtkitError } from '../../src/errors.js';
import {
  UciPackage,
  UciParseError,
  applyChanges,
  diffPackages,
  formatChange,
  formatDeltaLine,
  parseDeltaArgument,
  parseUci,
  parseUciPath,
  parseUciStream,
  readDeltaFile,
  type UciDelta,
} from '../../src/uci/index.js';

function parse(text: string, strict = true): UciPackage {
  return parseUci(text, { name: 'test', strict }).package;
}

function parseError(text: string): UciParseError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof UciParseError) return e;
    throw e;
  }
  throw new Error('no parse error');
}

describe('parseUci', () => {
  it('reads keywords, their one-letter forms and several commands per line', () => {
    const p = parse("package other\nc t 'a'\n\to x 1\n\tl y '2'; l y '3'\n\tl y 4; l y 5\nconfig t 'b'; option z '4'\n");
    expect(p.name).toBe('test');
    // As in libuci, an unquoted word ending in `;` ends the line: `l y 5` is lost.
    expect(p.section('a')?.options()).toEqual([
      ['x', '1'],
      ['y', ['2', '3', '4']],
    ]);
    expect(p.section('b')?.get('z')).toBe('4');
  });

  it('joins a line ending in a backslash with the next one', () => {
    const p = parse('config t s\n\toption a foo\\\nbar\n\toption b "x\\\ny"\n\toption c \'p\\\nq\'\n');
    expect(p.section('s')?.get('a')).toBe('foobar');
    expect(p.section('s')?.get('b')).toBe('xy');
    // Single quotes keep everything.
    expect(p.section('s')?.get('c')).toBe('p\\\nq');
  });

  it('keeps an option in place when it turns into a list or back', () => {
    const p = parse("config t s\n\toption a 1\n\toption b 2\n\tlist a 3\n\tlist b 4\n\toption b 5\n\toption a ''\n");
    // `option a ''` while parsing changes nothing.
    expect(p.section('s')?.options()).toEqual([
      ['a', ['1', '3']],
      ['b', '5'],
    ]);
  });

  it('positions errors like libuci: lines read, bytes into the line buffer', () => {
    const e = parseError("config x 'ok'\n\toption a 'fine'\n\nconfig x 'broken'\n\toption b 'unterminated\n\toption c 'after'\n");
    expect(e).toBeInstanceOf(WrtkitError);
    expect(e.code).toBe(ErrorCodes.UCI_PARSE);
    expect(e.message).toBe("Parse error (EOF with unterminated ') at line 6, byte 42");
    expect(e.details).toMatchObject({ line: 6, byte: 42, reason: "EOF with unterminated '" });
    // A last line without newline is not counted.
    expect(parseError("config x\n\toption a 'b").message).toBe("Parse error (EOF with unterminated ') at line 1, byte 12");
    expect(parseError('config x y\n\toption a "b').reason).toBe('EOF with unterminated "');
    expect(parseError('config t a b\n').reason).toBe('too many arguments');
    expect(parseError('config\n').reason).toBe('invalid command');
    expect(parseError('config t\n\toption\n').reason).toBe('invalid command');
    expect(parseError('config t\n\toption "" x\n').reason).toBe('insufficient arguments');
    expect(parseError('config "t x"\n').reason).toBe('invalid character in type field');
    expect(parseError('package a.b\n').reason).toBe('invalid character in name field');
  });

  it('goes on after errors in non-strict mode, collecting them', () => {
    const seen: string[] = [];
    const { package: p, errors } = parseUci("config t 'a' extra\nbogus\noption x y\n\toption b '1'\nconfig u 'a'\n", {
      name: 'n',
      strict: false,
      onError: (e) => seen.push(e.reason),
    });
    expect(errors.map((e) => e.reason)).toEqual(['invalid command']);
    expect(seen).toEqual(['invalid command']);
    // The later type wins when not strict.
    expect(p.section('a')?.type).toBe('u');
    expect(p.section('a')?.options()).toEqual([
      ['x', 'y'],
      ['b', '1'],
    ]);
  });

  it('needs a name or a package line', () => {
    expect(parseUci('package named\nconfig t a\n').package.name).toBe('named');
    expect(() => parseUci('config t a\n')).toThrow(/without a package name/);
    expect(parseUci('', { name: 'empty' }).package.sections).toEqual([]);
  });

  it('reads several packages from one stream', () => {
    const r = parseUciStream('package a\nconfig t x\npackage b\nconfig t y\n');
    expect(r.packages.map((p) => [p.name, p.sections.map((s) => s.name)])).toEqual([
      ['a', ['x']],
      ['b', ['y']],
    ]);
    expect(() => parseUciStream('package a\npackage a\n')).toThrow(/duplicate/);
  });
});

describe('UCI paths', () => {
  it('splits config.section.option=value', () => {
    expect(parseUciPath('a.b.c=x=y.z')).toEqual({ package: 'a', section: 'b', option: 'c', value: 'x=y.z', extended: false });
    expect(parseUciPath('a.@t[-1]')).toEqual({ package: 'a', section: '@t[-1]', extended: true });
    expect(parseUciPath('a.b=c', { allowValue: false }).value).toBeUndefined();
    for (const bad of ['', 'a.b.c.d', 'a.b.bad-opt', 'a.b.']) {
      expect(() => parseUciPath(bad)).toThrow(expect.objectContaining({ code: ErrorCodes.UCI_PARSE }));
    }
  });
});

describe('delta entries', () => {
  const all: UciDelta[] = [
    { cmd: 'add', section: 'cfg038bba', value: 'led' },
    { cmd: 'change', section: 's', option: 'o', value: "it's\nmulti" },
    { cmd: 'remove', section: 's', option: 'o' },
    { cmd: 'remove', section: 's', option: 'l', value: '1' },
    { cmd: 'rename', section: 's', value: 'n' },
    { cmd: 'reorder', section: 's', value: '0' },
    { cmd: 'list-add', section: 's', option: 'l', value: '' },
    { cmd: 'list-del', section: 's', option: 'l', value: 'x y' },
  ];

  it('are written as uci writes its change files and read back', () => {
    const lines = all.map((d) => formatDeltaLine('p', d));
    expect(lines).toEqual([
      "+p.cfg038bba='led'",
      "p.s.o='it'\\''s\nmulti'",
      '-p.s.o',
      "-p.s.l='1'",
      "@p.s='n'",
      "^p.s='0'",
      "|p.s.l=''",
      "~p.s.l='x y'",
    ]);
    const read = readDeltaFile(lines.map((l) => `${l}\n`).join(''));
    expect(read.map((e) => e.parsed?.delta)).toEqual(all);
    expect(read[1]?.raw).toBe("p.s.o='it'\\''s\nmulti'");
  });

  it('are shown as uci changes shows them', () => {
    expect(all.map((d) => formatChange('p', d))).toEqual([
      "p.cfg038bba='led'",
      "p.s.o='it'\\''s\nmulti'",
      '-p.s.o',
      '-p.s.l',
      "p.s='n'",
      "p.s='0'",
      "p.s.l+=''",
      "p.s.l-='x y'",
    ]);
  });

  it('keep the text of entries spanning lines', () => {
    const read = readDeltaFile("p.s.a='x\ny'\np.s.b='1'\np.s.c='last\nline'");
    expect(read.map((e) => e.raw)).toEqual(["p.s.a='x\ny'", "p.s.b='1'", "p.s.c='last\nline'"]);
    expect(read.map((e) => e.parsed?.delta.value)).toEqual(['x\ny', '1', 'last\nline']);
  });

  it('skip malformed lines', () => {
    const read = readDeltaFile("p.s.o='v' \n^p.s.o='1'\n@p.s='bad-name'\n|p.s='x'\np.@t[0].o='v'\nok.s.o='v'\n");
    expect(read.map((e) => e.parsed === undefined)).toEqual([true, true, true, true, true, false]);
    expect(() => parseDeltaArgument('p')).toThrow();
  });
});

describe('diffPackages', () => {
  it('turns one package into another', () => {
    const a = new UciPackage('wireless');
    const radio = a.addSection('wifi-device', 'radio0');
    radio.set('channel', '1');
    const iface = a.addSection('wifi-iface');
    iface.set('ssid', 'old');
    iface.set('list', ['a', 'b', 'a', 'c']);
    const b = a.clone();
    b.section('radio0')?.set('channel', '11');
    b.section(iface.name)?.set('list', ['b', 'c', 'd']);
    b.addSection('wifi-iface').set('ssid', 'guest');
    b.moveSection('radio0', 2);
    const changes = diffPackages(a, b);
    // In b's section order; sections are put in place at the end.
    expect(changes).toEqual([
      { cmd: 'list-del', section: iface.name, option: 'list', value: 'a' },
      { cmd: 'list-add', section: iface.name, option: 'list', value: 'd' },
      { cmd: 'add', section: 'cfg033579', value: 'wifi-iface' },
      { cmd: 'change', section: 'cfg033579', option: 'ssid', value: 'guest' },
      { cmd: 'change', section: 'radio0', option: 'channel', value: '11' },
      { cmd: 'reorder', section: iface.name, value: '0' },
      { cmd: 'reorder', section: 'cfg033579', value: '1' },
    ]);
    const c = a.clone();
    applyChanges(c, changes);
    expect(c.sections.map((s) => [s.name, s.anonymous, s.options()])).toEqual(
      b.sections.map((s) => [s.name, s.anonymous, s.options()]),
    );
  });

  it('finds no change when nothing changed, and rejects duplicate names', () => {
    const a = new UciPackage('x');
    a.addSection('t', 's').set('o', 'v');
    expect(diffPackages(a, a.clone())).toEqual([]);
    const bad = new UciPackage('x');
    bad.allocSection('t', 's');
    bad.allocSection('t', 's');
    expect(() => diffPackages(a, bad)).toThrow(expect.objectContaining({ code: ErrorCodes.UCI_INVALID_ARGUMENT }));
  });
});
