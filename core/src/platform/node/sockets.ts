/**
 * Sockets on Node.js: unix stream and TCP through node:net, UDP through node:dgram.
 *
 * Node has no unix datagram or netlink sockets without a native addon (node:dgram only
 * speaks UDP), so `openDatagram({ family: 'unix' })` and `openNetlink` reject with
 * WRTKIT_ERR_UNSUPPORTED here; on routers qjs provides them through core/native.
 *
 * Node's modules arrive as arguments (see createNodePlatform): this file only imports
 * their types, so nothing here is hoisted into the shared bundle.
 */
import { ErrorCodes, WrtkitError } from '../../errors.js';
import type { Connection, DatagramSocket, InetAddress, NetlinkSocket, SocketServer, Sockets, TcpServer } from '../platform.js';

type NodeFs = typeof import('node:fs');
type NodePath = typeof import('node:path');
type NodeNet = typeof import('node:net');
type NodeDgram = typeof import('node:dgram');

export interface NodeSocketModules {
  fs: NodeFs;
  path: NodePath;
  net: NodeNet;
  dgram: NodeDgram;
}

function errnoOf(e: unknown): string {
  return (e as { code?: string }).code ?? 'EIO';
}

function ioError(e: unknown, op: string, where: string): WrtkitError {
  const errno = errnoOf(e);
  return new WrtkitError(ErrorCodes.IO, `${op} ${where}: ${errno}`, { cause: e, details: { errno, op, address: where } });
}

function unsupported(what: string): WrtkitError {
  return new WrtkitError(
    ErrorCodes.UNSUPPORTED,
    `${what} sockets are not available on Node.js (they need a native addon); they work on QuickJS with core/native`,
  );
}

/** A TCP endpoint, with IPv4-mapped IPv6 addresses (`::ffff:10.0.0.2`) given as IPv4. */
function endpoint(address: string | undefined, port: number | undefined): InetAddress | undefined {
  if (address === undefined || port === undefined) return undefined;
  return { address: unmapIpv4(address), port };
}

export function unmapIpv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? (m[1] as string) : address;
}

