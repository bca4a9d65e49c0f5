import { ErrorCodes, WrtkitError, serializeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Connection, SocketServer, Sockets } from '../platform/platform.js';
import { Utf8StreamDecoder, utf8Encode } from '../util/utf8.js';
import type { MethodRegistry } from './methods.js';
import { type ControlRequest, type ControlResponse, MAX_LINE_BYTES } from './protocol.js';

/**
 * Serves the method registry on a unix socket, one JSON request per line. A bad line gets
 * an error answer (WRTKIT_ERR_CONTROL_PROTOCOL), never a crash; requests on one
 * connection are answered in order.
 */
export class ControlServer {
  private server: SocketServer | undefined;
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly sockets: Sockets,
    private readonly registry: MethodRegistry,
    private readonly log: Logger,
  ) {}

  async listen(path: string): Promise<void> {
    this.server = await this.sockets.listen(path, (connection) => this.accept(connection));
    this.log.info('control socket listening', { path });
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.close();
    this.connections.clear();
    await this.server?.close();
    this.server = undefined;
  }

  private accept(connection: Connection): void {
    this.connections.add(connection);
    const decoder = new Utf8StreamDecoder();
    let buffered = '';
    let queue = Promise.resolve();
    const send = (response: ControlResponse) => connection.write(utf8Encode(`${JSON.stringify(response)}\n`));
    connection.onClose(() => this.connections.delete(connection));
    connection.onData((chunk) => {
      buffered += decoder.write(chunk);
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== '') queue = queue.then(() => this.answer(line).then(send));
        newline = buffered.indexOf('\n');
      }
      if (buffered.length > MAX_LINE_BYTES) {
        send({
          id: null,
          error: new WrtkitError(ErrorCodes.CONTROL_PROTOCOL, `request line longer than ${MAX_LINE_BYTES} bytes`).toJSON(),
        });
        buffered = '';
        connection.close();
      }
    });
  }

  private async answer(line: string): Promise<ControlResponse> {
    let request: ControlRequest;
    try {
      request = JSON.parse(line) as ControlRequest;
    } catch {
      return { id: null, error: new WrtkitError(ErrorCodes.CONTROL_PROTOCOL, 'request is not valid JSON').toJSON() };
    }
    const id =
      request !== null && typeof request === 'object' && (typeof request.id === 'number' || typeof request.id === 'string')
        ? request.id
        : null;
    if (id === null || typeof request.object !== 'string' || typeof request.method !== 'string') {
      return {
        id,
        error: new WrtkitError(ErrorCodes.CONTROL_PROTOCOL, 'request needs "id", "object" and "method"').toJSON(),
      };
    }
    if (
      request.args !== undefined &&
      (request.args === null || typeof request.args !== 'object' || Array.isArray(request.args))
    ) {
      return { id, error: new WrtkitError(ErrorCodes.INVALID_ARGUMENT, '"args" must be a JSON object').toJSON() };
    }
    try {
      return { id, result: (await this.registry.invoke(request.object, request.method, request.args ?? {})) ?? null };
    } catch (error) {
      if (!(error instanceof WrtkitError))
        this.log.error('control request failed', { object: request.object, method: request.method });
      return { id, error: serializeError(error) };
    }
  }
}
