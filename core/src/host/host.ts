import { type DependencyContainer, container as globalContainer } from 'tsyringe';
import { type Clock, SystemClock } from '../clock/clock.js';
import { Composer } from '../compose/composer.js';
import { DEFAULT_APPLY_COMMANDS, UciFileApplier } from '../compose/uci-file-applier.js';
import type { ConfigApplier } from '../compose/applier.js';
import { PerPackageApplier } from '../compose/per-package-applier.js';
import { type WirelessChoice, createWirelessApplier, detectWirelessBackend } from '../compose/wireless/backend.js';
import { createUciReader } from '../config/uci-reader.js';
import { loadPluginConfig } from '../config/plugin-config.js';
import { type ConfigEdits, editPluginConfig } from '../config/edit.js';
import type { ConfigIssue, ConfigResult } from '../config/validate.js';
import { ControlServer } from '../control/server.js';
import { type MethodTable, MethodRegistry } from '../control/methods.js';
import { Tokens } from '../di/tokens.js';
import { ErrorCodes, WrtkitError, messageOf, type SerializedError } from '../errors.js';
import { type BootInfo, type ComposedPackage, ComposedPackages, type ShutdownInfo } from '../hooks/events.js';
import { createHostHooks } from '../hooks/host-hooks.js';
import { OfferedHooks } from '../hooks/offers.js';
import { createPluginHooks } from '../hooks/view.js';
import { type LogLevel, type LogSink, type Logger, createLogger } from '../log/logger.js';
import type { PluginContext, PluginDefinition, Teardown } from '../plugin/define.js';
import { type LoadedPlugin, checkDefinition, loadInstalledPlugins, manifestOf } from '../plugin/load.js';
import type { PluginManifest } from '../plugin/manifest.js';
import { orderPlugins } from '../plugin/order.js';
import type { Platform, Processes, SignalName } from '../platform/platform.js';
import { FileStateStore } from '../state/store.js';
import { ScopedProcesses } from '../system/processes.js';
import { UciContext } from '../uci/index.js';
import { join } from '../util/path.js';
import { withTimeout } from '../util/timeout.js';
import { WRTKIT_VERSION } from '../version.js';
import { createPluginUbus } from '../ubus/scoped.js';
import { UbusBridge } from './ubus-bridge.js';
import { type HostSettings, loadHostSettings } from './host-config.js';
import { createHostMethods } from './host-methods.js';
import { HostapdService } from './hostapd-service.js';
import { PluginRuntime, type PluginStatus } from './plugin-runtime.js';

export interface HostOptions {
  platform: Platform;
  /** Defaults to the platform's real clock; tests pass a FakeClock. */
  clock?: Clock;
  /** Where UCI files live (default /etc/config). */
  configDir?: string;
  /** Overrides `wrtkit.main.plugin_dir`; null loads no installed plugins. */
  pluginDir?: string | null;
  /** Overrides `wrtkit.main.state_dir`. */
  stateDir?: string;
  /** Overrides `wrtkit.main.control_socket`; null serves no control socket. */
  controlSocket?: string | null;
  /** Overrides `wrtkit.main.ubus_socket`; null never uses ubus. */
  ubusSocket?: string | null;
  /** Plugins given as code (tests, the SDK harness) next to the installed ones. */
  plugins?: Array<{ definition: PluginDefinition; manifest?: Partial<PluginManifest> }>;
  /** Where log lines go (default: the platform's stderr). */
  logSink?: LogSink;
  /** Replaces how composed packages are applied (default: write file + reload command). */
  applier?: ConfigApplier;
  /** Handle SIGTERM/SIGINT (stop) and SIGHUP (reload); `wrtkit run` turns this on. */
  handleSignals?: boolean;
  /**
   * `describe`: load plugins and run their setup only — no boot/ready, no sockets, no
   * programs — to learn what they serve (`wrtkit acl`). Setup wires, ready acts: a plugin
   * that needs to run programs does so from ready, not setup.
   */
  mode?: 'run' | 'describe';
}

