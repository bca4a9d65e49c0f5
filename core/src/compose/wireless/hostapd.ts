import { ErrorCodes, WrtkitError, messageOf } from '../../errors.js';
import type { ComposedPackage } from '../../hooks/events.js';
import type { Logger } from '../../log/logger.js';
import type { FileSystem } from '../../platform/platform.js';
import { type UciChange, type UciPackage, exportUci } from '../../uci/index.js';
import { join } from '../../util/path.js';
import type { ConfigApplier } from '../applier.js';
import { type HostapdControl, commandLabel } from './hostapd-control.js';
import {
  FIXED_SETTINGS,
  type HostapdBss,
  RADIO_SETTINGS,
  formatHostapdConf,
  hostapdBsses,
  parseHostapdConf,
} from './hostapd-config.js';

export interface HostapdApplierOptions {
  fs: FileSystem;
  /** Where /etc/config/wireless lives. */
  configDir: string;
  /** wrtkit.main.hostapd_conf_dir: each BSS's file is <dir>/<ifname>.conf. */
  confDir: string;
  /** wrtkit.main.hostapd_ctrl_dir: each BSS's control socket is <dir>/<ifname>. */
  ctrlDir: string;
  /** wrtkit.main.hostapd_driver. */
  driver: string;
  control: HostapdControl;
  /** The committed `wireless` package as it was before this apply. */
  loadCommitted: () => UciPackage | undefined;
  log: Logger;
}

/** One BSS hostapd is told about. */
interface Plan {
  ifname: string;
  section: string;
  enabled: boolean;
  /** Settings to push (SET), those of the file that differ from the file hostapd had. */
  sets: Array<readonly [string, string]>;
  radioChanged: boolean;
}

/** hostapd's interface states in which the BSS is not running (ENABLE starts it). */
const STOPPED_STATES = new Set(['DISABLED', 'UNINITIALIZED']);

/**
 * The wireless backend for plain Linux, where hostapd runs without OpenWrt's netifd:
 * every AP BSS gets its own hostapd config file, and the hostapd serving it is told
 * through its control socket — only the BSSes whose file or enabled state changed, so
 * the stations of the others stay associated.
 *
 * hostapd's RELOAD re-applies the configuration it holds in memory; it does not read the
 * file again (2.10; SIGHUP does, but for every BSS of the process). So the settings that
 * changed are pushed first with SET, then: a BSS that became disabled gets DISABLE, one
 * that is stopped and wanted gets ENABLE, a changed radio (channel, band, country) gets
 * DISABLE + ENABLE, anything else RELOAD. STATUS is asked first, so that commands match
 * the state hostapd reports, not the one UCI had.
 */
export class HostapdApplier implements ConfigApplier {
  constructor(private readonly options: HostapdApplierOptions) {}

  async apply(pkg: ComposedPackage, desired: UciPackage, changes: readonly UciChange[]): Promise<void> {
    if (changes.length === 0) return;
    const { fs, configDir, confDir, ctrlDir, driver, log } = this.options;
    const { bsses, problems } = hostapdBsses(desired, { ctrlDir, driver });
    if (problems.length > 0) {
      // Nothing is written: a half-applied wireless config is worse than the old one.
      const first = problems[0] as WrtkitError;
      throw problems.length === 1
        ? first
        : new WrtkitError(ErrorCodes.CONFIG_INVALID, problems.map((p) => p.message).join('; '), {
            uciPath: first.uciPath,
            details: { problems: problems.map((p) => p.uciPath) },
          });
    }
    const before = this.previousBsses();

    fs.writeAtomic(join(configDir, pkg), exportUci(desired, { mode: 'commit' }));
    fs.mkdirp(confDir);
    const plans: Plan[] = [];
    for (const bss of bsses) {
      const plan = this.writeBss(bss, before.get(bss.ifname));
      if (plan) plans.push(plan);
    }
    const wanted = new Set(bsses.map((b) => b.ifname));
    for (const [ifname, old] of before) {
      // A BSS that is gone (section removed, renamed interface, no longer an AP) stops.
      if (!wanted.has(ifname) && old.enabled)
        plans.push({ ifname, section: old.section, enabled: false, sets: [], radioChanged: false });
    }

    const failures: WrtkitError[] = [];
    for (const plan of plans) {
      try {
        await this.tell(plan);
      } catch (error) {
        failures.push(
          error instanceof WrtkitError
            ? error
            : new WrtkitError(ErrorCodes.APPLY_FAILED, `${plan.ifname}: ${messageOf(error)}`, { cause: error }),
        );
      }
    }
    if (failures.length === 1) throw failures[0] as WrtkitError;
    if (failures.length > 1) {
      throw new WrtkitError(ErrorCodes.APPLY_FAILED, failures.map((f) => f.message).join('; '), {
        ...(failures[0]?.uciPath ? { uciPath: failures[0].uciPath } : {}),
        details: { package: pkg, failed: failures.length, bsses: plans.length },
      });
    }
    log.info('applied', { package: pkg, backend: 'hostapd', bsses: plans.map((p) => p.ifname).join(' ') || 'none' });
  }

