/**
 * What the host offers around a plain hostapd (wireless backend `hostapd`: Linux without
 * OpenWrt's netifd, where hostapd has no ubus object): its station events on the
 * `station` hook, and the object `wrtkit.hostapd` with the calls a steering plugin needs,
 * in the words of OpenWrt's `hostapd.<ifname>` ubus object. Events need unix datagram
 * sockets (qjs with core/native, the router engine); commands fall back to hostapd_cli.
 */
import { HostapdEvents } from '../compose/wireless/hostapd-events.js';
import { type BssTransitionRequest, bssTransitionCommand } from '../compose/wireless/bss-transition.js';
import { HostapdControlClient } from '../compose/wireless/hostapd-control.js';
import type { Clock } from '../clock/clock.js';
import { method } from '../control/methods.js';
import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import type { StationEvent } from '../hooks/events.js';
import type { Logger } from '../log/logger.js';
import type { Platform } from '../platform/platform.js';

const IFNAME = { type: 'string', pattern: '^[A-Za-z0-9_.@-]{1,15}$', description: 'the BSS (its ifname)' } as const;
const MAC = { type: 'string', pattern: '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$' } as const;

export class HostapdService {
  readonly control: HostapdControlClient;
  private events: HostapdEvents | undefined;
  private eventsProblem: string | undefined;

  constructor(
    private readonly deps: {
      platform: Pick<Platform, 'fs' | 'processes' | 'sockets'>;
      clock: Clock;
      log: Logger;
      ctrlDir: string;
      onStation: (event: StationEvent) => void;
    },
  ) {
    this.control = new HostapdControlClient({
      sockets: deps.platform.sockets,
      processes: deps.platform.processes,
      clock: deps.clock,
      ctrlDir: deps.ctrlDir,
      log: deps.log,
    });
  }

  /** Starts following hostapd's events (where the engine has unix datagram sockets). */
  async start(): Promise<void> {
    const { platform, clock, log, ctrlDir, onStation } = this.deps;
    const sockets = platform.sockets;
    if (!sockets) {
      this.eventsProblem = 'no sockets on this engine';
      return;
    }
    try {
      (await sockets.openDatagram({ family: 'unix' })).close();
    } catch (error) {
      // Node.js has no unix datagram sockets: station events need the router engine (qjs)
      this.eventsProblem = messageOf(error);
      log.info('hostapd station events need unix datagram sockets (qjs with core/native); not following them', {
        reason: this.eventsProblem,
      });
      return;
    }
    this.events = new HostapdEvents({ sockets, fs: platform.fs, clock, log, ctrlDir, onStation });
    await this.events.start();
  }

  stop(): void {
    this.events?.stop();
    this.events = undefined;
  }

  private async ask(ifname: string, command: string): Promise<string> {
    return (await this.control.request(ifname, command)).trim();
  }

  methods() {
    return {
      status: method(
        {
          access: 'read',
          description: 'the control directory, the BSSes whose events are followed (station events on the station hook)',
          schema: { type: 'object', properties: {}, additionalProperties: false },
        },
        () => ({
          ctrl_dir: this.deps.ctrlDir,
          events: this.events
            ? { attached: this.events.ifnames }
            : { attached: [], problem: this.eventsProblem ?? 'not started' },
        }),
      ),
      get_clients: method(
        {
          access: 'read',
          description: "the stations of one BSS with hostapd's STA fields (as hostapd.<ifname> get_clients)",
          schema: { type: 'object', properties: { ifname: IFNAME }, required: ['ifname'], additionalProperties: false },
        },
        async (args: { ifname: string }) => {
          const clients: Record<string, Record<string, string>> = {};
          let reply = await this.ask(args.ifname, 'STA-FIRST');
          for (let i = 0; i < 2048 && reply !== '' && reply !== 'FAIL'; i++) {
            const [mac = '', ...lines] = reply.split('\n');
            clients[mac.toLowerCase()] = Object.fromEntries(
              lines.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
            );
            reply = await this.ask(args.ifname, `STA-NEXT ${mac}`);
          }
          return { clients };
        },
      ),
      bss_transition_request: method(
        {
          access: 'write',
          description:
            "asks a station to move (802.11v BSS Transition Management), with hostapd.<ifname> bss_transition_request's arguments",
          schema: {
            type: 'object',
            properties: {
              ifname: IFNAME,
              addr: MAC,
              neighbors: { type: 'array', items: { type: 'string', pattern: '^([0-9A-Fa-f]{2}){13,}$' }, maxItems: 16 },
              abridged: { type: 'boolean' },
              disassociation_imminent: { type: 'boolean' },
              disassociation_timer: { type: 'integer', minimum: 0, maximum: 65535 },
              validity_period: { type: 'integer', minimum: 0, maximum: 255 },
              dialog_token: { type: 'integer', minimum: 0, maximum: 255 },
            },
            required: ['ifname', 'addr'],
            additionalProperties: false,
          },
        },
        async (args: BssTransitionRequest & { ifname: string }) => {
          const { ifname, ...request } = args;
          const command = bssTransitionCommand(request);
          const reply = await this.ask(ifname, command);
          if (reply !== 'OK') {
            throw new WrtkitError(
              ErrorCodes.METHOD_FAILED,
              `hostapd on ${ifname} refused BSS_TM_REQ: ${reply || '(no answer)'}`,
              {
                details: { command },
              },
            );
          }
          return { ok: true, command };
        },
      ),
    };
  }
}
