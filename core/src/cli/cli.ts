import mri from 'mri';
import { RemoteError } from '../control/client.js';
import type { MethodDescription } from '../control/methods.js';
import { SystemClock } from '../clock/clock.js';
import { type HostLink, connectHost } from './host-link.js';
import { type ErrorCode, ErrorCodes, WrtkitError, isWrtkitError, messageOf } from '../errors.js';
import { Host } from '../host/host.js';
import { loadHostSettings } from '../host/host-config.js';
import type { PluginStatus } from '../host/plugin-runtime.js';
import type { Platform } from '../platform/platform.js';
import { UciContext, runUciCommand } from '../uci/index.js';
import { createLogger } from '../log/logger.js';
import { startBroker } from '../ubus/broker.js';
import { UBUS_SOCKET, UbusStatusError } from '../ubus/client.js';
import { rpcdAcl, rpcdAclFiles } from '../ubus/acl.js';
import { WRTKIT_VERSION } from '../version.js';
import { formatTable } from './format.js';
import { validateLocally } from './validate-locally.js';
import { createUciReader } from '../config/uci-reader.js';
import type { CommandContext } from '../plugin/command.js';
import { type InstalledCommand, describePluginCommands, findPluginCommands, loadCommand } from './plugin-commands.js';

/** Exit codes of the wrtkit command. */
export const ExitCode = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

const USAGE = `Usage: wrtkit [options] <command> [arguments]

Commands:
  run                          run the host (procd starts this)
  status                       host version, engine, uptime, plugin counts
  plugins [<name>]             plugins: state, failures, errors, time in hooks
  call <object>.<method> [<json>]
                               call a method of the host or a plugin, e.g.
                               wrtkit call wrtkit.status '{}'
  objects                      objects and methods you can call
  reload                       re-read /etc/config (same as SIGHUP)
  config validate              check /etc/config for the host and every plugin
  acl [--out <dir>]            rpcd ACL files for the host's and the plugins' ubus objects
  uci <uci arguments>          the uci command line, on any host (see wrtkit uci)
  ubusd [--socket <path>]      a ubus broker until SIGTERM, for hosts without ubusd
                               (default /var/run/ubus/ubus.sock)
  version                      print the version
  help <command>               how to use a command an installed plugin provides

Options:
  --config-dir <dir>   UCI config directory (default /etc/config, env WRTKIT_CONFIG_DIR)
  --plugin-dir <dir>   installed plugins (default from /etc/config/wrtkit)
  --state-dir <dir>    plugin state (default from /etc/config/wrtkit)
  --socket <path>      control socket (default from /etc/config/wrtkit, env WRTKIT_SOCKET)
  --json               print JSON instead of tables
  -h, --help           show this help

Exit status: 0 success, 1 failure, 2 usage error, 3 host not reachable.
`;

/** The commands above; any other name is looked up among the installed plugins' commands. */
const BUILT_IN = new Set([
  'run',
  'status',
  'plugins',
  'objects',
  'call',
  'reload',
  'config',
  'acl',
  'uci',
  'ubusd',
  'version',
  'help',
  'new-plugin',
  'build',
  'gen-config',
]);

/** Options that take a value. */
const VALUE_OPTIONS = ['config-dir', 'plugin-dir', 'state-dir', 'socket', 'out'];