  /** The BSSes of the committed package, leniently: a broken old config just means "changed". */
  private previousBsses(): Map<string, HostapdBss> {
    let committed: UciPackage | undefined;
    try {
      committed = this.options.loadCommitted();
    } catch {
      committed = undefined;
    }
    const out = new Map<string, HostapdBss>();
    if (!committed) return out;
    const { ctrlDir, driver } = this.options;
    for (const bss of hostapdBsses(committed, { ctrlDir, driver }).bsses) out.set(bss.ifname, bss);
    return out;
  }

  /** Writes the BSS's file when it differs; what hostapd must be told, or nothing. */
  private writeBss(bss: HostapdBss, old: HostapdBss | undefined): Plan | undefined {
    const { fs, confDir, log } = this.options;
    const path = join(confDir, `${bss.ifname}.conf`);
    const text = formatHostapdConf(bss);
    const previous = fs.tryReadText(path);
    if (text === previous && old?.enabled === bss.enabled) return undefined;
    // 0600: the file holds the Wi-Fi key.
    if (text !== previous) fs.writeAtomic(path, text, { mode: 0o600 });

    const had = previous === undefined ? new Map<string, string>() : parseHostapdConf(previous);
    const sets = bss.settings.filter(([key, value]) => !FIXED_SETTINGS.has(key) && had.get(key) !== value);
    const fixed = bss.settings.filter(([key, value]) => FIXED_SETTINGS.has(key) && had.has(key) && had.get(key) !== value);
    const dropped = [...had.keys()].filter((key) => RADIO_SETTINGS.has(key) && !bss.settings.some(([k]) => k === key));
    if (fixed.length > 0 || dropped.length > 0) {
      log.warn('hostapd keeps these settings until it is restarted', {
        ifname: bss.ifname,
        settings: [...fixed.map(([k]) => k), ...dropped].join(' '),
      });
    }
    return {
      ifname: bss.ifname,
      section: bss.section,
      enabled: bss.enabled,
      sets,
      radioChanged: sets.some(([key]) => RADIO_SETTINGS.has(key)),
    };
  }

  private async tell(plan: Plan): Promise<void> {
    const { fs, ctrlDir, confDir, log } = this.options;
    const socket = join(ctrlDir, plan.ifname);
    if (!fs.exists(socket)) {
      // hostapd not running for a BSS that is to be off is what was asked for.
      if (!plan.enabled) return;
      throw new WrtkitError(
        ErrorCodes.APPLY_FAILED,
        `${plan.section}: hostapd is not running for ${plan.ifname} (no control socket ${socket}); its config is written to ${join(confDir, `${plan.ifname}.conf`)}`,
        { uciPath: plan.section, details: { ifname: plan.ifname, socket } },
      );
    }
    const sent: string[] = [];
    const run = async (command: string): Promise<string> => {
      const reply = await this.options.control.request(plan.ifname, command);
      sent.push(commandLabel(command));
      return reply;
    };
    const expectOk = async (command: string): Promise<void> => {
      const reply = (await run(command)).trim();
      if (reply !== 'OK') {
        throw new WrtkitError(
          ErrorCodes.APPLY_FAILED,
          `${plan.section}: hostapd ${plan.ifname} refused ${commandLabel(command)}: ${reply || 'no answer'}`,
          { uciPath: plan.section, details: { ifname: plan.ifname, socket, reply } },
        );
      }
    };

    const state = /^state=(.*)$/m.exec(await run('STATUS'))?.[1] ?? 'UNKNOWN';
    const stopped = STOPPED_STATES.has(state);
    // SET also on a BSS that stays off: ENABLE starts from what hostapd holds in memory.
    for (const [key, value] of plan.sets) await expectOk(`SET ${key} ${value}`);
    if (!plan.enabled) {
      if (!stopped) await expectOk('DISABLE');
    } else if (stopped) {
      await expectOk('ENABLE');
    } else if (plan.radioChanged) {
      await expectOk('DISABLE');
      await expectOk('ENABLE');
    } else if (plan.sets.length > 0) {
      await expectOk('RELOAD');
    }
    log.info('hostapd told', { ifname: plan.ifname, was: state, commands: sent.join(', ') });
  }
}
