/**
 * Bundled by native.test.ts and run under qjs: calls the native module (core/native)
 * directly, without the platform on top, and checks its contract, mostly the error
 * paths: negative errno for failed system calls (bad descriptors, EAGAIN, ECONNREFUSED,
 * ENOENT, EPIPE without a SIGPIPE), TypeError/RangeError for misuse, constants that match
 * qjs's own, descriptors that are non-blocking and close-on-exec.
 * Usage: qjs <bundle> <path of wrtkit-native.so> <empty temp dir>; prints one JSON line.
 */
import type { NativeAddress, WrtkitNative } from '../../src/platform/qjs/native.js';

interface Result {
  name: string;
  ok: boolean;
  error?: string;
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

function expectThrow(fn: () => unknown, type: 'TypeError' | 'RangeError', what: string): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof Error && e.name === type) return;
    throw new Error(`${what}: threw ${String(e)}, expected a ${type}`);
  }
  throw new Error(`${what}: did not throw`);
}

// An async main, not top-level await: see core/src/main.ts for the QuickJS job-queue stall.
async function main(): Promise<void> {
  const std = await import('std');
  const os = await import('os');
  const [, soPath, tmpDir] = typeof scriptArgs !== 'undefined' ? scriptArgs : [];
  const n = (await import(soPath as string)) as WrtkitNative;
  const num = (name: string): number => {
    const value = n[name];
    if (typeof value !== 'number') throw new Error(`constant ${name} missing`);
    return value;
  };
  const EBADF = num('EBADF');
  const ENOTSOCK = num('ENOTSOCK');
  const ECONNREFUSED = num('ECONNREFUSED');
  const ENOENT = num('ENOENT');
  const EPIPE = num('EPIPE');
  const buf = new ArrayBuffer(64);
  const inet = (port: number, address = '127.0.0.1'): NativeAddress => ({ family: n.AF_INET, address, port });
  const unix = (path: string): NativeAddress => ({ family: n.AF_UNIX, path });
  const opened: number[] = [];
  const sock = (domain: number, type: number): number => {
    const fd = n.socket(domain, type, 0);
    if (fd < 0) throw new Error(`socket: ${fd}`);
    opened.push(fd);
    return fd;
  };

  const checks: Array<[string, () => void | Promise<void>]> = [
    [
      'interface version and constants, errno values equal to qjs std.Error',
      () => {
        expectEqual(n.VERSION, 1, 'VERSION');
        for (const name of [
          'AF_UNIX',
          'AF_INET',
          'AF_INET6',
          'AF_NETLINK',
          'SOCK_STREAM',
          'SOCK_DGRAM',
          'SOL_SOCKET',
          'EAGAIN',
        ]) {
          expectEqual(typeof n[name], 'number', name);
        }
        expectEqual([n.NETLINK_ROUTE, n.RTMGRP_LINK, n.RTM_NEWLINK, n.RTM_NEWADDR], [0, 1, 16, 20], 'rtnetlink numbers');
        for (const name of Object.keys(std.Error)) {
          if (typeof n[name] === 'number') expectEqual(n[name], std.Error[name], `${name} vs std.Error`);
        }
      },
    ],
    [
      'bad descriptors give -EBADF, a non-socket -ENOTSOCK',
      () => {
        expectEqual(n.recv(-1, buf, 0, 8), -EBADF, 'recv(-1)');
        expectEqual(n.send(1_000_000, buf, 0, 8), -EBADF, 'send(1000000)');
        expectEqual(n.accept(1_000_000), -EBADF, 'accept');
        expectEqual(n.close(1_000_000), -EBADF, 'close');
        expectEqual(n.fsync(1_000_000), -EBADF, 'fsync');
        expectEqual(n.getsockname(1_000_000), [null, EBADF], 'getsockname');
        expectEqual(n.recvfrom(1_000_000, buf, 0, 8), [-EBADF, null], 'recvfrom');
        expectEqual(n.bind(1_000_000, inet(0)), -EBADF, 'bind');
        const file = os.open('/dev/null', os.O_RDONLY);
        try {
          expectEqual(n.recv(file, buf, 0, 8), -ENOTSOCK, 'recv on /dev/null');
        } finally {
          os.close(file);
        }
      },
    ],
    [
      'an empty non-blocking socket gives -EAGAIN, descriptors are O_NONBLOCK | O_CLOEXEC',
      () => {
        const udp = sock(n.AF_INET, n.SOCK_DGRAM);
        expectEqual(n.bind(udp, inet(0)), 0, 'bind');
        expectEqual(n.recv(udp, buf, 0, 8), -n.EAGAIN, 'recv');
        expectEqual(n.recvfrom(udp, buf, 0, 8), [-n.EAGAIN, null], 'recvfrom');
        const tcp = sock(n.AF_INET, n.SOCK_STREAM);
        expectEqual([n.bind(tcp, inet(0)), n.listen(tcp)], [0, 0], 'listen');
        expectEqual(n.accept(tcp), -n.EAGAIN, 'accept with nobody waiting');
        const f = std.open(`/proc/self/fdinfo/${udp}`, 'r');
        const flags = parseInt(/flags:\s*([0-7]+)/.exec(f?.readAsString() ?? '')?.[1] ?? '0', 8);
        f?.close();
        // O_NONBLOCK and O_CLOEXEC are per arch too; these are the generic values (x86, ARM).
        if (!(flags & 0o4000) || !(flags & 0o2000000)) throw new Error(`fd flags ${flags.toString(8)}`);
      },
    ],
    [
      'connection refused: -ECONNREFUSED (unix at once, TCP through SO_ERROR); missing path -ENOENT',
      async () => {
        await null; // see conformance.ts: qjs must not see a promise rejected before it is awaited
        // A bound socket that does not listen refuses connections.
        const path = `${tmpDir}/not-listening.sock`;
        const bound = sock(n.AF_UNIX, n.SOCK_STREAM);
        expectEqual(n.bind(bound, unix(path)), 0, 'bind');
        expectEqual(n.connect(sock(n.AF_UNIX, n.SOCK_STREAM), unix(path)), -ECONNREFUSED, 'unix connect');
        expectEqual(n.connect(sock(n.AF_UNIX, n.SOCK_STREAM), unix(`${tmpDir}/missing.sock`)), -ENOENT, 'missing path');
        const closedPort = sock(n.AF_INET, n.SOCK_STREAM);
        expectEqual(n.bind(closedPort, inet(0)), 0, 'bind');
        const port = n.getsockname(closedPort)[0]?.port ?? 0;
        const tcp = sock(n.AF_INET, n.SOCK_STREAM);
        const r = n.connect(tcp, inet(port));
        if (r === -n.EINPROGRESS) {
          await new Promise<void>((resolve) =>
            os.setWriteHandler(tcp, () => {
              os.setWriteHandler(tcp, null);
              resolve();
            }),
          );
          expectEqual(n.getsockopt(tcp, n.SOL_SOCKET, n.SO_ERROR), ECONNREFUSED, 'SO_ERROR');
        } else {
          expectEqual(r, -ECONNREFUSED, 'tcp connect');
        }
      },
    ],
    [
      'a peer that went away gives -EPIPE, not a SIGPIPE that ends qjs',
      () => {
        const path = `${tmpDir}/pipe.sock`;
        const listener = sock(n.AF_UNIX, n.SOCK_STREAM);
        expectEqual([n.bind(listener, unix(path)), n.listen(listener)], [0, 0], 'listen');
        const client = sock(n.AF_UNIX, n.SOCK_STREAM);
        expectEqual(n.connect(client, unix(path)), 0, 'connect');
        const server = n.accept(listener);
        if (server < 0) throw new Error(`accept ${server}`);
        expectEqual(n.close(server), 0, 'close');
        expectEqual(n.send(client, buf, 0, 8), -EPIPE, 'send after the peer closed');
        expectEqual(n.recv(client, buf, 0, 8), 0, 'recv gives end of stream');
      },
    ],
    [
      'addresses the kernel would refuse give -EINVAL, -ENAMETOOLONG, -EAFNOSUPPORT',
      () => {
        const udp = sock(n.AF_INET, n.SOCK_DGRAM);
        expectEqual(n.bind(udp, inet(0, '300.1.2.3')), -n.EINVAL, 'bad IPv4');
        expectEqual(n.bind(udp, inet(0, '127.0.0.1\u0000junk')), -n.EINVAL, 'embedded NUL');
        expectEqual(n.bind(udp, inet(70_000)), -n.EINVAL, 'port out of range');
        expectEqual(n.bind(sock(n.AF_UNIX, n.SOCK_DGRAM), unix(`/tmp/${'x'.repeat(200)}`)), -num('ENAMETOOLONG'), 'long path');
        expectEqual(n.bind(udp, { family: 12345 }), -num('EAFNOSUPPORT'), 'unknown family');
        expectEqual(n.sendto(udp, buf, 0, 1, inet(1, 'nonsense')), -n.EINVAL, 'sendto a bad address');
      },
    ],
    [
      'misuse throws: TypeError for wrong types, RangeError outside the buffer',
      () => {
        const udp = sock(n.AF_INET, n.SOCK_DGRAM);
        const anyN = n as unknown as Record<string, (...args: unknown[]) => unknown>;
        expectThrow(() => anyN.socket?.('2', n.SOCK_DGRAM), 'TypeError', 'socket("2")');
        expectThrow(() => anyN.recv?.(udp), 'TypeError', 'recv without a buffer');
        expectThrow(() => anyN.recv?.(udp, 'text', 0, 1), 'TypeError', 'recv into a string');
        expectThrow(() => anyN.recv?.(udp, new Uint8Array(8), 0, 1), 'TypeError', 'recv into a typed array');
        expectThrow(() => n.recv(udp, buf, 60, 8), 'RangeError', 'range past the end');
        expectThrow(() => n.send(udp, buf, -1, 1), 'RangeError', 'negative offset');
        expectThrow(() => anyN.bind?.(udp, null), 'TypeError', 'null address');
        expectThrow(() => anyN.bind?.(udp, {}), 'TypeError', 'address without family');
        expectThrow(() => anyN.bind?.(udp, { family: n.AF_INET, address: 1, port: 0 }), 'TypeError', 'numeric address');
        expectThrow(() => anyN.fsyncDir?.(42), 'TypeError', 'fsyncDir(42)');
      },
    ],
    [
      'datagrams: MSG_PEEK | MSG_TRUNC sizes a datagram; sender address comes back',
      () => {
        const a = sock(n.AF_INET, n.SOCK_DGRAM);
        const b = sock(n.AF_INET, n.SOCK_DGRAM);
        expectEqual([n.bind(a, inet(0)), n.bind(b, inet(0))], [0, 0], 'bind');
        const [bAddr] = n.getsockname(b);
        const big = new ArrayBuffer(1000);
        expectEqual(n.sendto(a, big, 0, 1000, bAddr as NativeAddress), 1000, 'sendto');
        expectEqual(n.recv(b, buf, 0, 0, n.MSG_PEEK | n.MSG_TRUNC), 1000, 'peeked size');
        const [got, from] = n.recvfrom(b, big, 0, 1000);
        expectEqual([got, from], [1000, n.getsockname(a)[0]], 'recvfrom');
      },
    ],
    [
      'options, fsync, fsyncDir, chmod',
      () => {
        const udp = sock(n.AF_INET, n.SOCK_DGRAM);
        expectEqual(n.setsockopt(udp, n.SOL_SOCKET, num('SO_RCVBUF'), 65536), 0, 'setsockopt');
        if (!(n.getsockopt(udp, n.SOL_SOCKET, num('SO_RCVBUF')) >= 65536)) throw new Error('SO_RCVBUF not applied');
        expectEqual(n.getsockopt(udp, n.SOL_SOCKET, n.SO_ERROR), 0, 'SO_ERROR');
        if (n.setsockopt(udp, 9999, 9999, 1) >= 0) throw new Error('an unknown option level should fail');
        const path = `${tmpDir}/synced`;
        const fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644);
        try {
          expectEqual(n.fsync(fd), 0, 'fsync');
        } finally {
          os.close(fd);
        }
        expectEqual(n.fsyncDir(tmpDir as string), 0, 'fsyncDir');
        expectEqual(n.fsyncDir(`${tmpDir}/missing`), -ENOENT, 'fsyncDir of a missing directory');
        expectEqual(n.fsyncDir(path), -num('ENOTDIR'), 'fsyncDir of a file');
        expectEqual(n.chmod(path, 0o600), 0, 'chmod');
        expectEqual(((os.stat(path)[0]?.mode ?? 0) & 0o777).toString(8), '600', 'mode after chmod');
        expectEqual(n.chmod(`${tmpDir}/missing`, 0o600), -ENOENT, 'chmod of a missing file');
      },
    ],
  ];

  const results: Result[] = [];
  for (const [name, fn] of checks) {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (e) {
      results.push({ name, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  for (const fd of opened) n.close(fd);
  std.out.puts(`${JSON.stringify({ results })}\n`);
  std.out.flush();
  std.exit(results.every((r) => r.ok) ? 0 : 1);
}

void main();