/** Where the command name is: the first argument that is neither an option nor an option's value. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-') || arg === '-') return i;
    if (VALUE_OPTIONS.includes(arg.replace(/^--?/, ''))) i++; // `--socket x`; `--socket=x` holds its own
  }
  return -1;
}

interface Options {
  configDir: string;
  pluginDir: string | undefined;
  stateDir: string | undefined;
  socket: string | undefined;
  json: boolean;
}

/** Runs one CLI invocation; resolves with the exit code. */
export async function runCli(platform: Platform, argv: readonly string[]): Promise<number> {
  const out = (text: string) => platform.stdio.writeStdout(text.endsWith('\n') ? text : `${text}\n`);
  const err = (text: string) => platform.stdio.writeStderr(text.endsWith('\n') ? text : `${text}\n`);

  // `wrtkit uci ...` and a plugin's `wrtkit <command> ...` get everything after the
  // command name untouched (`--help` included); wrtkit's options come before it.
  const at = commandIndex(argv);
  const passThrough = at >= 0 && (argv[at] === 'uci' || !BUILT_IN.has(argv[at] as string));
  const head = passThrough ? argv.slice(0, at + 1) : argv;
  const tail = passThrough ? argv.slice(at + 1) : [];
  const args = mri([...head], {
    string: VALUE_OPTIONS,
    boolean: ['json', 'help', 'version'],
    alias: { h: 'help' },
  });
  const options: Options = {
    configDir: (args['config-dir'] as string | undefined) ?? platform.env.get('WRTKIT_CONFIG_DIR') ?? '/etc/config',
    pluginDir: args['plugin-dir'] as string | undefined,
    stateDir: args['state-dir'] as string | undefined,
    socket: (args.socket as string | undefined) ?? platform.env.get('WRTKIT_SOCKET'),
    json: args.json === true,
  };
  const [command, ...rest] = args._.map(String);
  if (args.version === true || command === 'version') {
    out(`wrtkit ${WRTKIT_VERSION} (${platform.engine})`);
    return ExitCode.ok;
  }
  if (args.help === true || command === undefined || command === 'help') {
    const commands = installedCommands(platform, options);
    const topic = command === 'help' ? rest[0] : undefined;
    const wanted = topic !== undefined && !BUILT_IN.has(topic) ? commands.filter((c) => c.name === topic) : [];
    if (wanted[0]) {
      // `wrtkit help voucher`: the plugin command's own usage.
      try {
        const definition = await loadCommand(platform, wanted[0]);
        out(`wrtkit ${definition.name}: ${definition.summary}\n\n${definition.usage}`);
        return ExitCode.ok;
      } catch (error) {
        err(`wrtkit: ${messageOf(error)}${error instanceof WrtkitError ? ` [${error.code}]` : ''}`);
        return ExitCode.failed;
      }
    }
    const text = USAGE + (await describePluginCommands(platform, commands));
    (command === undefined && args.help !== true ? err : out)(text);
    return command === undefined && args.help !== true ? ExitCode.usage : ExitCode.ok;
  }

  const print = (value: unknown, human: () => string) => out(options.json ? JSON.stringify(value, null, 2) : human());
  let link: HostLink | undefined;
  const remote = async (object: string, method: string, callArgs: Record<string, unknown> = {}) => {
    if (!link) {
      const settings = loadHostSettings(new UciContext(platform.fs, { confdir: options.configDir }), undefined);
      link = await connectHost(platform, new SystemClock(platform.timers), {
        // --socket names the control socket and means "use it": skip ubus then.
        ubus: options.socket !== undefined ? '' : (platform.env.get('WRTKIT_UBUS_SOCKET') ?? settings.ubusSocket),
        control: options.socket ?? settings.controlSocket,
      });
    }
    return link.call(object, method, callArgs);
  };

  try {
    switch (command) {
      case 'run':
        return await runHost(platform, options);
      case 'status': {
        const status = (await remote('wrtkit', 'status')) as Record<string, unknown>;
        print(status, () =>
          formatTable([
            ['version', String(status.version)],
            ['engine', String(status.engine)],
            ['state', String(status.state)],
            ['uptime', `${Math.round(Number(status.uptimeMs) / 1000)} s`],
            [
              'plugins',
              Object.entries(status.plugins as Record<string, number>)
                .map(([k, v]) => `${v} ${k}`)
                .join(', ') || 'none',
            ],
            ['problems', String((status.problems as unknown[]).length)],
          ]),
        );
        return ExitCode.ok;
      }
      case 'plugins': {
        const { plugins } = (await remote('wrtkit', 'plugins', rest[0] ? { name: rest[0] } : {})) as { plugins: PluginStatus[] };
        print(plugins, () => pluginsTable(plugins));
        return ExitCode.ok;
      }
      case 'objects': {
        const { objects } = (await remote('wrtkit', 'objects')) as {
          objects: Array<{
            object: string;
            methods: Record<string, { access: string; description?: string }>;
          }>;
        };
        print(objects, () =>
          formatTable([
            ['OBJECT.METHOD', 'ACCESS', 'DESCRIPTION'],
            ...objects.flatMap((o) =>
              Object.entries(o.methods).map(([m, spec]) => [`${o.object}.${m}`, spec.access, spec.description ?? '']),
            ),
          ]),
        );
        return ExitCode.ok;
      }
      case 'call': {
        const target = rest[0];
        const dot = target ? target.lastIndexOf('.') : -1;
        if (!target || dot <= 0 || dot === target.length - 1) {
          err('usage: wrtkit call <object>.<method> [<json arguments>]');
          return ExitCode.usage;
        }
        let callArgs: unknown = {};
        if (rest[1] !== undefined) {
          try {
            callArgs = JSON.parse(rest[1]);
          } catch {
            err(`wrtkit: arguments are not valid JSON: ${rest[1]}`);
            return ExitCode.usage;
          }
          if (callArgs === null || typeof callArgs !== 'object' || Array.isArray(callArgs)) {
            err('wrtkit: arguments must be a JSON object, e.g. \'{"name":"x"}\'');
            return ExitCode.usage;
          }
        }
        const result = await remote(target.slice(0, dot), target.slice(dot + 1), callArgs as Record<string, unknown>);
        out(JSON.stringify(result, null, 2));
        return ExitCode.ok;
      }
      case 'reload': {
        const report = (await remote('wrtkit', 'reload')) as {
          changed: string[];
          started: string[];
          stopped: string[];
          invalid: Array<{ plugin: string; issues: Array<{ uciPath: string; message: string; rule: string }> }>;
        };
        print(report, () =>
          [
            `changed: ${report.changed.join(', ') || 'none'}`,
            `started: ${report.started.join(', ') || 'none'}`,
            `stopped: ${report.stopped.join(', ') || 'none'}`,
            ...report.invalid.flatMap((i) =>
              i.issues.map(
                (issue) => `invalid: ${issue.uciPath}: ${issue.message} (${issue.rule}); ${i.plugin} keeps its last good config`,
              ),
            ),
          ].join('\n'),
        );
        return report.invalid.length > 0 ? ExitCode.failed : ExitCode.ok;
      }
      case 'config': {
        if (rest[0] !== 'validate') {
          err('usage: wrtkit config validate');
          return ExitCode.usage;
        }
        const results = await validateLocally(platform, options.configDir, options.pluginDir);
        print(results, () =>
          results
            .map((r) =>
              r.ok ? `ok       ${r.plugin}` : r.issues.map((i) => `invalid  ${i.uciPath}: ${i.message} (${i.rule})`).join('\n'),
            )
            .join('\n'),
        );
        return results.every((r) => r.ok) ? ExitCode.ok : ExitCode.failed;
      }
      case 'acl': {
        const objects = await describeObjects(platform, options);
        const outDir = args.out as string | undefined;
        if (outDir === undefined) {
          out(JSON.stringify(rpcdAcl(objects), null, 2));
        } else {
          // One file per owner, as its package installs it: wrtkit.json, wrtkit-<plugin>.json.
          platform.fs.mkdirp(outDir);
          for (const [owner, acl] of Object.entries(rpcdAclFiles(objects))) {
            platform.fs.writeAtomic(`${outDir}/${owner}.json`, `${JSON.stringify(acl, null, 2)}\n`);
            out(`${outDir}/${owner}.json`);
          }
        }
        return ExitCode.ok;
      }
      case 'ubusd':
        return await runBroker(platform, (args.socket as string | undefined) ?? UBUS_SOCKET);
      case 'uci': {
        const stdinNeeded = tail.some((a) => a === 'import' || a === 'batch');
        const result = await runUciCommand([...tail], {
          fs: platform.fs,
          ...(stdinNeeded ? { stdin: await platform.stdio.readStdin() } : {}),
        });
        if (result.stdout) platform.stdio.writeStdout(result.stdout);
        if (result.stderr) platform.stdio.writeStderr(result.stderr);
        return result.exitCode;
      }
      case 'new-plugin':
      case 'build':
      case 'gen-config':
        // The author's commands live in the SDK's `wrtkit` (Node-only tooling, not on routers).
        err(`wrtkit: ${command} comes with @wrtkit/sdk: npx wrtkit ${command} … (see docs/plugin-authors.md)`);
        return ExitCode.usage;
      default:
        return await runPluginCommand(platform, command, tail, {
          options,
          out,
          err,
          call: (object, method, callArgs) =>
            remote(object, method, callArgs).catch((error: unknown) => {
              throw fromRemote(error);
            }),
        });
    }
  } catch (error) {
    const who = BUILT_IN.has(command) ? 'wrtkit' : `wrtkit ${command}`;
    if (error instanceof UbusStatusError) {
      err(`${who}: ${error.message} [${error.code}]`);
      return ExitCode.failed;
    }
    if (error instanceof RemoteError) {
      err(`${who}: ${error.remote.message} [${error.remote.code}]`);
      return error.remote.code === ErrorCodes.INVALID_ARGUMENT || error.remote.code === ErrorCodes.METHOD_NOT_FOUND
        ? ExitCode.usage
        : ExitCode.failed;
    }
    if (error instanceof WrtkitError && error.code === ErrorCodes.CONTROL_UNAVAILABLE) {
      err(`${who}: the host is not running or not reachable (${error.message}) [${error.code}]`);
      return ExitCode.unreachable;
    }
    err(`${who}: ${messageOf(error)}${error instanceof WrtkitError ? ` [${error.code}]` : ''}`);
    return ExitCode.failed;
  } finally {
    link?.close();
  }
}

