/**
 * hostapd's control interface: one unix datagram socket per BSS, `<ctrl_dir>/<ifname>`.
 * A client sends a command as one datagram (`STATUS`, `SET ssid x`, `RELOAD`) and hostapd
 * answers to the client's own address with one datagram (`OK`, `FAIL`, or text).
 */
import type { Clock } from '../../clock/clock.js';
import { ErrorCodes, WrtkitError, messageOf } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { Processes, Sockets } from '../../platform/platform.js';
import { join } from '../../util/path.js';
import { withTimeout } from '../../util/timeout.js';
import { utf8Decode, utf8Encode } from '../../util/utf8.js';

/** How long hostapd may take to answer one command (hostapd_cli waits 10 s; ours are quick). */
export const HOSTAPD_REPLY_TIMEOUT_MS = 5_000;

export interface HostapdControl {
  /** Sends one command to the hostapd serving `ifname`; resolves with its reply. */
  request(ifname: string, command: string): Promise<string>;
}

/** What a command is called in messages: a SET without its value, which may be a key. */
export function commandLabel(command: string): string {
  return command.startsWith('SET ') ? command.split(' ', 2).join(' ') : command;
}

function unreachable(socket: string, command: string, cause: unknown): WrtkitError {
  return new WrtkitError(
    ErrorCodes.APPLY_FAILED,
    `hostapd control socket ${socket}: ${commandLabel(command)}: ${messageOf(cause)}`,
    {
      cause,
      details: { socket },
    },
  );
}

/**
 * Through the platform's unix datagram sockets (QuickJS with core/native). The client
 * socket is autobound (an abstract name the kernel picks), so hostapd can answer and no
 * socket file is left behind, even when the host is killed mid-request. One socket per
 * command: a late answer to a timed-out command can never pass for the next one's.
 */
export class SocketHostapdControl implements HostapdControl {
  constructor(
    private readonly sockets: Sockets,
    private readonly clock: Clock,
    private readonly ctrlDir: string,
    private readonly timeoutMs = HOSTAPD_REPLY_TIMEOUT_MS,
  ) {}

  async request(ifname: string, command: string): Promise<string> {
    const path = join(this.ctrlDir, ifname);
    const socket = await this.sockets.openDatagram({ family: 'unix' });
    try {
      const reply = new Promise<string>((resolve) => socket.onMessage((data) => resolve(utf8Decode(data))));
      try {
        await socket.send(utf8Encode(command), path);
      } catch (error) {
        throw unreachable(path, command, error);
      }
      return await withTimeout(
        this.clock,
        reply,
        this.timeoutMs,
        () =>
          new WrtkitError(
            ErrorCodes.APPLY_FAILED,
            `hostapd did not answer ${commandLabel(command)} on ${path} within ${this.timeoutMs} ms`,
            {
              details: { socket: path },
            },
          ),
      );
    } finally {
      socket.close();
    }
  }
}

/**
 * Through `hostapd_cli` (an argv, no shell), which speaks the same protocol over the same
 * socket: for Node.js, which has no unix datagram sockets.
 */
export class CliHostapdControl implements HostapdControl {
  constructor(
    private readonly processes: Processes,
    private readonly program: string,
    private readonly ctrlDir: string,
    private readonly timeoutMs = HOSTAPD_REPLY_TIMEOUT_MS,
  ) {}

  async request(ifname: string, command: string): Promise<string> {
    const path = join(this.ctrlDir, ifname);
    // hostapd_cli's `set` takes the name and the value as two arguments, the value whole;
    // other commands are one word each (`bss_tm_req <addr> …`: hostapd_cli joins them again).
    const words = command.startsWith('SET ') ? ['SET', ...splitOnce(command.slice(4))] : command.split(' ');
    const result = await this.processes.run([this.program, '-p', this.ctrlDir, '-i', ifname, ...words], {
      timeoutMs: this.timeoutMs,
    });
    if (result.timedOut) {
      throw new WrtkitError(
        ErrorCodes.APPLY_FAILED,
        `hostapd did not answer ${commandLabel(command)} on ${path} within ${this.timeoutMs} ms`,
        {
          details: { socket: path },
        },
      );
    }
    if (result.exitCode !== 0) {
      throw unreachable(
        path,
        command,
        new Error((result.stderr || result.stdout).trim() || `hostapd_cli exited with ${result.exitCode}`),
      );
    }
    return result.stdout;
  }
}

function splitOnce(text: string): string[] {
  const space = text.indexOf(' ');
  return space < 0 ? [text] : [text.slice(0, space), text.slice(space + 1)];
}

/**
 * The control client for this engine: the platform's sockets where it has unix datagram
 * sockets (qjs with core/native), hostapd_cli where it does not (Node.js). Which one is
 * learnt from the first request: only opening a socket tells.
 */
export class HostapdControlClient implements HostapdControl {
  private viaCli: boolean;

  constructor(
    private readonly deps: { sockets: Sockets | undefined; processes: Processes; clock: Clock; ctrlDir: string; log: Logger },
  ) {
    this.viaCli = deps.sockets === undefined;
  }

  async request(ifname: string, command: string): Promise<string> {
    const { sockets, processes, clock, ctrlDir, log } = this.deps;
    if (!this.viaCli && sockets) {
      try {
        return await new SocketHostapdControl(sockets, clock, ctrlDir).request(ifname, command);
      } catch (error) {
        if (!(error instanceof WrtkitError && error.code === ErrorCodes.UNSUPPORTED)) throw error;
        this.viaCli = true;
        log.info('no unix datagram sockets on this engine; talking to hostapd through hostapd_cli');
      }
    }
    const program = processes.which('hostapd_cli');
    if (program === undefined) {
      throw new WrtkitError(
        ErrorCodes.APPLY_FAILED,
        'cannot reach hostapd: this engine has no unix datagram sockets (run on qjs with core/native) and hostapd_cli is not installed',
      );
    }
    return new CliHostapdControl(processes, program, ctrlDir).request(ifname, command);
  }
}
