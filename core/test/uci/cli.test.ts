import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform/platform.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { runUciCommand, type UciCliResult } from '../../src/uci/index.js';

// What the fixtures do not cover: options and corners of the uci command line.

let platform: Platform;
let tmp: string;
let n = 0;
let confdir: string;
let savedir: string;

beforeAll(async () => {
  platform = await createNodePlatform([]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-uci-cli-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  const root = path.join(tmp, String(n++));
  confdir = path.join(root, 'conf');
  savedir = path.join(root, 'save');
  fs.mkdirSync(confdir, { recursive: true });
  fs.writeFileSync(
    path.join(confdir, 'net'),
    "config interface 'lan'\n\toption proto 'static'\n\tlist dns '1.1.1.1'\n\tlist dns 'two words'\n\nconfig rule\n\toption name 'x'\n",
  );
});

const uci = (args: string[], stdin?: string): Promise<UciCliResult> =>
  runUciCommand(['-c', confdir, '-t', savedir, ...args], stdin === undefined ? { fs: platform.fs } : { fs: platform.fs, stdin });

const read = (name: string, dir = confdir): string | undefined =>
  fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name), 'utf8') : undefined;

describe('uci command line', () => {
  it('takes options after the command, as GNU getopt does', async () => {
    expect((await uci(['show', '-X', 'net.@rule[0]'])).stdout).toBe("net.cfg0292bd=rule\nnet.cfg0292bd.name='x'\n");
    expect((await uci(['get', 'net.lan.dns', '-d', ','])).stdout).toBe("1.1.1.1,'two words'\n");
    expect((await uci(['--', 'get', 'net.lan.proto'])).stdout).toBe('static\n');
  });

  it('prints usage for a bad option, a missing argument or help, and exits 0', async () => {
    const bad = await uci(['-z', 'show']);
    expect(bad.exitCode).toBe(0);
    expect(bad.stderr).toMatch(/^uci: invalid option -- 'z'\nUsage: uci \[<options>\]/);
    const missing = await runUciCommand(['show', '-c'], { fs: platform.fs });
    expect(missing.stderr).toMatch(/^uci: option requires an argument -- 'c'\nUsage:/);
    const help = await uci(['help']);
    expect(help).toMatchObject({ exitCode: 0, stdout: '' });
    expect(help.stderr).toMatch(/^Usage: uci /);
    const wrong = await uci(['get']);
    expect(wrong.exitCode).toBe(255);
    expect(wrong.stderr).toMatch(/^Usage:/);
    expect((await runUciCommand([], { fs: platform.fs }, { appname: 'myuci' })).stderr).toMatch(/^Usage: myuci /);
  });

  it('is quiet with -q and fails quietly on a value where none is taken', async () => {
    expect(await uci(['-q', 'get', 'net.nope'])).toEqual({ stdout: '', stderr: '', exitCode: 1 });
    expect(await uci(['get', 'net.lan.proto=x'])).toEqual({ stdout: '', stderr: '', exitCode: 1 });
    expect(await uci(['get', 'net.lan'])).toEqual({ stdout: 'interface\n', stderr: '', exitCode: 0 });
  });

  it('exits with libuci error numbers from add', async () => {
    expect(await uci(['add', 'nope', 't'])).toEqual({ stdout: '', stderr: 'uci: Entry not found\n', exitCode: 3 });
    expect(await uci(['add', 'net', 'a b'])).toEqual({ stdout: '', stderr: 'uci: Invalid argument\n', exitCode: 2 });
    expect(await uci(['add', 'net', 'route'])).toEqual({ stdout: 'cfg03c8b4\n', stderr: '', exitCode: 0 });
  });

  it('deletes list items by index and reorders', async () => {
    expect((await uci(['delete', 'net.lan.dns=1'])).exitCode).toBe(0);
    expect((await uci(['delete', 'net.lan.dns=7'])).exitCode).toBe(0);
    expect((await uci(['reorder', 'net.@rule[0]=0'])).exitCode).toBe(0);
    expect((await uci(['reorder', 'net.nope=0'])).stderr).toBe('uci: Entry not found\n');
    expect((await uci(['changes'])).stdout).toBe("-net.lan.dns\nnet.cfg0292bd='0'\n");
    expect(read('net', savedir)).toBe("-net.lan.dns='1'\n^net.cfg0292bd='0'\n");
    expect((await uci(['show', 'net'])).stdout).toBe(
      "net.@rule[0]=rule\nnet.@rule[0].name='x'\nnet.lan=interface\nnet.lan.proto='static'\nnet.lan.dns='1.1.1.1'\n",
    );
    expect((await uci(['revert', 'net'])).exitCode).toBe(0);
    expect(read('net', savedir)).toBe('');
  });

  it('writes generated names with -n, and -P stages elsewhere without committing', async () => {
    const other = path.join(tmp, `other-${n}`);
    expect((await uci(['-P', other, 'set', 'net.lan.proto=dhcp'])).exitCode).toBe(0);
    expect(read('net', other)).toBe("net.lan.proto='dhcp'\n");
    expect((await uci(['-P', other, 'commit', 'net'])).exitCode).toBe(0);
    expect(read('net')).toContain("'static'");
    expect((await uci(['-p', other, 'get', 'net.lan.proto'])).stdout).toBe('dhcp\n');
    await uci(['set', 'net.lan.mtu=1500']);
    expect((await uci(['-n', 'commit', 'net'])).exitCode).toBe(0);
    expect(read('net')).toContain("config rule 'cfg0292bd'");
    expect(read('net')).not.toContain('dhcp');
  });

  it('imports several packages, or merges with -m', async () => {
    const r = await uci(['import'], "package one\nconfig t 'a'\npackage two\nconfig u\n");
    expect(r.exitCode).toBe(0);
    expect(read('one')).toBe("\nconfig t 'a'\n\n");
    expect(read('two')).toBe('\nconfig u\n\n');
    expect((await uci(['-m', 'import'])).exitCode).toBe(255);
    expect((await uci(['-m', 'import', 'net'], "config interface 'lan'\n\toption mtu '1400'\n")).exitCode).toBe(0);
    expect(read('net', savedir)).toBe("net.lan.mtu='1400'\n");
    expect((await uci(['import'], "config t 'a'\n")).stderr).toBe(
      'uci: Parse error (attempting to import a file without a package name) at line 1, byte 0\n',
    );
  });

  it('reads input from a file with -f', async () => {
    const input = path.join(tmp, `input-${n}`);
    fs.writeFileSync(input, 'set net.lan.proto=dhcp\n');
    expect((await uci(['-f', input, 'batch'])).exitCode).toBe(0);
    expect(read('net', savedir)).toBe("net.lan.proto='dhcp'\n");
    expect(await uci(['-f', `${input}.missing`, 'batch'])).toEqual({
      stdout: '',
      stderr: 'uci: No such file or directory',
      exitCode: 1,
    });
    expect((await uci(['-f', input, '-f', input, 'batch'])).stderr).toBe('Too many input files.\n');
  });

  it('runs batch input: quoting, comments, unknown commands, exit', async () => {
    const r = await uci(
      ['batch'],
      [
        "set net.lan.desc='a b' # comment",
        'set net.lan.two="x\\"y"',
        'bogus',
        'get net.lan.desc',
        'get too many args here',
        '',
        'exit',
        'set net.lan.never=1',
      ].join('\n'),
    );
    expect(r).toEqual({ stdout: 'a b\n', stderr: 'Unknown command\nToo many arguments\n', exitCode: 0 });
    expect(read('net', savedir)).toBe("net.lan.desc='a b'\nnet.lan.two='x\"y'\n");
    const bad = await uci(['batch'], "get 'unterminated\n");
    expect(bad.stderr).toBe("uci: Parse error (EOF with unterminated ') at line 1, byte 18\n");
    const badPath = await uci(['batch'], 'get net..x\nget net.lan.a-b\n');
    expect(badPath.stderr).toMatch(/^uci: Invalid argument\nuci: Parse error/);
  });

  it('shows parse errors without prefix with -S and goes on', async () => {
    fs.writeFileSync(path.join(confdir, 'bad'), "config t 'a'\n\tbogus\n\toption o 'v'\n");
    expect(await uci(['-S', 'show', 'bad'])).toEqual({
      stdout: "bad.a=t\nbad.a.o='v'\n",
      stderr: 'Parse error (invalid command) at line 2, byte 1\n',
      exitCode: 0,
    });
    // -S then -s: printed by the parser and reported by the command.
    expect((await uci(['-S', '-s', 'show', 'bad'])).stderr).toBe(
      'Parse error (invalid command) at line 2, byte 1\nuci: Parse error (invalid command) at line 2, byte 1\n',
    );
    // show without a config goes on after the broken one.
    const all = await uci(['show']);
    expect(all.exitCode).toBe(0);
    expect(all.stderr).toBe('uci: Parse error (invalid command) at line 2, byte 1\n');
    expect(all.stdout).toMatch(/^net\.lan=interface\n/);
  });

  it('commands are case-insensitive and have short forms', async () => {
    expect((await uci(['GET', 'net.lan.proto'])).stdout).toBe('static\n');
    expect((await uci(['ren', 'net.lan=wan'])).exitCode).toBe(0);
    expect((await uci(['del', 'net.wan.proto'])).exitCode).toBe(0);
    expect(read('net', savedir)).toBe("@net.lan='wan'\n-net.wan.proto\n");
  });
});