export interface HostStatus {
  version: string;
  engine: 'node' | 'qjs';
  state: 'starting' | 'running' | 'stopping' | 'stopped';
  uptimeMs: number;
  configDir: string;
  pluginDir: string | null;
  plugins: Record<string, number>;
  problems: SerializedError[];
  hostConfigIssues: ConfigIssue[];
  compose: ReturnType<Composer['describe']>;
  offeredHooks: Record<string, string[]>;
  ubus: { connected: boolean; path?: string; clientId?: number };
  /** How composed `wireless` is applied (absent when HostOptions.applier replaces the appliers). */
  wireless?: WirelessChoice;
}

export interface ReloadReport {
  changed: string[];
  started: string[];
  stopped: string[];
  invalid: Array<{ plugin: string; issues: ConfigIssue[] }>;
}

/**
 * The host: loads plugins, wires each into its own DI scope and the hook bus, runs the
 * lifecycle, keeps failing plugins away from the rest, composes and applies UCI config,
 * and serves its own and the plugins' method tables.
 */
export class Host {
  readonly hooks = createHostHooks();
  readonly offers = new OfferedHooks();
  readonly methods: MethodRegistry;
  readonly clock: Clock;
  readonly log: Logger;
  readonly root: DependencyContainer;
  readonly composer: Composer;
  readonly ubus: UbusBridge;
  private readonly platform: Platform;
  private readonly uci: UciContext;
  private readonly configDir: string;
  private readonly setLogLevel: (level: LogLevel) => void;
  private settings: HostSettings;
  /** Chosen once, at construction: a different backend takes a restart. */
  private readonly wireless: WirelessChoice | undefined;
  /** The plain-hostapd backend's events and calls (`wrtkit.hostapd`). */
  private readonly hostapd: HostapdService | undefined;
  private readonly plugins: PluginRuntime[] = [];
  private problems: WrtkitError[] = [];
  private control: ControlServer | undefined;
  private readonly signalOff: Array<() => void> = [];
  private phase: HostStatus['state'] = 'starting';
  private booted = false;
  /** True while a reload runs (plugins' setConfig must not wait for the next one then). */
  private inReload = false;
  private isReady = false;
  private bootInfo: BootInfo | undefined;
  private readonly startedAt: number;
  private stopping: Promise<void> | undefined;
  private reloads: Promise<unknown> = Promise.resolve();
  private ubusRetry: (() => void) | undefined;
  private readonly stoppedSignal: Promise<void>;
  private resolveStopped!: () => void;

  constructor(private readonly options: HostOptions) {
    this.platform = options.platform;
    this.clock = options.clock ?? new SystemClock(options.platform.timers);
    const sink: LogSink = options.logSink ?? ((_record, line) => options.platform.stdio.writeStderr(`${line}\n`));
    const { logger, setLevel } = createLogger(sink, 'wrtkit');
    this.log = logger;
    this.setLogLevel = setLevel;
    this.startedAt = this.clock.monotonic();
    this.configDir = options.configDir ?? '/etc/config';
    // The host keeps its own save dir so that composing never commits changes a user
    // staged with `uci set` but did not commit.
    this.uci = new UciContext(options.platform.fs, { confdir: this.configDir, savedir: '/var/run/wrtkit/uci' });
    this.settings = loadHostSettings(this.uci, this.log);
    this.setLogLevel(this.settings.logLevel);
    this.methods = new MethodRegistry((name) => this.find(name)?.state === 'running');
    this.root = globalContainer.createChildContainer();
    this.root.register(Tokens.Platform, { useValue: this.platform });
    this.root.register(Tokens.Clock, { useValue: this.clock });
    this.root.register(Tokens.HostLogger, { useValue: this.log });
    this.root.register(Tokens.Uci, { useValue: createUciReader(this.uci) });
    this.root.register(Tokens.HostInfo, { useValue: { version: WRTKIT_VERSION, engine: this.platform.engine } });
    let applier = options.applier;
    if (!applier) {
      this.wireless = detectWirelessBackend(this.settings.wireless.backend, {
        fs: this.platform.fs,
        processes: this.platform.processes,
        hostapdCtrlDir: this.settings.wireless.hostapdCtrlDir,
      });
      applier = this.defaultApplier(this.wireless);
    }
    this.composer = new Composer(
      this.hooks,
      (pkg) => this.uci.loadCommitted(pkg),
      applier,
      this.clock,
      this.log,
      (pkg) => this.settings.apply[pkg]?.enabled !== false,
    );
    this.stoppedSignal = new Promise((resolve) => (this.resolveStopped = resolve));
    this.methods.register('wrtkit', createHostMethods(this));
    if (this.wireless?.backend === 'hostapd' && options.mode !== 'describe') {
      this.hostapd = new HostapdService({
        platform: this.platform,
        clock: this.clock,
        log: this.log.child('hostapd'),
        ctrlDir: this.settings.wireless.hostapdCtrlDir,
        onStation: (event) =>
          void this.hooks.station
            .promise(event)
            .catch((error: unknown) => this.log.warn('station hook failed', { error: messageOf(error) })),
      });
      this.methods.register('wrtkit.hostapd', this.hostapd.methods());
    }
    this.ubus = new UbusBridge(this.methods, this.log);
    this.ubus.forwardEvents(this.hooks);
  }