/** The commands the installed plugins provide (none when the plugin dir cannot be found). */
function installedCommands(platform: Platform, options: Options): InstalledCommand[] {
  try {
    const pluginDir =
      options.pluginDir ?? loadHostSettings(new UciContext(platform.fs, { confdir: options.configDir }), undefined).pluginDir;
    return findPluginCommands(platform, pluginDir);
  } catch {
    return [];
  }
}

/**
 * `wrtkit <command> …` for a command an installed plugin provides (docs/plugin-authors.md,
 * "Commands"): its module is loaded and run here, in the CLI's process; its return value
 * is the exit status. A name no plugin provides is a usage error.
 */
async function runPluginCommand(
  platform: Platform,
  name: string,
  argv: readonly string[],
  io: Pick<CommandContext, 'out' | 'err' | 'call'> & { options: Options },
): Promise<number> {
  const commands = installedCommands(platform, io.options);
  const matches = commands.filter((c) => c.name === name);
  if (!matches[0]) {
    io.err(`wrtkit: unknown command ${name}\n\n${USAGE}${await describePluginCommands(platform, commands)}`);
    return ExitCode.usage;
  }
  if (matches.length > 1) {
    io.err(`wrtkit: command ${name} is provided by more than one plugin (${matches.map((m) => m.plugin).join(', ')})`);
    return ExitCode.failed;
  }
  const definition = await loadCommand(platform, matches[0]);
  const context: CommandContext = {
    argv: [...argv],
    platform,
    out: io.out,
    err: io.err,
    call: io.call,
    configDir: io.options.configDir,
    uci: createUciReader(new UciContext(platform.fs, { confdir: io.options.configDir })),
    json: io.options.json,
  };
  let status: number;
  try {
    status = await definition.run(context);
  } catch (error) {
    if (!isWrtkitError(error, ErrorCodes.USAGE)) throw error;
    io.err(`wrtkit ${name}: ${error.message}\n\n${definition.usage}`);
    return ExitCode.usage;
  }
  if (!Number.isInteger(status) || status < 0 || status > 255) {
    io.err(`wrtkit ${name}: the command returned ${String(status)}, not an exit status (0-255)`);
    return ExitCode.failed;
  }
  return status;
}

