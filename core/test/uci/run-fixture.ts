/**
 * Runs one case of fixtures/uci (captured from the real `uci`) through runUciCommand and
 * lists every difference. No test-framework imports: the same code can be bundled and
 * run under QuickJS with the qjs platform's FileSystem.
 */
import type { FileSystem } from '../../src/platform/platform.js';
import { runUciCommand } from '../../src/uci/cli.js';

export interface FixtureStep {
  args: string[];
  command?: string;
  stdin?: string;
  stdout: string;
  stderr: string;
  exit_code: number;
  delta_files_after: Record<string, string>;
  config_files_after: Record<string, string>;
}

export interface FixtureCase {
  case: string;
  description?: string;
  input_files: Record<string, string>;
  steps: FixtureStep[];
}

export interface FixtureMismatch {
  step: number;
  args: string[];
  field: 'stdout' | 'stderr' | 'exit_code' | 'delta_files_after' | 'config_files_after';
  expected: unknown;
  actual: unknown;
}

function readDir(fs: FileSystem, dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.list(dir)) if (e.kind === 'file') out[e.name] = fs.readText(`${dir}/${e.name}`);
  return out;
}

/**
 * Runs the case in `root` (an empty directory): <root>/conf holds the input files,
 * <root>/save and <root>/override start empty, as in the capture.
 */
export async function runFixtureCase(fixture: FixtureCase, fs: FileSystem, root: string): Promise<FixtureMismatch[]> {
  const confdir = `${root}/conf`;
  const savedir = `${root}/save`;
  const overridedir = `${root}/override`;
  for (const dir of [confdir, savedir, overridedir]) fs.mkdirp(dir);
  for (const [name, text] of Object.entries(fixture.input_files)) fs.writeAtomic(`${confdir}/${name}`, text);
  const place = (text: string): string =>
    text.split('<confdir>').join(confdir).split('<savedir>').join(savedir).split('<overridedir>').join(overridedir);
  const mismatches: FixtureMismatch[] = [];
  for (let i = 0; i < fixture.steps.length; i++) {
    const step = fixture.steps[i] as FixtureStep;
    const argv = ['-c', confdir, '-C', overridedir, '-t', savedir, ...step.args];
    const io = step.stdin === undefined ? { fs } : { fs, stdin: step.stdin };
    const result = await runUciCommand(argv, io, { appname: 'uci' });
    const check = (field: FixtureMismatch['field'], expected: unknown, actual: unknown): void => {
      if (JSON.stringify(expected) !== JSON.stringify(actual))
        mismatches.push({ step: i, args: step.args, field, expected, actual });
    };
    check('stdout', place(step.stdout), result.stdout);
    check('stderr', place(step.stderr), result.stderr);
    check('exit_code', step.exit_code, result.exitCode);
    const sortKeys = (o: Record<string, string>): Record<string, string> =>
      Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    check('delta_files_after', sortKeys(step.delta_files_after), sortKeys(readDir(fs, savedir)));
    check('config_files_after', sortKeys(step.config_files_after), sortKeys(readDir(fs, confdir)));
  }
  return mismatches;
}