  /** Loads, orders and starts the plugins, fires boot and ready, composes once. */
  async start(): Promise<void> {
    const describing = this.options.mode === 'describe';
    if (this.options.handleSignals) this.installSignals();
    if (!describing) {
      if (this.wireless) this.log.info('wireless backend', { backend: this.wireless.backend, reason: this.wireless.reason });
      await this.startControl();
      await this.startUbus();
    }

    const candidates = await this.loadCandidates();
    for (const candidate of candidates) this.plugins.push(this.newRuntime(candidate));
    const { ordered, refused } = orderPlugins(
      this.plugins.map((p) => ({ name: p.name, version: p.version, dependencies: p.definition.dependencies ?? {}, runtime: p })),
    );
    for (const { plugin, error } of refused) this.refuse(plugin.runtime, error);
    // Start order = dependency order; refused plugins keep their place at the end.
    const order = ordered.map((o) => o.runtime);
    this.plugins.splice(0, this.plugins.length, ...order, ...refused.map((r) => r.plugin.runtime));

    for (const plugin of order) if (plugin.definition.offers) this.offers.register(plugin.definition.offers);
    for (const plugin of order) {
      if (this.stopping) return; // SIGTERM during boot: stop() takes it from here
      if (this.settings.disable.includes(plugin.name)) {
        plugin.state = 'disabled';
        this.log.info('plugin disabled by config', { plugin: plugin.name });
        continue;
      }
      await this.startWithConfig(plugin);
    }

    if (this.stopping || describing) return;
    this.bootInfo = { engine: this.platform.engine, version: WRTKIT_VERSION, plugins: order.map((p) => p.name) };
    await this.hooks.boot.promise(this.bootInfo);
    this.booted = true;
    await this.hooks.ready.promise();
    this.isReady = true;
    // after ready: the plugins' station taps are in place before the first event
    if (this.hostapd) await this.hostapd.start();
    this.phase = 'running';
    this.log.info('ready', {
      plugins: this.plugins.filter((p) => p.state === 'running').length,
      failed: this.plugins.filter((p) => p.state !== 'running').length,
      engine: this.platform.engine,
    });
    await this.composer.requestAll('boot');
  }

  /** Resolves when the host has stopped (after SIGTERM or stop()). */
  whenStopped(): Promise<void> {
    return this.stoppedSignal;
  }

  /**
   * Re-reads /etc/config: host settings, each plugin's config; starts what can start now.
   * Reloads run one after another (two quick SIGHUPs must not start a plugin twice).
   */
  reload(): Promise<ReloadReport> {
    const next = this.reloads.then(() => this.doReload());
    this.reloads = next.catch(() => undefined);
    return next;
  }

  private async doReload(): Promise<ReloadReport> {
    this.inReload = true;
    try {
      return await this.reloadOnce();
    } finally {
      this.inReload = false;
    }
  }