/**
 * A failed call as a command sees it: a WrtkitError with the host's code (the control
 * socket's RemoteError is the CLI's own business).
 */
function fromRemote(error: unknown): unknown {
  if (!(error instanceof RemoteError)) return error;
  const { code, message, plugin, details } = error.remote;
  return new WrtkitError(code as ErrorCode, message, {
    ...(plugin !== undefined ? { plugin } : {}),
    ...(details !== undefined ? { details } : {}),
  });
}

/** What is wrong with a plugin now (its error history is in `--json`). */
function currentProblem(p: PluginStatus): string {
  const last = p.errors[p.errors.length - 1];
  const issue = p.configIssues[0];
  if (p.state === 'running') return issue ? `config ${issue.uciPath}: ${issue.message} (running on last good config)` : '';
  if (p.state === 'config-invalid' && issue) return `config ${issue.uciPath}: ${issue.message} (${issue.rule})`;
  return last ? `${last.code}: ${last.message}` : '';
}

function pluginsTable(plugins: PluginStatus[]): string {
  if (plugins.length === 0) return 'no plugins';
  return formatTable([
    ['NAME', 'VERSION', 'STATE', 'FAILURES', 'HOOK TIME', 'PROBLEM'],
    ...plugins.map((p) => [
      p.name,
      p.version,
      p.state + (p.nextRetryInMs !== undefined ? ` (retry in ${Math.ceil(p.nextRetryInMs / 1000)} s)` : ''),
      String(p.failures),
      `${p.hookTimeMs.toFixed(1)} ms`,
      currentProblem(p),
    ]),
  ]);
}

