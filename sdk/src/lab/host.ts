// The wrtkit host inside a lab node: a router root in a temp dir, the host bundle run on
// Node.js or QuickJS through `ip netns exec`, and the wrtkit CLI run the same way.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabNode } from './lab.js';
import { type ExitStatus, LabCommandError, type LabProcess, type RunOptions, type RunResult, type WaitOptions } from './proc.js';

export type HostEngine = 'node' | 'qjs';

export interface StartHostOptions {
  /** `'node'` (default) or `'qjs'` (run with `--no-unhandled-rejection`, as the router does). */
  engine?: HostEngine;
  /**
   * The host bundle (`wrtkit.js`). Default: `$WRTKIT_HOST_BUNDLE`, else the SDK's shipped
   * `dist/host/wrtkit.js`, else the monorepo's `build/wrtkit.js` (`make build`).
   */
  hostBundle?: string;
  /** Installed plugins (`<name>/index.js` + `manifest.json`). Default: `$WRTKIT_PLUGIN_DIR`, else `plugins/` beside the host bundle (the monorepo's `build/plugins`). */
  pluginDir?: string;
  /**
   * Files for `<root>/etc/config`, name → UCI text: `{ wrtkit: "config wrtkit 'main'\n…",
   * heartbeat: '…' }`. `plugin_dir`, `state_dir` and `control_socket` need not be set:
   * the host is started with `--plugin-dir`, `--state-dir` and `--socket` pointing into
   * the root. Without a `wrtkit` file a minimal one is written.
   */
  config?: Record<string, string>;
  /** Added to the host's environment. */
  env?: Record<string, string>;
  /**
   * Start on an existing router root (an earlier `LabHost.root`): the same /etc/config and
   * state, as a router after a reboot or an engine swap. Default: a fresh temp dir.
   */
  root?: string;
  /** The qjs binary. Default: `$WRTKIT_QJS`, else the monorepo's `.cache/qjs/bin/qjs`, else `qjs` on PATH. */
  qjs?: string;
  /**
   * The QuickJS native module (sockets: control socket, CLI) passed as `WRTKIT_NATIVE` on
   * qjs. Default: `$WRTKIT_NATIVE`, else the monorepo's `.cache/native/wrtkit-native.so`
   * when it exists. `false`: none.
   */
  native?: string | false;
}

