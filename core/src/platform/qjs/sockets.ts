/**
 * Sockets on QuickJS: unix stream and datagram, TCP, UDP and netlink, built on the
 * native module's non-blocking descriptors (core/native) and qjs's own event loop
 * (os.setReadHandler / os.setWriteHandler, level-triggered like select()).
 *
 * Writes never block the one JavaScript thread and never lose or reorder bytes: what
 * the kernel does not take at once is copied into a queue that drains on write
 * readiness. Reads copy each chunk out of one shared buffer, so handlers may keep what
 * they are given.
 *
 * Promises returned here reject only after the caller could attach a handler (async
 * functions begin with `await null`, callbacks reject from a later job): QuickJS
 * 2025-04-26 treats a promise rejected before that as unhandled.
 */
import { ErrorCodes, WrtkitError } from '../../errors.js';
import type { Connection, DatagramSocket, InetAddress, NetlinkSocket, SocketServer, Sockets, TcpServer } from '../platform.js';
import type { NativeAddress, WrtkitNative } from './native.js';

type Os = typeof import('os');

/** Bytes read per recv(); also the largest datagram read without a bigger buffer. */
const READ_SIZE = 65536;
/** Small queued writes are gathered into blocks of this size (fewer send() calls). */
const WRITE_BLOCK = 65536;
/** Reads per readiness event: bounded so that one busy peer cannot starve the others. */
const READS_PER_WAKE = 16;
const ACCEPTS_PER_WAKE = 64;
const LISTEN_BACKLOG = 128;
/**
 * Out of descriptors, accept() keeps failing while the connection stays queued, and a
 * level-triggered loop would spin on it: stop listening this long instead.
 */
const ACCEPT_PAUSE_MS = 100;
/** A unix listener whose backlog is full answers EAGAIN: retry this often, this many times. */
const CONNECT_RETRY_MS = 10;
const CONNECT_RETRIES = 200;
/**
 * A datagram the kernel refused with EAGAIN is retried after this long. Timers, not
 * write readiness: an unconnected unix datagram socket reports itself writable even
 * while the receiver's queue is full, so waiting for readiness would spin.
 */
const DATAGRAM_RETRY_MS = 10;

export interface QjsSocketDeps {
  os: Os;
  native: WrtkitNative;
  errnoName(errno: number): string;
  /** Reports an exception a handler threw; it must not break the event loop. */
  report(what: string, error: unknown): void;
  mkdirp(path: string): void;
}

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : path.slice(0, i);
}

/** Runs fn in a later job, after the current caller attached its handlers. */
function later(fn: () => void): void {
  void Promise.resolve().then(fn);
}

/**
 * A numeric host for the native module (qjs has no resolver): IPv4, IPv6 (optionally in
 * brackets, with a numeric %scope) or `localhost`. Anything else is undefined.
 */
export function parseHost(host: string): { v6: boolean; address: string; scopeId?: number } | undefined {
  if (host === 'localhost') return { v6: false, address: '127.0.0.1' };
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const v6 = /^([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)(?:%(\d+))?$/.exec(bare);
  if (v6) {
    const address = v6[1] as string;
    return v6[2] === undefined ? { v6: true, address } : { v6: true, address, scopeId: Number(v6[2]) };
  }
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bare)) return { v6: false, address: bare };
  return undefined;
}