  private async reloadOnce(): Promise<ReloadReport> {
    const report: ReloadReport = { changed: [], started: [], stopped: [], invalid: [] };
    if (this.phase !== 'running') return report;
    this.settings = loadHostSettings(this.uci, this.log);
    this.setLogLevel(this.settings.logLevel);
    for (const plugin of this.plugins) {
      if (plugin.state === 'refused') continue;
      const wantDisabled = this.settings.disable.includes(plugin.name);
      if (wantDisabled) {
        if (plugin.state === 'running' || plugin.state === 'failed') {
          this.cancelRetry(plugin);
          await this.stopPlugin(plugin);
          report.stopped.push(plugin.name);
        }
        plugin.state = 'disabled';
        continue;
      }
      const result = this.loadConfig(plugin);
      if (!result.ok) {
        this.rejectConfig(plugin, result);
        report.invalid.push({ plugin: plugin.name, issues: result.issues });
        continue;
      }
      plugin.configIssues = [];
      if (plugin.state !== 'running') {
        // A reload is the user's way to revive a plugin: clear its failure count.
        this.cancelRetry(plugin);
        plugin.failures = 0;
        plugin.config = result.config;
        if (await this.startPlugin(plugin)) {
          await this.replayLifecycle(plugin);
          report.started.push(plugin.name);
        }
        continue;
      }
      if (JSON.stringify(result.config) !== JSON.stringify(plugin.config)) {
        const previous = plugin.config;
        plugin.config = result.config;
        report.changed.push(plugin.name);
        this.log.info('config changed', { plugin: plugin.name });
        await this.hooks.configChanged.promise({ plugin: plugin.name, config: result.config, previous });
      }
    }
    await this.composer.requestAll('reload');
    return report;
  }