/** The nearest enclosing directory whose package.json is named `name` (walking up from this module). */
function packageRoot(name: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name) return dir;
    } catch {
      // no package.json here
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const existing = (path: string | undefined) => (path !== undefined && existsSync(path) ? path : undefined);

/**
 * Where the defaults of StartHostOptions point on this machine (absent: not found). The
 * host bundle: `$WRTKIT_HOST_BUNDLE`, else the one the SDK package ships
 * (`dist/host/wrtkit.js`), else the monorepo's `build/wrtkit.js` (`make build`) — the same
 * order as the SDK's `wrtkit` command.
 */
export function defaultHostPaths(): { hostBundle?: string; pluginDir?: string; qjs?: string; native?: string } {
  const sdk = packageRoot('@wrtkit/sdk');
  const repo = packageRoot('wrtkit-monorepo');
  const hostBundle =
    process.env.WRTKIT_HOST_BUNDLE ??
    existing(sdk && join(sdk, 'dist/host/wrtkit.js')) ??
    existing(repo && join(repo, 'build/wrtkit.js'));
  const pluginDir = process.env.WRTKIT_PLUGIN_DIR ?? existing(hostBundle && join(dirname(hostBundle), 'plugins'));
  const qjs = process.env.WRTKIT_QJS ?? existing(repo && join(repo, '.cache/qjs/bin/qjs'));
  const native = process.env.WRTKIT_NATIVE ?? existing(repo && join(repo, '.cache/native/wrtkit-native.so'));
  return {
    ...(hostBundle ? { hostBundle } : {}),
    ...(pluginDir ? { pluginDir } : {}),
    ...(qjs ? { qjs } : {}),
    ...(native ? { native } : {}),
  };
}

/** A wrtkit host running inside a lab node. */
export class LabHost {
  constructor(
    /** The node it runs in. */
    readonly node: LabNode,
    readonly engine: HostEngine,
    /** The router root (a temp dir): `etc/config`, `state`, `run/control.sock`. */
    readonly root: string,
    readonly configDir: string,
    readonly stateDir: string,
    readonly pluginDir: string,
    /** The control socket. */
    readonly socket: string,
    /** argv prefix that runs the bundle on this engine (engine binary [+ flags] + bundle). */
    private readonly bundleArgv: readonly string[],
    private readonly env: Record<string, string>,
    /** The host process (its stderr/stdout lines, exit). */
    readonly process: LabProcess,
  ) {}

  get pid(): number {
    return this.process.pid;
  }

  /** The host's log lines so far (stderr and stdout). */
  get lines(): string[] {
    return this.process.lines;
  }

  get exited(): Promise<ExitStatus> {
    return this.process.exited;
  }

  /** Log lines from index `from` on that match. */
  matching(pattern: RegExp, from = 0): string[] {
    return this.process.matching(pattern, from);
  }

  /**
   * Waits for `count` log lines matching `pattern` (after `from`); rejects with the whole
   * log when the host exits first or `timeoutMs` (default 15 s) passes.
   */
  waitForLog(pattern: RegExp, options: WaitOptions = {}): Promise<string[]> {
    return this.process.waitFor(pattern, options);
  }

  /** Runs the wrtkit CLI (same engine, bundle, config and plugins, inside the node): `cli(['status', '--json'])`, `cli(['voucher', 'list'])`. */
  cli(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return this.node.run([...this.bundleArgv, '--config-dir', this.configDir, '--plugin-dir', this.pluginDir, ...args], {
      ...options,
      env: { ...this.env, ...options.env },
    });
  }

  /**
   * `wrtkit call <object>.<method> <json>` over the control socket, inside the node; the
   * parsed JSON answer. Throws a LabCommandError (exit code, stderr) when the call fails.
   */
  async call(object: string, method: string, args: Record<string, unknown> = {}, options: RunOptions = {}): Promise<unknown> {
    const argv = ['--socket', this.socket, 'call', `${object}.${method}`, JSON.stringify(args)];
    const result = await this.cli(argv, options);
    if (result.exitCode !== 0) throw new LabCommandError(['wrtkit', ...argv], result, `host in ${this.node.name}`);
    try {
      return JSON.parse(result.stdout) as unknown;
    } catch {
      throw new Error(`lab: wrtkit call ${object}.${method} answered with something that is not JSON: ${result.stdout}`);
    }
  }

  /** Sends a signal (SIGHUP reloads the config). */
  signal(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  /** SIGTERM, SIGKILL after `graceMs` (default 10 s); the exit status (`{ code: 0, signal: null }` when clean). */
  stop(graceMs = 10_000): Promise<ExitStatus> {
    return this.process.stop(graceMs);
  }
}

/** @internal see Lab.startHost */
export function startLabHost(node: LabNode, root: string, options: StartHostOptions): LabHost {
  const defaults = defaultHostPaths();
  const engine = options.engine ?? 'node';
  const hostBundle = options.hostBundle ?? defaults.hostBundle;
  if (!hostBundle || !existsSync(hostBundle)) {
    throw new Error(
      `lab: no host bundle${hostBundle ? ` at ${hostBundle}` : ''}: pass startHost(node, { hostBundle }), set WRTKIT_HOST_BUNDLE, or run \`make build\``,
    );
  }
  const pluginDir = resolve(options.pluginDir ?? defaults.pluginDir ?? join(dirname(hostBundle), 'plugins'));
  if (!existsSync(pluginDir)) {
    throw new Error(`lab: plugin dir ${pluginDir} does not exist: pass startHost(node, { pluginDir }) (your built plugins)`);
  }
  const env: Record<string, string> = { ...options.env };
  let bundleArgv: string[];
  if (engine === 'qjs') {
    const qjs = options.qjs ?? defaults.qjs ?? 'qjs';
    bundleArgv = [qjs, '--no-unhandled-rejection', resolve(hostBundle)];
    const native = options.native ?? defaults.native;
    if (native && existsSync(native)) env.WRTKIT_NATIVE = resolve(native);
  } else if (engine === 'node') {
    bundleArgv = [process.execPath, resolve(hostBundle)];
  } else {
    throw new Error(`lab: engine must be 'node' or 'qjs', not '${String(engine)}'`);
  }
  const configDir = join(root, 'etc/config');
  const stateDir = join(root, 'state');
  const socket = join(root, 'run/control.sock');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(dirname(socket), { recursive: true });
  // A minimal host config where none is given (and none is there yet, on a reused root).
  const files: Record<string, string> = existsSync(join(configDir, 'wrtkit'))
    ? {}
    : { wrtkit: "config wrtkit 'main'\n\toption log_level 'info'\n" };
  Object.assign(files, options.config);
  for (const [name, text] of Object.entries(files)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.'))
      throw new Error(`lab: config file name '${name}' is not a UCI package name`);
    writeFileSync(join(configDir, name), text);
  }
  const argv = [
    ...bundleArgv,
    'run',
    '--config-dir',
    configDir,
    '--plugin-dir',
    pluginDir,
    '--state-dir',
    stateDir,
    '--socket',
    socket,
  ];
  const process_ = node.spawn(argv, { env });
  return new LabHost(node, engine, root, configDir, stateDir, pluginDir, socket, bundleArgv, env, process_);
}