export function createNodeSockets({ fs, path, net, dgram }: NodeSocketModules): Sockets {
  function wrapSocket(sock: import('node:net').Socket): Connection {
    let closed = false;
    // Read now: Node forgets the addresses once the socket is destroyed.
    const remote = endpoint(sock.remoteAddress, sock.remotePort);
    const local = endpoint(sock.localAddress, sock.localPort);
    sock.on('error', () => {
      // a peer that goes away is reported through onClose
    });
    sock.once('close', () => {
      closed = true;
    });
    return {
      ...(remote ? { remote } : {}),
      ...(local ? { local } : {}),
      write(data) {
        // Node queues what the kernel does not take (in order, never dropped); the copy
        // lets the caller reuse its buffer.
        if (!sock.destroyed && !sock.writableEnded) sock.write(Buffer.from(data));
      },
      onData(handler) {
        sock.on('data', (chunk: Buffer) => handler(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      },
      onClose(handler) {
        if (closed) queueMicrotask(handler);
        else sock.on('close', () => handler());
      },
      close() {
        // FIN after what is queued, then the socket is gone (as close(2) on QuickJS): a
        // peer that never closes its side does not keep it half-open.
        sock.end(() => sock.destroy());
      },
    };
  }

  function listenServer(server: import('node:net').Server, listen: (done: () => void) => void, where: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(ioError(e, 'listen', where)));
      listen(() => resolve());
    });
  }

  function connectSocket(sock: import('node:net').Socket, fail: (e: NodeJS.ErrnoException) => WrtkitError): Promise<Connection> {
    return new Promise((resolve, reject) => {
      sock.once('connect', () => resolve(wrapSocket(sock)));
      sock.once('error', (e: NodeJS.ErrnoException) => reject(fail(e)));
    });
  }

  async function openUdp(type: 'udp4' | 'udp6', bind: string | InetAddress | undefined): Promise<DatagramSocket> {
    if (typeof bind === 'string') throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'a UDP socket binds to { address, port }');
    const local = bind ?? { address: type === 'udp6' ? '::' : '0.0.0.0', port: 0 };
    const sock = dgram.createSocket(type);
    await new Promise<void>((resolve, reject) => {
      sock.once('error', (e) => reject(ioError(e, 'bind', `${local.address}:${local.port}`)));
      sock.bind(local.port, local.address, () => resolve());
    });
    sock.on('error', () => {
      // errors after bind belong to a send, which reports them itself
    });
    let open = true;
    return {
      send(data, to) {
        return new Promise<void>((resolve, reject) => {
          if (typeof to === 'string') {
            reject(new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'a UDP datagram goes to { address, port }'));
            return;
          }
          const where = `${to.address}:${to.port}`;
          if (!open) {
            reject(new WrtkitError(ErrorCodes.IO, `send to ${where}: the socket is closed`, { details: { errno: 'EBADF' } }));
            return;
          }
          sock.send(Buffer.from(data), to.port, to.address, (e) => (e ? reject(ioError(e, 'send to', where)) : resolve()));
        });
      },
      onMessage(handler) {
        sock.on('message', (msg, rinfo) =>
          handler(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), { address: rinfo.address, port: rinfo.port }),
        );
      },
      address() {
        const a = sock.address();
        return { address: a.address, port: a.port };
      },
      close() {
        if (!open) return;
        open = false;
        sock.close();
      },
    };
  }

  return {
    async listen(socketPath, onConnection): Promise<SocketServer> {
      // A socket file left by a crashed host would make listen fail with EADDRINUSE.
      // Only remove it when nobody answers on it.
      if (fs.existsSync(socketPath)) {
        const alive = await new Promise<boolean>((resolve) => {
          const probe = net.connect(socketPath);
          probe.once('connect', () => {
            probe.destroy();
            resolve(true);
          });
          probe.once('error', () => resolve(false));
        });
        if (alive) {
          throw new WrtkitError(ErrorCodes.IO, `${socketPath} is in use by another process`, {
            details: { errno: 'EADDRINUSE', path: socketPath },
          });
        }
        fs.rmSync(socketPath, { force: true });
      }
      fs.mkdirSync(path.dirname(socketPath), { recursive: true });
      const server = net.createServer((sock) => onConnection(wrapSocket(sock)));
      await listenServer(server, (done) => server.listen(socketPath, done), socketPath);
      fs.chmodSync(socketPath, 0o600);
      return {
        path: socketPath,
        // Stops listening at once (as the TCP server does); open connections are their
        // owner's to close — Node's close callback would wait for every one of them.
        close: async () => {
          server.close();
          fs.rmSync(socketPath, { force: true });
        },
      };
    },

    connect(socketPath): Promise<Connection> {
      return connectSocket(
        net.connect(socketPath),
        (e) =>
          new WrtkitError(ErrorCodes.CONTROL_UNAVAILABLE, `cannot connect to ${socketPath}: ${e.code ?? e.message}`, {
            cause: e,
            details: { path: socketPath, errno: e.code },
          }),
      );
    },

    connectTcp(host, port, options = {}): Promise<Connection> {
      const sock = net.connect({ host, port });
      const { timeoutMs } = options;
      if (timeoutMs !== undefined) {
        const timer = setTimeout(() => {
          const error: NodeJS.ErrnoException = new Error('connect timed out');
          error.code = 'ETIMEDOUT';
          sock.destroy(error);
        }, timeoutMs);
        sock.once('connect', () => clearTimeout(timer));
        sock.once('close', () => clearTimeout(timer));
      }
      return connectSocket(sock, (e) => ioError(e, 'connect', `${host}:${port}`));
    },

    async listenTcp(host, port, onConnection): Promise<TcpServer> {
      const server = net.createServer((sock) => onConnection(wrapSocket(sock)));
      await listenServer(server, (done) => server.listen(port, host, done), `${host}:${port}`);
      const bound = server.address() as import('node:net').AddressInfo;
      return {
        address: bound.address,
        port: bound.port,
        // Stops listening at once; Node's close callback would wait for every open connection.
        close: async () => {
          server.close();
        },
      };
    },

    async openDatagram(options): Promise<DatagramSocket> {
      if (options.family === 'unix') throw unsupported('unix datagram');
      if (options.family === 'udp4' || options.family === 'udp6') return openUdp(options.family, options.bind);
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `unknown datagram family ${String(options.family)}`);
    },

    async openNetlink(): Promise<NetlinkSocket> {
      throw unsupported('netlink');
    },
  };
}
