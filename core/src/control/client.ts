import { ErrorCodes, WrtkitError, type SerializedError } from '../errors.js';
import type { Sockets } from '../platform/platform.js';
import { Utf8StreamDecoder, utf8Encode } from '../util/utf8.js';
import type { ControlResponse } from './protocol.js';

/** Raised by the client when the host answered with an error; keeps the host's code. */
export class RemoteError extends Error {
  constructor(readonly remote: SerializedError) {
    super(remote.message);
    this.name = 'RemoteError';
  }
}

/** One call over the control socket: connect, send, read the answer, close. */
export async function controlCall(
  sockets: Sockets | undefined,
  path: string,
  object: string,
  method: string,
  args: Record<string, unknown> = {},
): Promise<unknown> {
  if (!sockets) {
    throw new WrtkitError(
      ErrorCodes.CONTROL_UNAVAILABLE,
      'this engine has no sockets (QuickJS without core/native); use ubus or run the CLI on Node',
    );
  }
  const connection = await sockets.connect(path);
  return new Promise((resolve, reject) => {
    const decoder = new Utf8StreamDecoder();
    let buffered = '';
    let settled = false;
    connection.onData((chunk) => {
      buffered += decoder.write(chunk);
      const newline = buffered.indexOf('\n');
      if (newline < 0 || settled) return;
      settled = true;
      connection.close();
      try {
        const response = JSON.parse(buffered.slice(0, newline)) as ControlResponse;
        if ('error' in response) reject(new RemoteError(response.error));
        else resolve(response.result);
      } catch {
        reject(new WrtkitError(ErrorCodes.CONTROL_PROTOCOL, 'the host sent an answer that is not JSON'));
      }
    });
    connection.onClose(() => {
      if (!settled) {
        settled = true;
        reject(new WrtkitError(ErrorCodes.CONTROL_PROTOCOL, 'the host closed the connection without answering'));
      }
    });
    connection.write(utf8Encode(`${JSON.stringify({ id: 1, object, method, args })}\n`));
  });
}
