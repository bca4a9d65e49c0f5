/**
 * Bundled by qjs.test.ts and run under QuickJS: runs the conformance suite on the qjs
 * platform, plus checks that only make sense in a qjs bundle (engine detection, stdin,
 * decorators and the CommonJS libraries surviving rollup), and prints the results as
 * one JSON line. Usage: qjs <bundle> <empty temp dir> native|no-native
 * (stdin: "stdin-probe ü"). `native`: WRTKIT_NATIVE names the built module and every
 * check runs, sockets included; `no-native`: WRTKIT_NATIVE is empty, sockets must be
 * undefined, and the checks that need no sockets run (atomic writes then use O_DSYNC).
 */
import 'reflect-metadata';
import { SyncHook, AsyncSeriesWaterfallHook } from 'tapable';
import { container, inject, injectable } from 'tsyringe';
import { loadPlatform } from '../../src/platform/detect.js';
import { runPlatformConformance, type CheckResult } from './conformance.js';

// An async main, not top-level await: see core/src/main.ts for the QuickJS job-queue stall.
async function main(): Promise<void> {
  const platform = await loadPlatform();
  const [tmpDir, mode] = platform.args;
  const withNative = mode === 'native';

  const extra: Array<[string, () => Promise<void> | void]> = [
    [
      'qjs: loadPlatform() picks the qjs platform',
      () => {
        if (platform.engine !== 'qjs') throw new Error(`engine ${platform.engine}`);
        if (mode !== 'native' && mode !== 'no-native') throw new Error(`mode ${String(mode)}: say native or no-native`);
        if (withNative && platform.sockets === undefined) {
          throw new Error(`sockets are undefined although WRTKIT_NATIVE=${String(platform.env.get('WRTKIT_NATIVE'))}`);
        }
        if (!withNative && platform.sockets !== undefined) throw new Error('sockets should be undefined without core/native');
      },
    ],
    [
      'qjs: stdio.readStdin reads piped input',
      async () => {
        const text = await platform.stdio.readStdin();
        if (text !== 'stdin-probe ü\n') throw new Error(`read ${JSON.stringify(text)}`);
      },
    ],
    [
      'qjs: legacy decorators survive the bundle',
      () => {
        const seen: string[] = [];
        const targets: unknown[] = [];
        // Compared by identity, not by name: minified bundles rename classes.
        const tag =
          (label: string) =>
          (target: unknown): void => {
            targets.push(target);
            seen.push(`class:${label}`);
          };
        const param =
          (token: string) =>
          (_target: object, _key: string | symbol | undefined, index: number): void => {
            seen.push(`${index}:${token}`);
          };
        @tag('svc')
        class Service {
          constructor(
            @param('A') readonly a: unknown,
            @param('B') readonly b: unknown,
          ) {}
        }
        if (seen.sort().join(',') !== '0:A,1:B,class:svc' || targets[0] !== Service) {
          throw new Error(`decorators saw ${seen.join(',')}`);
        }
      },
    ],
    [
      'qjs: tsyringe with reflect-metadata and @inject',
      () => {
        const TOKEN = Symbol('greeting');
        @injectable()
        class Greeter {
          constructor(@inject(TOKEN) readonly greeting: string) {}
        }
        const child = container.createChildContainer();
        child.register(TOKEN, { useValue: 'hello' });
        const g = child.resolve(Greeter);
        if (g.greeting !== 'hello') throw new Error(`resolved ${g.greeting}`);
      },
    ],
    [
      'qjs: tapable hooks with the util shim',
      async () => {
        const hook = new SyncHook<[string]>(['name']);
        const calls: string[] = [];
        hook.tap('a', (n) => calls.push(`a:${n}`));
        hook.tap({ name: 'b', stage: -100 }, (n) => calls.push(`b:${n}`));
        hook.call('x');
        const wf = new AsyncSeriesWaterfallHook<[number]>(['n']);
        wf.tapPromise('double', async (n) => n * 2);
        wf.tap('inc', (n) => n + 1);
        const out = await wf.promise(5);
        if (calls.join(',') !== 'b:x,a:x' || out !== 11) throw new Error(`calls ${calls.join(',')} out ${out}`);
      },
    ],
  ];

  const results: CheckResult[] = [];
  for (const [name, fn] of extra) {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (e) {
      results.push({ name, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  if (!tmpDir) {
    results.push({ name: 'qjs: arguments', ok: false, error: 'usage: qjs <bundle> <tmpdir> native|no-native' });
  } else {
    results.push(...(await runPlatformConformance(platform, tmpDir, (name) => withNative || !name.startsWith('sockets:'))));
  }
  platform.stdio.writeStdout(`${JSON.stringify({ engine: platform.engine, results })}\n`);
  platform.exit(results.every((r) => r.ok) ? 0 : 1);
}

void main();