export function createQjsSockets(deps: QjsSocketDeps): Sockets {
  const { os, native, errnoName, report } = deps;
  const { EAGAIN, EINTR, EINPROGRESS, EALREADY, EISCONN, ENOBUFS, EMFILE, ENFILE, ENOMEM, EINVAL } = native;
  const readBuffer = new ArrayBuffer(READ_SIZE);

  function ioError(errno: number, op: string, where: string): WrtkitError {
    const name = errnoName(errno);
    return new WrtkitError(ErrorCodes.IO, `${op} ${where}: ${name}`, { details: { errno: name, op, address: where } });
  }

  /** A new non-blocking socket; throws WRTKIT_ERR_IO. */
  function openSocket(domain: number, type: number, protocol: number, op: string, where: string): number {
    const fd = native.socket(domain, type, protocol);
    if (fd < 0) throw ioError(-fd, op, where);
    return fd;
  }

  /** Throws WRTKIT_ERR_IO for a negative result, closing fd first. */
  function check(result: number, fd: number, op: string, where: string): void {
    if (result >= 0) return;
    native.close(fd);
    throw ioError(-result, op, where);
  }

  function lexists(path: string): boolean {
    const [, err] = os.lstat(path);
    return err === 0;
  }

  /**
   * True when something answers on the unix socket at `path`. A socket file left by a
   * crashed process refuses connections (ECONNREFUSED) and may be replaced.
   */
  function socketAlive(path: string, type: number): boolean {
    const fd = native.socket(native.AF_UNIX, type, 0);
    if (fd < 0) return false;
    const r = native.connect(fd, { family: native.AF_UNIX, path });
    native.close(fd);
    return r === 0 || r === -EAGAIN || r === -EINPROGRESS;
  }

  /** Replaces a stale socket file at `path`; throws when a live one is there. */
  function claimPath(path: string, type: number): void {
    if (lexists(path)) {
      if (socketAlive(path, type)) {
        throw new WrtkitError(ErrorCodes.IO, `${path} is in use by another process`, {
          details: { errno: 'EADDRINUSE', path },
        });
      }
      os.remove(path);
    }
    deps.mkdirp(dirname(path));
  }

  /**
   * Connects fd without blocking; resolves 0 or a (positive) errno, never rejects. TCP
   * answers EINPROGRESS and reports the outcome as SO_ERROR once writable; a unix
   * listener with a full backlog answers EAGAIN and is asked again.
   */
  function connectFd(fd: number, address: NativeAddress, timeoutMs?: number): Promise<number> {
    return new Promise((resolve) => {
      let tries = 0;
      let timer: ReturnType<Os['setTimeout']> | undefined;
      const attempt = (): void => {
        const r = native.connect(fd, address);
        if (r === 0 || r === -EISCONN) {
          resolve(0);
        } else if (r === -EINPROGRESS || r === -EALREADY) {
          if (timeoutMs !== undefined) {
            // the caller closes fd on any error, which abandons the attempt
            timer = os.setTimeout(() => {
              os.setWriteHandler(fd, null);
              resolve(native.ETIMEDOUT);
            }, timeoutMs);
          }
          os.setWriteHandler(fd, () => {
            os.setWriteHandler(fd, null);
            if (timer !== undefined) os.clearTimeout(timer);
            const err = native.getsockopt(fd, native.SOL_SOCKET, native.SO_ERROR);
            resolve(err < 0 ? -err : err);
          });
        } else if (r === -EAGAIN && tries++ < CONNECT_RETRIES) {
          os.setTimeout(attempt, CONNECT_RETRY_MS);
        } else {
          resolve(-r);
        }
      };
      attempt();
    });
  }

  function streamConnection(fd: number, tcp = false): Connection {
    const dataHandlers: Array<(chunk: Uint8Array) => void> = [];
    const closeHandlers: Array<() => void> = [];
    /** Chunks read before anyone listened: handed to the first onData handler. */
    let early: Uint8Array[] = [];
    /** Queued writes: blocks of bytes; `end` is how much of each block is filled. */
    const blocks: Array<{ bytes: Uint8Array; end: number }> = [];
    /** How much of blocks[0] the kernel has taken. */
    let head = 0;
    /** open; closing: close() or the peer's EOF came while writes were queued; closed: fd released. */
    let state: 'open' | 'closing' | 'closed' = 'open';
    let closeNotified = false;
    let writeArmed = false;

    const runClose = (handler: () => void): void => {
      try {
        handler();
      } catch (e) {
        report('connection close handler', e);
      }
    };

    /** Releases the descriptor; onClose handlers run in a later job. */
    const teardown = (): void => {
      if (state === 'closed') return;
      state = 'closed';
      os.setReadHandler(fd, null);
      os.setWriteHandler(fd, null);
      native.close(fd);
      blocks.length = 0;
      head = 0;
      later(() => {
        closeNotified = true;
        for (const handler of closeHandlers) runClose(handler);
      });
    };

    const deliver = (chunk: Uint8Array): void => {
      if (dataHandlers.length === 0) {
        early.push(chunk);
        return;
      }
      for (const handler of dataHandlers) {
        try {
          handler(chunk);
        } catch (e) {
          report('connection data handler', e);
        }
      }
    };

    const readable = (): void => {
      for (let i = 0; i < READS_PER_WAKE && state !== 'closed'; i++) {
        const n = native.recv(fd, readBuffer, 0, READ_SIZE);
        if (n > 0) {
          deliver(new Uint8Array(readBuffer.slice(0, n)));
          if (n < READ_SIZE) return;
        } else if (n === -EAGAIN || n === -EINTR) {
          return;
        } else {
          // 0: the peer closed its side. Send what is still queued (it may only have
          // shut down its writing half), then close; an error ends the connection now.
          os.setReadHandler(fd, null);
          if (n === 0 && blocks.length > 0) state = 'closing';
          else teardown();
          return;
        }
      }
    };

    /** Sends queued blocks until the kernel is full; false when the connection failed. */
    const flush = (): boolean => {
      while (blocks.length > 0) {
        const block = blocks[0] as { bytes: Uint8Array; end: number };
        const n = native.send(fd, block.bytes.buffer as ArrayBuffer, block.bytes.byteOffset + head, block.end - head);
        if (n < 0) {
          if (n === -EAGAIN || n === -EINTR) return true;
          teardown(); // EPIPE, ECONNRESET: the peer is gone, and so are the queued bytes
          return false;
        }
        head += n;
        if (head < block.end) return true;
        blocks.shift();
        head = 0;
      }
      return true;
    };

    const writable = (): void => {
      if (!flush() || blocks.length > 0) return;
      writeArmed = false;
      os.setWriteHandler(fd, null);
      if (state === 'closing') teardown();
    };

    /** Copies data[from..] behind what is queued, filling the last block first. */
    const enqueue = (data: Uint8Array, from: number): void => {
      let i = from;
      const last = blocks[blocks.length - 1];
      if (last && last.end < last.bytes.length) {
        const n = Math.min(last.bytes.length - last.end, data.length - i);
        last.bytes.set(data.subarray(i, i + n), last.end);
        last.end += n;
        i += n;
      }
      if (i < data.length) {
        const rest = data.length - i;
        const bytes = new Uint8Array(Math.max(WRITE_BLOCK, rest));
        bytes.set(data.subarray(i));
        blocks.push({ bytes, end: rest });
      }
      if (!writeArmed) {
        writeArmed = true;
        os.setWriteHandler(fd, writable);
      }
    };

    os.setReadHandler(fd, readable);

    // Asked now, while the descriptor is open: later the kernel has forgotten the peer.
    const remote = tcp ? tcpEndpoint(native.getpeername(fd)[0]) : undefined;
    const local = tcp ? tcpEndpoint(native.getsockname(fd)[0]) : undefined;

    return {
      ...(remote ? { remote } : {}),
      ...(local ? { local } : {}),
      write(data) {
        if (state !== 'open' || data.length === 0) return;
        let from = 0;
        // Nothing queued: try the kernel first, and queue only what it did not take.
        if (blocks.length === 0) {
          const n = native.send(fd, data.buffer as ArrayBuffer, data.byteOffset, data.length);
          if (n === data.length) return;
          if (n < 0 && n !== -EAGAIN && n !== -EINTR) {
            teardown();
            return;
          }
          from = Math.max(n, 0);
        }
        enqueue(data, from);
      },
      onData(handler) {
        dataHandlers.push(handler);
        if (early.length > 0) {
          const pending = early;
          early = [];
          // Delivered before the next read: reads only happen between jobs.
          later(() => pending.forEach(deliver));
        }
      },
      onClose(handler) {
        if (closeNotified) later(() => runClose(handler));
        else closeHandlers.push(handler);
      },
      close() {
        if (state !== 'open') return;
        if (blocks.length > 0)
          state = 'closing'; // writable() closes once the queue is sent
        else teardown();
      },
    };
  }

  /** Accepts connections on a listening fd; returns the function that stops it. */
  function serve(fd: number, onConnection: (connection: Connection) => void, tcp = false): () => void {
    let stopped = false;
    let pause: import('os').TimerId | undefined;
    const accept = (): void => {
      for (let i = 0; i < ACCEPTS_PER_WAKE; i++) {
        const client = native.accept(fd);
        if (client < 0) {
          if (client === -EMFILE || client === -ENFILE || client === -ENOBUFS || client === -ENOMEM) {
            os.setReadHandler(fd, null);
            pause = os.setTimeout(() => {
              pause = undefined;
              if (!stopped) os.setReadHandler(fd, accept);
            }, ACCEPT_PAUSE_MS);
          }
          return; // EAGAIN: none left; ECONNABORTED: that client gave up first
        }
        try {
          onConnection(streamConnection(client, tcp));
        } catch (e) {
          report('connection handler', e);
        }
      }
    };
    os.setReadHandler(fd, accept);
    return () => {
      if (stopped) return;
      stopped = true;
      if (pause !== undefined) os.clearTimeout(pause);
      os.setReadHandler(fd, null);
      native.close(fd);
    };
  }

  function inetTarget(host: string, port: number, op: string): NativeAddress {
    const parsed = parseHost(host);
    if (!parsed) {
      throw new WrtkitError(
        ErrorCodes.INVALID_ARGUMENT,
        `${op} ${host}: QuickJS has no name resolution; give a numeric address (or localhost)`,
        { details: { host } },
      );
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `${op} ${host}: port ${port} is not 0..65535`, { details: { port } });
    }
    const family = parsed.v6 ? native.AF_INET6 : native.AF_INET;
    return parsed.scopeId === undefined
      ? { family, address: parsed.address, port }
      : { family, address: parsed.address, port, scopeId: parsed.scopeId };
  }

  /**
   * The core of datagram and netlink sockets: ordered sends with a retry queue, and
   * reads (started by the first handler, so that the kernel keeps what comes before)
   * sized to each datagram.
   */
  function datagramCore(fd: number, onClosed: () => void) {
    const messageHandlers: Array<(data: Uint8Array, from: NativeAddress) => void> = [];
    const overrunHandlers: Array<() => void> = [];
    const queue: Array<{
      bytes: Uint8Array;
      to: NativeAddress;
      where: string;
      resolve: () => void;
      reject: (e: unknown) => void;
    }> = [];
    let retry: import('os').TimerId | undefined;
    let open = true;

    const drain = (): void => {
      while (queue.length > 0) {
        const item = queue[0] as (typeof queue)[number];
        const n = native.sendto(fd, item.bytes.buffer as ArrayBuffer, item.bytes.byteOffset, item.bytes.length, item.to);
        if (n === -EAGAIN || n === -EINTR || n === -ENOBUFS) {
          retry ??= os.setTimeout(() => {
            retry = undefined;
            if (open) drain();
          }, DATAGRAM_RETRY_MS);
          return;
        }
        queue.shift();
        if (n < 0) {
          const error = ioError(-n, 'send to', item.where);
          later(() => item.reject(error));
        } else {
          item.resolve();
        }
      }
    };

    const readable = (): void => {
      for (let i = 0; i < READS_PER_WAKE && open; i++) {
        // The datagram's real size first (MSG_TRUNC), so that nothing is cut off.
        const size = native.recv(fd, readBuffer, 0, 0, native.MSG_PEEK | native.MSG_TRUNC);
        if (size < 0) {
          if (size === -EAGAIN || size === -EINTR) return;
          if (size === -ENOBUFS) for (const handler of overrunHandlers) guard('overrun handler', handler);
          continue; // a pending error (ENOBUFS, an ICMP error) is consumed by reading it
        }
        const buffer = size <= READ_SIZE ? readBuffer : new ArrayBuffer(size);
        const [n, from] = native.recvfrom(fd, buffer, 0, size);
        if (n < 0) {
          if (n === -EAGAIN || n === -EINTR) return;
          continue;
        }
        const data = new Uint8Array(buffer.slice(0, n));
        const sender = from ?? { family: 0 };
        for (const handler of messageHandlers) guard('message handler', () => handler(data, sender));
      }
    };

    const guard = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        report(what, e);
      }
    };

    return {
      send(data: Uint8Array, to: NativeAddress, where: string): Promise<void> {
        return new Promise<void>((resolve, reject) => {
          if (!open) {
            const error = new WrtkitError(ErrorCodes.IO, `send to ${where}: the socket is closed`, {
              details: { errno: 'EBADF', op: 'send to', address: where },
            });
            later(() => reject(error));
            return;
          }
          queue.push({ bytes: data.slice(), to, where, resolve, reject });
          if (queue.length === 1 && retry === undefined) drain();
        });
      },
      onMessage(handler: (data: Uint8Array, from: NativeAddress) => void): void {
        messageHandlers.push(handler);
        if (messageHandlers.length === 1 && open) os.setReadHandler(fd, readable);
      },
      onOverrun(handler: () => void): void {
        overrunHandlers.push(handler);
      },
      name(): NativeAddress | null {
        return native.getsockname(fd)[0];
      },
      close(): void {
        if (!open) return;
        open = false;
        if (retry !== undefined) os.clearTimeout(retry);
        os.setReadHandler(fd, null);
        native.close(fd);
        for (const item of queue.splice(0)) {
          const error = new WrtkitError(ErrorCodes.IO, `send to ${item.where}: the socket was closed first`, {
            details: { errno: 'EBADF', op: 'send to', address: item.where },
          });
          later(() => item.reject(error));
        }
        onClosed();
      },
    };
  }

  /** A TCP endpoint, with IPv4-mapped IPv6 addresses (`::ffff:10.0.0.2`) given as IPv4. */
  function tcpEndpoint(a: NativeAddress | null): InetAddress | undefined {
    if (!a || a.address === undefined) return undefined;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a.address);
    return { address: mapped ? (mapped[1] as string) : a.address, port: a.port ?? 0 };
  }

  function inetFromNative(a: NativeAddress | null): InetAddress {
    return { address: a?.address ?? '', port: a?.port ?? 0 };
  }

  // Not async: openDatagram awaits first, and an async function that throws at once
  // would hand back a promise rejected before anyone could handle it.
  function openUnixDatagram(bindPath: string | undefined): DatagramSocket {
    const where = bindPath ?? 'unix datagram socket';
    if (bindPath !== undefined) claimPath(bindPath, native.SOCK_DGRAM);
    const fd = openSocket(native.AF_UNIX, native.SOCK_DGRAM, 0, 'open', where);
    // Unbound sockets get an autobind name ('' asks for one) so that peers can answer.
    check(native.bind(fd, { family: native.AF_UNIX, path: bindPath ?? '' }), fd, 'bind', where);
    const core = datagramCore(fd, () => {
      if (bindPath !== undefined) os.remove(bindPath);
    });
    return {
      send(data, to) {
        if (typeof to !== 'string') {
          const error = new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'a unix datagram goes to a socket path');
          return new Promise((_resolve, reject) => later(() => reject(error)));
        }
        return core.send(data, { family: native.AF_UNIX, path: to }, to);
      },
      onMessage(handler) {
        core.onMessage((data, from) => handler(data, from.path ?? ''));
      },
      address: () => core.name()?.path ?? '',
      close: () => core.close(),
    };
  }

  function openUdp(v6: boolean, bind: string | InetAddress | undefined): DatagramSocket {
    if (typeof bind === 'string') {
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'a UDP socket binds to { address, port }');
    }
    const local = bind ?? { address: v6 ? '::' : '0.0.0.0', port: 0 };
    const where = `${local.address}:${local.port}`;
    const target = inetTarget(local.address, local.port, 'bind');
    if ((target.family === native.AF_INET6) !== v6) {
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `bind ${where}: not an ${v6 ? 'IPv6' : 'IPv4'} address`);
    }
    const fd = openSocket(target.family, native.SOCK_DGRAM, 0, 'open', where);
    check(native.bind(fd, target), fd, 'bind', where);
    const core = datagramCore(fd, () => undefined);
    return {
      send(data, to) {
        let address: NativeAddress;
        try {
          if (typeof to === 'string')
            throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'a UDP datagram goes to { address, port }');
          address = inetTarget(to.address, to.port, 'send to');
        } catch (e) {
          return new Promise((_resolve, reject) => later(() => reject(e)));
        }
        return core.send(data, address, `${address.address}:${address.port}`);
      },
      onMessage(handler) {
        core.onMessage((data, from) => handler(data, inetFromNative(from)));
      },
      address: () => inetFromNative(core.name()),
      close: () => core.close(),
    };
  }

  return {
    async listen(path, onConnection): Promise<SocketServer> {
      await null;
      claimPath(path, native.SOCK_STREAM);
      const fd = openSocket(native.AF_UNIX, native.SOCK_STREAM, 0, 'listen', path);
      check(native.bind(fd, { family: native.AF_UNIX, path }), fd, 'listen', path);
      try {
        // bind() created the file with the umask's mode; only root may talk to the host.
        check(native.chmod(path, 0o600), fd, 'chmod', path);
        check(native.listen(fd, LISTEN_BACKLOG), fd, 'listen', path);
      } catch (e) {
        os.remove(path);
        throw e;
      }
      const stop = serve(fd, onConnection);
      return {
        path,
        async close() {
          await null;
          stop();
          os.remove(path);
        },
      };
    },

    async connect(path): Promise<Connection> {
      await null;
      const unavailable = (errno: number): WrtkitError =>
        new WrtkitError(ErrorCodes.CONTROL_UNAVAILABLE, `cannot connect to ${path}: ${errnoName(errno)}`, {
          details: { path, errno: errnoName(errno) },
        });
      const fd = native.socket(native.AF_UNIX, native.SOCK_STREAM, 0);
      if (fd < 0) throw unavailable(-fd);
      const err = await connectFd(fd, { family: native.AF_UNIX, path });
      if (err !== 0) {
        native.close(fd);
        throw unavailable(err);
      }
      return streamConnection(fd);
    },

    async connectTcp(host, port, options = {}): Promise<Connection> {
      await null;
      const target = inetTarget(host, port, 'connect');
      const where = `${host}:${port}`;
      const fd = openSocket(target.family, native.SOCK_STREAM, 0, 'connect', where);
      const err = await connectFd(fd, target, options.timeoutMs);
      if (err !== 0) {
        native.close(fd);
        throw ioError(err, 'connect', where);
      }
      return streamConnection(fd, true);
    },

    async listenTcp(host, port, onConnection): Promise<TcpServer> {
      await null;
      const target = inetTarget(host, port, 'listen');
      const where = `${host}:${port}`;
      const fd = openSocket(target.family, native.SOCK_STREAM, 0, 'listen', where);
      // As Node does: a restarted host can bind again while old connections linger in TIME_WAIT.
      check(native.setsockopt(fd, native.SOL_SOCKET, native.SO_REUSEADDR, 1), fd, 'listen', where);
      check(native.bind(fd, target), fd, 'listen', where);
      check(native.listen(fd, LISTEN_BACKLOG), fd, 'listen', where);
      const bound = inetFromNative(native.getsockname(fd)[0]);
      const stop = serve(fd, onConnection, true);
      return {
        address: bound.address,
        port: bound.port,
        async close() {
          await null;
          stop();
        },
      };
    },

    async openDatagram(options): Promise<DatagramSocket> {
      await null;
      if (options.family === 'unix') {
        if (options.bind !== undefined && typeof options.bind !== 'string') {
          throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'a unix datagram socket binds to a path');
        }
        return openUnixDatagram(options.bind);
      }
      if (options.family === 'udp4' || options.family === 'udp6') return openUdp(options.family === 'udp6', options.bind);
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `unknown datagram family ${String(options.family)}`);
    },

    async openNetlink(options): Promise<NetlinkSocket> {
      await null;
      const where = `netlink protocol ${options.protocol}`;
      const fd = openSocket(native.AF_NETLINK, native.SOCK_RAW, options.protocol, 'open', where);
      // pid 0: the kernel assigns the port id, unique even with several sockets per process.
      check(native.bind(fd, { family: native.AF_NETLINK, pid: 0, groups: options.groups ?? 0 }), fd, 'bind', where);
      const [name, err] = native.getsockname(fd);
      if (!name) check(-(err || EINVAL), fd, 'bind', where);
      const core = datagramCore(fd, () => undefined);
      const kernel: NativeAddress = { family: native.AF_NETLINK, pid: 0, groups: 0 };
      return {
        portId: name?.pid ?? 0,
        send: (data) => core.send(data, kernel, 'the kernel'),
        onMessage(handler) {
          core.onMessage((data) => handler(data));
        },
        onOverrun: (handler) => core.onOverrun(handler),
        close: () => core.close(),
      };
    },
  };
}
