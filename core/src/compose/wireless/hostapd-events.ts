/**
 * hostapd's events, as hostapd_cli's interactive mode gets them: a client socket sends
 * `ATTACH` to a BSS's control socket and from then on hostapd sends it every event as a
 * datagram, `<level>TEXT` (`<3>AP-STA-CONNECTED 02:00:00:00:01:00`). hostapd forgets a
 * monitor it cannot deliver to and knows nothing of it after a restart, so each attachment
 * is checked with `PING` and made again when that fails; BSSes are found as the sockets
 * in the control directory (one per ifname), so BSSes that come and go are followed.
 *
 * Station events go to the host's `station` hook (see docs/hooks.md); every event line
 * is also handed to `onEvent` for whoever wants more (BSS-TM-RESP, beacon reports).
 */
import type { Cancel, Clock } from '../../clock/clock.js';
import { messageOf } from '../../errors.js';
import type { StationEvent } from '../../hooks/events.js';
import type { Logger } from '../../log/logger.js';
import type { DatagramSocket, FileSystem, Sockets } from '../../platform/platform.js';
import { join } from '../../util/path.js';
import { utf8Decode, utf8Encode } from '../../util/utf8.js';

/** How often the control directory is looked at for new BSSes, and attachments are checked. */
export const HOSTAPD_EVENTS_CHECK_MS = 5000;
/** How long hostapd may take to answer ATTACH or PING. */
export const HOSTAPD_EVENTS_REPLY_MS = 2000;

const STATION_EVENTS: Record<string, StationEvent['event']> = {
  'AP-STA-CONNECTED': 'assoc',
  'AP-STA-DISCONNECTED': 'disassoc',
};

/** A station event out of one event datagram of the BSS `ifname`, or undefined. */
export function parseHostapdEvent(ifname: string, text: string): StationEvent | undefined {
  const m = /^<\d+>(\S+)\s+([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})\b/.exec(text.trim());
  if (!m) return undefined;
  const event = STATION_EVENTS[m[1] ?? ''];
  return event ? { ifname, mac: (m[2] ?? '').toLowerCase(), event } : undefined;
}

interface Attachment {
  ifname: string;
  socket: DatagramSocket;
  /** The reply to the command in flight (ATTACH, PING). */
  waiting?: (text: string) => void;
}

export interface HostapdEventsOptions {
  sockets: Sockets;
  fs: Pick<FileSystem, 'list'>;
  clock: Clock;
  log: Logger;
  ctrlDir: string;
  onStation: (event: StationEvent) => void;
  onEvent?: (ifname: string, text: string) => void;
}

export class HostapdEvents {
  private readonly attached = new Map<string, Attachment>();
  private readonly attaching = new Set<string>();
  private timer: Cancel | undefined;
  private stopped = false;

  constructor(private readonly options: HostapdEventsOptions) {}

  /** The BSSes attached to now. */
  get ifnames(): string[] {
    return [...this.attached.keys()].sort();
  }

  /** Attaches to every BSS there is now, and looks again every HOSTAPD_EVENTS_CHECK_MS. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.check();
    this.timer = this.options.clock.setInterval(() => void this.check(), HOSTAPD_EVENTS_CHECK_MS);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.();
    this.timer = undefined;
    for (const a of this.attached.values()) a.socket.close();
    this.attached.clear();
  }

  /** New sockets attached, gone ones dropped, live ones PINGed (re-attached when hostapd forgot us). */
  async check(): Promise<void> {
    const { fs, ctrlDir } = this.options;
    const present = new Set(
      fs
        .list(ctrlDir)
        .filter((e) => e.kind === 'other')
        .map((e) => e.name),
    );
    for (const [ifname, a] of this.attached) {
      if (!present.has(ifname)) this.drop(a, 'its control socket is gone');
    }
    await Promise.all(
      [...present].map(async (ifname) => {
        const a = this.attached.get(ifname);
        if (a) {
          const pong = await this.command(a, 'PING').catch(() => undefined);
          if (pong?.trim() === 'PONG') return;
          this.drop(a, 'it did not answer PING');
        }
        await this.attach(ifname);
      }),
    );
  }

  private drop(a: Attachment, why: string): void {
    a.socket.close();
    if (this.attached.get(a.ifname) === a) this.attached.delete(a.ifname);
    this.options.log.debug('hostapd events: detached', { ifname: a.ifname, why });
  }

  private async attach(ifname: string): Promise<void> {
    if (this.attaching.has(ifname) || this.stopped) return;
    this.attaching.add(ifname);
    const { sockets, log, onStation, onEvent } = this.options;
    let socket: DatagramSocket | undefined;
    try {
      socket = await sockets.openDatagram({ family: 'unix' });
      const a: Attachment = { ifname, socket };
      socket.onMessage((data) => {
        const text = utf8Decode(data);
        if (text.startsWith('<')) {
          onEvent?.(ifname, text);
          const station = parseHostapdEvent(ifname, text);
          if (station) onStation(station);
          return;
        }
        const waiting = a.waiting;
        a.waiting = undefined;
        waiting?.(text);
      });
      const reply = await this.command(a, 'ATTACH');
      if (reply.trim() !== 'OK') throw new Error(`ATTACH answered ${reply.trim() || '(nothing)'}`);
      if (this.stopped) {
        socket.close();
        return;
      }
      this.attached.set(ifname, a);
      log.info('hostapd events: attached', { ifname });
    } catch (error) {
      socket?.close();
      log.debug('hostapd events: cannot attach', { ifname, error: messageOf(error) });
    } finally {
      this.attaching.delete(ifname);
    }
  }

  private command(a: Attachment, command: string): Promise<string> {
    const { clock, ctrlDir } = this.options;
    return new Promise<string>((resolve, reject) => {
      const cancel = clock.setTimeout(() => {
        a.waiting = undefined;
        reject(new Error(`no answer to ${command} within ${HOSTAPD_EVENTS_REPLY_MS} ms`));
      }, HOSTAPD_EVENTS_REPLY_MS);
      a.waiting = (text) => {
        cancel();
        resolve(text);
      };
      a.socket.send(utf8Encode(command), join(ctrlDir, a.ifname)).catch((error: unknown) => {
        cancel();
        a.waiting = undefined;
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }
}