/**
 * What the host and the installed plugins serve, for their rpcd ACLs: a host that only
 * runs their setup (no sockets, no programs, state in a scratch dir) is asked for its objects.
 */
async function describeObjects(platform: Platform, options: Options): Promise<MethodDescription[]> {
  const scratch = `/tmp/wrtkit-describe-${Math.floor(platform.timers.wallMs())}`;
  const host = new Host({
    platform,
    configDir: options.configDir,
    ...(options.pluginDir !== undefined ? { pluginDir: options.pluginDir } : {}),
    stateDir: scratch,
    controlSocket: null,
    ubusSocket: null,
    mode: 'describe',
    logSink: () => undefined,
  });
  try {
    await host.start();
    return host.methods.describe();
  } finally {
    await host.stop();
    for (const entry of platform.fs.list(scratch)) platform.fs.remove(`${scratch}/${entry.name}`);
    platform.fs.remove(scratch);
  }
}

/**
 * `wrtkit ubusd`: the ubus broker (core/src/ubus/broker.ts) on hosts that have no ubusd
 * (development hosts, CI, the lab). Logs to stderr; exits 0 after SIGTERM or SIGINT.
 */
async function runBroker(platform: Platform, path: string): Promise<number> {
  const sockets = platform.sockets;
  if (!sockets) {
    platform.stdio.writeStderr('wrtkit ubusd: this engine has no sockets (qjs needs the native module, core/native)\n');
    return ExitCode.failed;
  }
  const { logger } = createLogger((_record, line) => platform.stdio.writeStderr(`${line}\n`), 'ubusd');
  const clock = new SystemClock(platform.timers);
  const broker = await startBroker({ sockets, path, clock, log: logger });
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) platform.signals.on(signal, resolve);
  });
  await broker.close();
  logger.info('stopped');
  return ExitCode.ok;
}

/** `wrtkit run`: the daemon procd supervises. Exits 0 after SIGTERM. */
async function runHost(platform: Platform, options: Options): Promise<number> {
  const host = new Host({
    platform,
    configDir: options.configDir,
    ...(options.pluginDir !== undefined ? { pluginDir: options.pluginDir } : {}),
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
    ...(options.socket !== undefined ? { controlSocket: options.socket } : {}),
    handleSignals: true,
  });
  try {
    await host.start();
  } catch (error) {
    host.log.error(`host failed to start: ${messageOf(error)}`);
    await host.stop({ reason: 'error' });
    return ExitCode.failed;
  }
  await host.whenStopped();
  return ExitCode.ok;
}
