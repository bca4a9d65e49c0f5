import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { CliHostapdControl, HostapdControlClient, SocketHostapdControl } from '../../src/compose/wireless/hostapd-control.js';
import { ErrorCodes, WrtkitError } from '../../src/errors.js';
import { createLogger } from '../../src/log/logger.js';
import type { DatagramAddress, DatagramSocket, ProcessResult, Processes, Sockets } from '../../src/platform/platform.js';
import { utf8Decode, utf8Encode } from '../../src/util/utf8.js';

const log = createLogger(() => undefined, 'wrtkit').logger;

/** Sockets whose datagrams reach `answer`; what it returns comes back as the reply. */
function fakeSockets(answer: (command: string, to: string) => string | undefined | Error) {
  const opened: Array<{ bind: unknown; closed: boolean }> = [];
  const sockets = {
    async openDatagram(options: { family: string; bind?: unknown }): Promise<DatagramSocket> {
      const record = { bind: options.bind, closed: false };
      opened.push(record);
      let handler: ((data: Uint8Array, from: DatagramAddress) => void) | undefined;
      return {
        async send(data, to) {
          const reply = answer(utf8Decode(data), to as string);
          if (reply instanceof Error) throw reply;
          if (reply !== undefined) queueMicrotask(() => handler?.(utf8Encode(reply), to));
        },
        onMessage: (h) => void (handler = h),
        address: () => '',
        close: () => void (record.closed = true),
      };
    },
  } as unknown as Sockets;
  return { sockets, opened };
}

describe('hostapd control client', () => {
  it('sends one command per autobound socket and reads the reply', async () => {
    const seen: Array<[string, string]> = [];
    const { sockets, opened } = fakeSockets((command, to) => {
      seen.push([to, command]);
      return command === 'PING' ? 'PONG\n' : 'OK\n';
    });
    const control = new SocketHostapdControl(sockets, new FakeClock(), '/var/run/hostapd');
    expect(await control.request('wlan0', 'PING')).toBe('PONG\n');
    expect(await control.request('wlan1', 'SET ssid Two words')).toBe('OK\n');
    expect(seen).toEqual([
      ['/var/run/hostapd/wlan0', 'PING'],
      ['/var/run/hostapd/wlan1', 'SET ssid Two words'],
    ]);
    // No bind path: the kernel's autobind name, nothing left in the filesystem.
    expect(opened).toEqual([
      { bind: undefined, closed: true },
      { bind: undefined, closed: true },
    ]);
  });

  it('names the socket when hostapd is not there, and gives up after the time limit', async () => {
    const gone = fakeSockets(() => new WrtkitError(ErrorCodes.IO, 'send to /var/run/hostapd/wlan0: ENOENT'));
    await expect(
      new SocketHostapdControl(gone.sockets, new FakeClock(), '/var/run/hostapd').request(
        'wlan0',
        'SET wpa_passphrase secret-key',
      ),
    ).rejects.toMatchObject({
      code: ErrorCodes.APPLY_FAILED,
      message: 'hostapd control socket /var/run/hostapd/wlan0: SET wpa_passphrase: send to /var/run/hostapd/wlan0: ENOENT',
    });
    const clock = new FakeClock();
    const silent = fakeSockets(() => undefined);
    const pending = new SocketHostapdControl(silent.sockets, clock, '/var/run/hostapd', 2000).request('wlan0', 'RELOAD');
    const settled = pending.catch((e: unknown) => e);
    await clock.advance(2000);
    expect(await settled).toMatchObject({
      code: ErrorCodes.APPLY_FAILED,
      message: 'hostapd did not answer RELOAD on /var/run/hostapd/wlan0 within 2000 ms',
    });
    expect(silent.opened[0]?.closed).toBe(true);
  });

  it('runs hostapd_cli as an argv, the SET value as one argument', async () => {
    const ran: string[][] = [];
    const processes = {
      which: () => '/usr/sbin/hostapd_cli',
      run: async (argv: readonly string[]) => {
        ran.push([...argv]);
        const missing = argv.includes('wlan9');
        return {
          argv,
          exitCode: missing ? 255 : 0,
          signal: null,
          stdout: missing ? '' : 'OK\n',
          stderr: missing ? 'Failed to connect to hostapd - wpa_ctrl_open: No such file or directory\n' : '',
          timedOut: false,
          durationMs: 1,
        } as ProcessResult;
      },
    } as unknown as Processes;
    const control = new CliHostapdControl(processes, '/usr/sbin/hostapd_cli', '/run/hostapd');
    expect(await control.request('wlan0', 'SET ssid My Net')).toBe('OK\n');
    expect(await control.request('wlan0', 'RELOAD')).toBe('OK\n');
    expect(ran).toEqual([
      ['/usr/sbin/hostapd_cli', '-p', '/run/hostapd', '-i', 'wlan0', 'SET', 'ssid', 'My Net'],
      ['/usr/sbin/hostapd_cli', '-p', '/run/hostapd', '-i', 'wlan0', 'RELOAD'],
    ]);
    await expect(control.request('wlan9', 'STATUS')).rejects.toMatchObject({
      code: ErrorCodes.APPLY_FAILED,
      message:
        'hostapd control socket /run/hostapd/wlan9: STATUS: Failed to connect to hostapd - wpa_ctrl_open: No such file or directory',
    });
  });

  it('falls back to hostapd_cli where the engine has no unix datagram sockets (Node.js), once', async () => {
    let attempts = 0;
    const sockets = {
      openDatagram: async () => {
        attempts++;
        throw new WrtkitError(ErrorCodes.UNSUPPORTED, 'unix datagram sockets are not available on Node.js');
      },
    } as unknown as Sockets;
    const ran: string[][] = [];
    const processes = {
      which: (program: string) => (program === 'hostapd_cli' ? '/usr/sbin/hostapd_cli' : undefined),
      run: async (argv: readonly string[]) => {
        ran.push([...argv]);
        return { argv, exitCode: 0, signal: null, stdout: 'PONG\n', stderr: '', timedOut: false, durationMs: 1 } as ProcessResult;
      },
    } as unknown as Processes;
    const client = new HostapdControlClient({ sockets, processes, clock: new FakeClock(), ctrlDir: '/run/hostapd', log });
    expect(await client.request('wlan0', 'PING')).toBe('PONG\n');
    expect(await client.request('wlan0', 'PING')).toBe('PONG\n');
    expect(attempts).toBe(1);
    expect(ran).toHaveLength(2);
    const without = new HostapdControlClient({
      sockets: undefined,
      processes: { which: () => undefined } as unknown as Processes,
      clock: new FakeClock(),
      ctrlDir: '/run/hostapd',
      log,
    });
    await expect(without.request('wlan0', 'PING')).rejects.toMatchObject({
      code: ErrorCodes.APPLY_FAILED,
      message: expect.stringMatching(/hostapd_cli is not installed/),
    });
  });
});