  /** Fires shutdown, stops plugins in reverse start order, closes everything. */
  stop(info: ShutdownInfo = { reason: 'request' }): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop(info);
    return this.stopping;
  }

  private async doStop(info: ShutdownInfo): Promise<void> {
    this.phase = 'stopping';
    this.log.info('stopping', { reason: info.reason, ...(info.signal ? { signal: info.signal } : {}) });
    for (const plugin of this.plugins) this.cancelRetry(plugin);
    this.composer.stop();
    this.hostapd?.stop();
    try {
      await this.hooks.shutdown.promise(info);
    } catch (error) {
      this.log.error('shutdown hook failed', { error: messageOf(error) });
    }
    for (const plugin of [...this.plugins].reverse()) {
      if (plugin.state === 'running' || plugin.state === 'starting') {
        await this.stopPlugin(plugin);
        plugin.state = 'stopped';
      }
    }
    await this.control?.close();
    this.ubusRetry?.();
    this.ubus.stop();
    for (const off of this.signalOff.splice(0)) off();
    this.phase = 'stopped';
    this.log.info('stopped');
    this.resolveStopped();
  }

  status(): HostStatus {
    const counts: Record<string, number> = {};
    for (const plugin of this.plugins) counts[plugin.state] = (counts[plugin.state] ?? 0) + 1;
    return {
      version: WRTKIT_VERSION,
      engine: this.platform.engine,
      state: this.phase,
      uptimeMs: Math.round(this.clock.monotonic() - this.startedAt),
      configDir: this.configDir,
      pluginDir: this.pluginDir(),
      plugins: counts,
      problems: this.problems.map((p) => p.toJSON()),
      hostConfigIssues: this.settings.issues,
      compose: this.composer.describe(),
      offeredHooks: this.offers.describe(),
      ubus: this.ubus.connection?.connected
        ? { connected: true, path: this.ubus.connection.path, clientId: this.ubus.connection.clientId }
        : { connected: false },
      ...(this.wireless ? { wireless: this.wireless } : {}),
    };
  }

  pluginStatus(): PluginStatus[] {
    return this.plugins.map((p) => p.status());
  }

  /** Validates config as a reload would, without applying anything. */
  validate(): Array<{ plugin: string; ok: boolean; issues: ConfigIssue[] }> {
    const out: Array<{ plugin: string; ok: boolean; issues: ConfigIssue[] }> = [];
    const host = loadHostSettings(this.uci, undefined);
    out.push({ plugin: 'wrtkit', ok: host.issues.length === 0, issues: host.issues });
    for (const plugin of this.plugins) {
      if (plugin.state === 'refused') continue;
      const result = this.loadConfig(plugin);
      out.push({ plugin: plugin.name, ok: result.ok, issues: result.ok ? [] : result.issues });
    }
    return out;
  }

  find(name: string): PluginRuntime | undefined {
    return this.plugins.find((p) => p.name === name);
  }

  // ---- plugins ---------------------------------------------------------------------

  private async loadCandidates(): Promise<LoadedPlugin[]> {
    const candidates: LoadedPlugin[] = [];
    const dir = this.pluginDir();
    if (dir !== null) {
      const { loaded, problems } = await loadInstalledPlugins(this.platform, dir);
      candidates.push(...loaded);
      this.problems.push(...problems);
    }
    for (const { definition, manifest } of this.options.plugins ?? []) {
      try {
        const full = manifestOf(definition, manifest);
        checkDefinition(definition, full, 'in-process');
        candidates.push({ definition, manifest: full, origin: 'in-process' });
      } catch (error) {
        this.problems.push(error as WrtkitError);
      }
    }
    // Two plugins with one name: neither is trusted to be the right one.
    const seen = new Map<string, number>();
    for (const c of candidates) seen.set(c.manifest.name, (seen.get(c.manifest.name) ?? 0) + 1);
    for (const [name, count] of seen) {
      if (count > 1) {
        this.problems.push(
          new WrtkitError(ErrorCodes.DUPLICATE_PLUGIN, `plugin ${name} is installed ${count} times; none of them is loaded`, {
            plugin: name,
          }),
        );
      }
    }
    for (const problem of this.problems) this.log.error(problem.message, { code: problem.code, plugin: problem.plugin });
    return candidates.filter((c) => seen.get(c.manifest.name) === 1);
  }

  private newRuntime(candidate: LoadedPlugin): PluginRuntime {
    return new PluginRuntime(
      candidate.definition,
      candidate.manifest,
      this.clock,
      { hookTimeoutMs: () => this.settings.hookTimeoutMs },
      (plugin, error) => this.handleFailure(plugin, error),
    );
  }

  private refuse(plugin: PluginRuntime, error: WrtkitError): void {
    plugin.state = 'refused';
    plugin.recordError(error);
    this.log.error(error.message, { code: error.code, plugin: plugin.name });
  }

  private loadConfig(plugin: PluginRuntime): ConfigResult<unknown> {
    return loadPluginConfig(this.uci, plugin.definition, plugin.manifest.config);
  }

  private rejectConfig(plugin: PluginRuntime, result: Extract<ConfigResult<unknown>, { ok: false }>): void {
    plugin.configIssues = result.issues;
    plugin.recordError(result.error);
    const keeping = plugin.state === 'running' ? 'keeping the last good config' : 'not started';
    this.log.error(`${result.error.message}; ${keeping}`, { plugin: plugin.name, code: result.error.code });
    if (plugin.state !== 'running' && plugin.state !== 'failed' && plugin.state !== 'disabled') plugin.state = 'config-invalid';
  }

  private async startWithConfig(plugin: PluginRuntime): Promise<void> {
    const result = this.loadConfig(plugin);
    if (!result.ok) {
      this.rejectConfig(plugin, result);
      return;
    }
    plugin.config = result.config;
    await this.startPlugin(plugin);
  }

  /** Runs setup in a fresh child container; false (and reported) when it fails. */
  private async startPlugin(plugin: PluginRuntime): Promise<boolean> {
    const generation = plugin.nextGeneration();
    plugin.state = 'starting';
    const scope = this.root.createChildContainer();
    plugin.container = scope;
    const log = this.log.child(plugin.name);
    const store = new FileStateStore({
      fs: this.platform.fs,
      clock: this.clock,
      log,
      path: join(this.options.stateDir ?? this.settings.stateDir, `${plugin.name}.json`),
      flushDelayMs: this.settings.stateFlushDelayMs,
    });
    plugin.store = store;
    const processes = new ScopedProcesses(
      this.options.mode === 'describe' ? refuseProcesses : this.platform.processes,
      plugin.name,
      plugin.manifest.permissions?.exec ?? [],
      log,
    );
    const hooks = createPluginHooks(this.hooks, plugin, plugin.recorded);
    const host = this;
    const context: PluginContext<unknown> = {
      name: plugin.name,
      version: plugin.version,
      container: scope,
      hooks,
      hooksOf: (offer) => this.offers.view(offer, plugin, plugin.dependencies),
      get config() {
        return plugin.config;
      },
      log,
      clock: this.clock,
      state: store,
      processes,
      platform: this.platform,
      uci: createUciReader(this.uci),
      ubus: createPluginUbus(
        plugin.name,
        plugin.manifest.permissions?.ubus ?? [],
        () => this.ubus.connection,
        (stop) => {
          if (plugin.generation === generation) plugin.teardowns.push(stop);
        },
      ),
      serve(methods: MethodTable, name?: string) {
        if (plugin.generation !== generation) return;
        // An object the manifest lists in `objects` keeps its own name (`pirania` for
        // pirania-nftables, as deployments call it); anything else is `<plugin>.<name>`.
        const objectName =
          name === undefined ? plugin.name : (plugin.manifest.objects ?? []).includes(name) ? name : `${plugin.name}.${name}`;
        host.methods.register(objectName, methods, plugin.name);
      },
      async setConfig(edits: ConfigEdits) {
        const packageName = plugin.manifest.config ?? plugin.name;
        const { changed } = editPluginConfig(host.uci, plugin.definition, packageName, edits);
        if (!changed) return;
        log.info('config written', { package: packageName, options: Object.keys(edits).join(' ') });
        // Inside a reload (a configChanged tap) awaiting the next one would wait on itself.
        if (host.inReload) void host.reload();
        else await host.reload();
      },
      requestCompose(pkg: ComposedPackage, reason: string) {
        if (!ComposedPackages.includes(pkg)) {
          throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `unknown composed package ${String(pkg)}`, { plugin: plugin.name });
        }
        void host.composer.request(pkg, `${plugin.name}: ${reason}`);
      },
      onTeardown(fn: Teardown) {
        if (plugin.generation === generation) plugin.teardowns.push(fn);
      },
    };
    scope.register(Tokens.PluginName, { useValue: plugin.name });
    scope.register(Tokens.Logger, { useValue: log });
    scope.register(Tokens.Config, { useFactory: () => plugin.config });
    scope.register(Tokens.State, { useValue: store });
    scope.register(Tokens.Processes, { useValue: processes });
    scope.register(Tokens.Hooks, { useValue: hooks });
    scope.register(Tokens.PluginContext, { useValue: context });

    plugin.setAcceptingTaps(true);
    try {
      const teardown = await withTimeout(
        this.clock,
        Promise.resolve().then(() => plugin.definition.setup(context)),
        this.settings.setupTimeoutMs,
        () =>
          new WrtkitError(
            ErrorCodes.HOOK_TIMEOUT,
            `plugin ${plugin.name}: setup did not finish within ${this.settings.setupTimeoutMs} ms`,
            {
              plugin: plugin.name,
              hook: 'setup',
            },
          ),
      );
      if (typeof teardown === 'function') plugin.teardowns.push(teardown);
    } catch (error) {
      plugin.setAcceptingTaps(false);
      const wrapped =
        error instanceof WrtkitError && (error.code === ErrorCodes.HOOK_TIMEOUT || error.plugin === plugin.name)
          ? error
          : new WrtkitError(ErrorCodes.PLUGIN_SETUP, `plugin ${plugin.name} failed in setup: ${messageOf(error)}`, {
              plugin: plugin.name,
              hook: 'setup',
              cause: error,
            });
      this.handleFailure(plugin, wrapped);
      return false;
    }
    plugin.setAcceptingTaps(false);
    if (plugin.generation !== generation || plugin.state !== 'starting') return false;
    plugin.state = 'running';
    this.log.debug('plugin started', { plugin: plugin.name, generation });
    return true;
  }

  /** Undoes setup: teardowns in reverse, methods withdrawn, state flushed, scope disposed. */
  private async stopPlugin(plugin: PluginRuntime): Promise<void> {
    const teardowns = plugin.teardowns.splice(0).reverse();
    for (const teardown of teardowns) {
      try {
        await withTimeout(
          this.clock,
          Promise.resolve().then(teardown),
          this.settings.hookTimeoutMs,
          () =>
            new WrtkitError(ErrorCodes.HOOK_TIMEOUT, `plugin ${plugin.name}: teardown did not finish in time`, {
              plugin: plugin.name,
            }),
        );
      } catch (error) {
        const wrapped = new WrtkitError(
          ErrorCodes.PLUGIN_TEARDOWN,
          `plugin ${plugin.name} failed in teardown: ${messageOf(error)}`,
          {
            plugin: plugin.name,
            cause: error,
          },
        );
        plugin.recordError(wrapped);
        this.log.error(wrapped.message, { plugin: plugin.name, code: wrapped.code });
      }
    }
    this.methods.unregisterPlugin(plugin.name);
    plugin.store?.flush();
    try {
      await plugin.container?.dispose();
    } catch (error) {
      this.log.warn('disposing the plugin scope failed', { plugin: plugin.name, error: messageOf(error) });
    }
    plugin.container = undefined;
  }

  /**
   * A tap or setup failed: report it, switch the plugin off, retry with backoff. Each
   * generation fails at most once; its taps already pass through.
   */
  private handleFailure(plugin: PluginRuntime, error: WrtkitError): void {
    if (plugin.state !== 'running' && plugin.state !== 'starting') return;
    plugin.recordError(error);
    plugin.state = 'failed';
    plugin.failures++;
    this.log.error(error.message, { plugin: plugin.name, code: error.code, ...(error.hook ? { hook: error.hook } : {}) });
    void this.stopPlugin(plugin).then(() => this.scheduleRetry(plugin));
  }

  private scheduleRetry(plugin: PluginRuntime): void {
    if (this.phase === 'stopping' || this.phase === 'stopped' || plugin.state !== 'failed') return;
    if (plugin.failures > this.settings.retryLimit) {
      plugin.state = 'disabled';
      this.log.error(`plugin ${plugin.name} disabled after ${plugin.failures} failures; \`wrtkit reload\` tries again`, {
        plugin: plugin.name,
        code: ErrorCodes.PLUGIN_DISABLED,
      });
      return;
    }
    const delay = Math.min(this.settings.retryInitialMs * 2 ** (plugin.failures - 1), this.settings.retryMaxMs);
    plugin.retryAt = this.clock.monotonic() + delay;
    this.log.info('plugin will be retried', { plugin: plugin.name, inMs: delay, attempt: plugin.failures });
    plugin.retryCancel = this.clock.setTimeout(() => {
      plugin.retryCancel = undefined;
      plugin.retryAt = undefined;
      void this.retry(plugin);
    }, delay);
  }

  private async retry(plugin: PluginRuntime): Promise<void> {
    if (plugin.state !== 'failed' || this.phase !== 'running') return;
    const result = this.loadConfig(plugin);
    if (!result.ok) {
      this.rejectConfig(plugin, result);
      return;
    }
    plugin.config = result.config;
    if (await this.startPlugin(plugin)) {
      this.log.info('plugin restarted', { plugin: plugin.name, generation: plugin.generation });
      await this.replayLifecycle(plugin);
    }
  }

  private cancelRetry(plugin: PluginRuntime): void {
    plugin.retryCancel?.();
    plugin.retryCancel = undefined;
    plugin.retryAt = undefined;
  }

  /** A plugin started after boot gets the boot and ready calls it missed, then composition. */
  private async replayLifecycle(plugin: PluginRuntime): Promise<void> {
    if (this.booted && this.bootInfo) for (const fn of plugin.recorded.get('boot') ?? []) await fn(this.bootInfo);
    if (this.isReady) for (const fn of plugin.recorded.get('ready') ?? []) await fn();
    const composes = ComposedPackages.filter((pkg) => plugin.mayWriteUci(pkg));
    for (const pkg of composes) void this.composer.request(pkg, `${plugin.name} started`);
  }

  // ---- settings, control socket, signals -------------------------------------------

  private pluginDir(): string | null {
    if (this.options.pluginDir === null) return null;
    return this.options.pluginDir ?? this.settings.pluginDir;
  }

  private applyCommand(pkg: ComposedPackage): readonly string[] | undefined {
    return this.settings.apply[pkg]?.command ?? DEFAULT_APPLY_COMMANDS[pkg];
  }

  /** The file applier for every package but `wireless`, which gets its backend. */
  private defaultApplier(wireless: WirelessChoice): ConfigApplier {
    const files = new UciFileApplier(
      this.platform.fs,
      this.platform.processes,
      this.configDir,
      (pkg) => this.applyCommand(pkg),
      this.log,
    );
    const wirelessApplier = createWirelessApplier(wireless, {
      platform: this.platform,
      clock: this.clock,
      configDir: this.configDir,
      settings: this.settings.wireless,
      command: () => this.applyCommand('wireless') ?? DEFAULT_APPLY_COMMANDS.wireless,
      loadCommitted: () => this.uci.loadCommitted('wireless'),
      log: this.log,
      files,
    });
    return new PerPackageApplier({ wireless: wirelessApplier }, files);
  }

  private async startControl(): Promise<void> {
    const path = this.options.controlSocket === undefined ? this.settings.controlSocket : this.options.controlSocket;
    if (path === null) return;
    if (!this.platform.sockets) {
      this.log.info('no control socket on this engine (sockets arrive with core/native); use signals or ubus', {
        engine: this.platform.engine,
      });
      return;
    }
    this.control = new ControlServer(this.platform.sockets, this.methods, this.log);
    try {
      await this.control.listen(path);
    } catch (error) {
      this.control = undefined;
      this.problems.push(
        error instanceof WrtkitError
          ? error
          : new WrtkitError(ErrorCodes.IO, `control socket ${path}: ${messageOf(error)}`, { cause: error }),
      );
      this.log.error('cannot serve the control socket; running without it', { path, error: messageOf(error) });
    }
  }

  /**
   * Serves the registry on ubus when ubusd is there (always on OpenWrt). Where it is not
   * there yet, the host looks again every UBUS_RETRY_MS; once connected, the client
   * itself reconnects after ubusd restarts.
   */
  private async startUbus(): Promise<void> {
    const path = this.options.ubusSocket === undefined ? this.settings.ubusSocket : this.options.ubusSocket;
    if (path === null || !this.platform.sockets) return;
    const sockets = this.platform.sockets;
    const attempt = async (first: boolean): Promise<void> => {
      if (this.stopping) return;
      if (this.platform.fs.exists(path)) {
        try {
          await this.ubus.start(sockets, this.clock, path);
          return;
        } catch (error) {
          this.ubus.stop();
          this.log.warn('ubusd is not answering; trying again later', { path, error: messageOf(error) });
        }
      } else if (first) {
        this.log.info('no ubusd; serving the control socket only (will look for ubusd again)', { path });
      }
      this.ubusRetry = this.clock.setTimeout(() => void attempt(false), UBUS_RETRY_MS);
    };
    await attempt(true);
  }

  private installSignals(): void {
    const stopOn = (signal: SignalName) =>
      this.platform.signals.on(signal, () => {
        void this.stop({ reason: 'signal', signal });
      });
    this.signalOff.push(stopOn('SIGTERM'), stopOn('SIGINT'));
    this.signalOff.push(
      this.platform.signals.on('SIGHUP', () => {
        this.log.info('SIGHUP: reloading config');
        this.reload().catch((error: unknown) => this.log.error('reload failed', { error: messageOf(error) }));
      }),
    );
  }
}

/** How often a host without ubusd looks for it again. */
const UBUS_RETRY_MS = 10_000;

/** The process runner of a describing host: plugins must not act while only being described. */
const refuseProcesses: Processes = {
  run: () =>
    Promise.reject(new WrtkitError(ErrorCodes.UNSUPPORTED, 'no programs run while plugins are only described (wrtkit acl)')),
  spawn: () => {
    throw new WrtkitError(ErrorCodes.UNSUPPORTED, 'no programs run while plugins are only described (wrtkit acl)');
  },
  which: () => undefined,
};
