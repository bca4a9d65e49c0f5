// Drives ebpf/offload/test/runner.c: builds the datapath and the harness with make, runs
// the harness (in a lab namespace) and talks to it one command / one JSON line at a
// time. Also lays out the structs of ebpf/offload/offload.h the way user space must, and
// checks that layout against the compiler's (`layout`).
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { labSupported } from '@wrtkit/sdk/lab';
import { hex, unhex } from './packets.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const EBPF_DIR = join(REPO, 'ebpf/offload');
export const BUILD_DIR = process.env.OFFLOAD_BUILD_DIR ?? join(REPO, '.cache/ebpf/offload');
const HOST_ENDIAN = endianness() === 'LE' ? 'bpfel' : 'bpfeb';
export const OBJECT = join(BUILD_DIR, `offload.${HOST_ENDIAN}.o`);
export const OBJECT_DSA = join(BUILD_DIR, `offload-dsa-mtk.${HOST_ENDIAN}.o`);
export const RUNNER = join(BUILD_DIR, 'runner');

export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_REDIRECT = 4;
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;

/** Why the datapath cannot be tested on this machine, or '' when it can. */
export function bpfUnavailable(): string {
  if (process.platform !== 'linux') return 'BPF needs Linux';
  if (process.getuid?.() !== 0) return 'loading BPF programs needs root';
  // the sysctl exists exactly when the kernel has the bpf() syscall
  if (!existsSync('/proc/sys/kernel/unprivileged_bpf_disabled')) return 'this kernel has no bpf() syscall';
  return '';
}

/**
 * Why a lab test of the datapath cannot run here ('' when it can): no BPF, no namespaces
 * (labSupported), or one of `programs` missing from the system's bin directories.
 */
export function labSkipReason(programs: readonly string[] = []): string {
  const lab = labSupported();
  if (!lab.ok) return bpfUnavailable() || lab.reason;
  const missing = programs.find(
    (name) => !['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((dir) => existsSync(`${dir}/${name}`)),
  );
  return bpfUnavailable() || (missing ? `${missing} is not installed` : '');
}

/** make -C ebpf/offload all runner (objects and harness into BUILD_DIR). */
export function buildDatapath(): void {
  execFileSync('make', ['-s', '-C', EBPF_DIR, `BUILD_DIR=${BUILD_DIR}`, 'all', 'runner'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export interface Reply {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

/** One harness process: one loaded object, its maps pinned under its own bpffs. */
export class Runner {
  readonly stderr: string[] = [];
  private readonly waiting: Array<(reply: Reply) => void> = [];
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const resolveReply = this.waiting.shift();
      resolveReply?.(JSON.parse(line) as Reply);
    });
    createInterface({ input: child.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((done) =>
      child.on('exit', () => {
        for (const w of this.waiting.splice(0)) w({ ok: false, error: `runner exited: ${this.stderr.join('\n')}` });
        done();
      }),
    );
  }

  /** Starts the harness inside `netns` (`ip netns exec`: a private mount namespace too). */
  static async start(object: string, pinRoot: string, netns: string): Promise<Runner> {
    const child = spawn('ip', ['netns', 'exec', netns, RUNNER, object, pinRoot], { stdio: ['pipe', 'pipe', 'pipe'] });
    const runner = new Runner(child);
    const ready = await runner.next();
    if (!ready.ok) throw new Error(`runner did not start: ${ready.error ?? ''}`);
    return runner;
  }

  private next(): Promise<Reply> {
    return new Promise((res) => this.waiting.push(res));
  }

  /** Sends one command and returns its reply (commands are answered in order). */
  cmd(line: string): Promise<Reply> {
    const reply = this.next();
    this.child.stdin.write(`${line}\n`);
    return reply;
  }

  /** Like cmd(), but a failed command throws with the harness's message. */
  async ok(line: string): Promise<Reply> {
    const reply = await this.cmd(line);
    if (!reply.ok) throw new Error(`runner: ${line.slice(0, 80)}: ${reply.error ?? ''}\n${this.stderr.join('\n')}`);
    return reply;
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) this.child.stdin.end('quit\n');
    await this.exited;
  }

  // ---- typed helpers ---------------------------------------------------------------

  async stats(): Promise<Record<string, number>> {
    return (await this.ok('stats')).stats as Record<string, number>;
  }

  /** Runs a frame through BPF_PROG_TEST_RUN; returns the verdict, the frame after, and the stats it moved. */
  async run(hook: 'xdp' | 'tc', bytes: ArrayLike<number>, ifindex?: number, gso?: { size: number; segs: number }) {
    const before = await this.stats();
    const args = [
      hook,
      hex(bytes),
      ...(ifindex !== undefined ? [String(ifindex)] : []),
      ...(gso ? [String(gso.size), String(gso.segs)] : []),
    ];
    const reply = await this.cmd(`run ${args.join(' ')}`);
    const after = await this.stats();
    const moved = Object.fromEntries(
      Object.entries(after).flatMap(([k, v]) => (v !== before[k] ? [[k, v - (before[k] ?? 0)]] : [])),
    );
    return {
      ok: reply.ok,
      error: reply.error,
      ret: reply.ret as number,
      out: reply.ok ? unhex(reply.out as string) : new Uint8Array(),
      moved,
    };
  }

  async flow(key: FlowKey, value: FlowValue): Promise<void> {
    await this.ok(`flow ${encodeKey(key)} ${encodeValue(value)}`);
  }

  async counters(key: FlowKey): Promise<FlowCounters> {
    return decodeCounters((await this.ok(`getflow ${encodeKey(key)}`)).value as string);
  }

  async events(): Promise<FlowEvent[]> {
    return ((await this.ok('events')).events as string[]).map(decodeEvent);
  }
}

// ---- the structs of offload.h, as user space lays them out ----------------------------

/** [offset, size] of each field, as in ebpf/offload/offload.h. */
export const LAYOUT = {
  key: {
    size: 48,
    ifindex: [0, 4],
    vlan_id: [4, 2],
    pppoe_sid: [6, 2],
    family: [8, 1],
    proto: [9, 1],
    dsa_port: [10, 1],
    sport: [12, 2],
    dport: [14, 2],
    saddr: [16, 16],
    daddr: [32, 16],
  },
  value: {
    size: 96,
    action: [0, 1],
    flags: [1, 1],
    mtu: [2, 2],
    egress_ifindex: [4, 4],
    nat_saddr: [8, 16],
    nat_daddr: [24, 16],
    nat_sport: [40, 2],
    nat_dport: [42, 2],
    csum_addr: [44, 2],
    csum_port: [46, 2],
    dst_mac: [48, 6],
    src_mac: [54, 6],
    egress_vlan: [60, 2],
    egress_pppoe_sid: [62, 2],
    egress_dsa_port: [64, 1],
    packets: [72, 8],
    bytes: [80, 8],
    last_seen_ns: [88, 8],
  },
  event: { size: 64, ts_ns: [0, 8], type: [8, 4], l3_len: [12, 2], hook: [14, 1], tcp_flags: [15, 1], key: [16, 48] },
} as const;

export const ACTION = { pass: 0, forward: 1, drop: 2 } as const;
export const F_SNAT = 1;
export const F_DNAT = 2;
export const F_VLAN = 4;
export const F_PPPOE = 8;
export const F_DSA = 16;
export const HOOK = { xdp: 1, tc: 2 } as const;

export interface FlowKey {
  ifindex: number;
  vlanId?: number;
  pppoeSid?: number;
  family: 4 | 6;
  proto: number;
  dsaPort?: number;
  sport: number;
  dport: number;
  saddr: number[];
  daddr: number[];
}

export interface FlowValue {
  action: number;
  flags?: number;
  mtu: number;
  egressIfindex: number;
  natSaddr?: number[];
  natDaddr?: number[];
  natSport?: number;
  natDport?: number;
  csumAddr?: number;
  csumPort?: number;
  dstMac: number[];
  srcMac: number[];
  egressVlan?: number;
  egressPppoeSid?: number;
  egressDsaPort?: number;
}

export interface FlowCounters {
  packets: bigint;
  bytes: bigint;
  lastSeenNs: bigint;
}

export interface FlowEvent {
  tsNs: bigint;
  type: number;
  l3Len: number;
  hook: number;
  tcpFlags: number;
  key: string;
}

const LE = endianness() === 'LE';

/** Host-order numbers in host byte order, wire values (addresses, ports, ids, deltas) big-endian. */
class StructWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  host(field: readonly [number, number], v: number): void {
    const [off, size] = field;
    if (size === 1) this.view.setUint8(off, v);
    else if (size === 2) this.view.setUint16(off, v, LE);
    else this.view.setUint32(off, v, LE);
  }
  wire(field: readonly [number, number], v: number | number[]): void {
    const [off, size] = field;
    if (Array.isArray(v)) this.bytes.set(v.slice(0, size), off);
    else this.view.setUint16(off, v, false);
  }
}

export function encodeKey(k: FlowKey): string {
  const w = new StructWriter(LAYOUT.key.size);
  const L = LAYOUT.key;
  w.host(L.ifindex, k.ifindex);
  w.host(L.vlan_id, k.vlanId ?? 0);
  w.wire(L.pppoe_sid, k.pppoeSid ?? 0);
  w.host(L.family, k.family);
  w.host(L.proto, k.proto);
  w.host(L.dsa_port, k.dsaPort ?? 0);
  w.wire(L.sport, k.sport);
  w.wire(L.dport, k.dport);
  w.wire(L.saddr, k.saddr);
  w.wire(L.daddr, k.daddr);
  return hex(w.bytes);
}

export function encodeValue(v: FlowValue): string {
  const w = new StructWriter(LAYOUT.value.size);
  const L = LAYOUT.value;
  w.host(L.action, v.action);
  w.host(L.flags, v.flags ?? 0);
  w.host(L.mtu, v.mtu);
  w.host(L.egress_ifindex, v.egressIfindex);
  if (v.natSaddr) w.wire(L.nat_saddr, v.natSaddr);
  if (v.natDaddr) w.wire(L.nat_daddr, v.natDaddr);
  w.wire(L.nat_sport, v.natSport ?? 0);
  w.wire(L.nat_dport, v.natDport ?? 0);
  w.wire(L.csum_addr, v.csumAddr ?? 0);
  w.wire(L.csum_port, v.csumPort ?? 0);
  w.wire(L.dst_mac, v.dstMac);
  w.wire(L.src_mac, v.srcMac);
  w.host(L.egress_vlan, v.egressVlan ?? 0);
  w.wire(L.egress_pppoe_sid, v.egressPppoeSid ?? 0);
  w.host(L.egress_dsa_port, v.egressDsaPort ?? 0);
  return hex(w.bytes);
}

export function decodeCounters(text: string): FlowCounters {
  const view = new DataView(unhex(text).buffer);
  return {
    packets: view.getBigUint64(LAYOUT.value.packets[0], LE),
    bytes: view.getBigUint64(LAYOUT.value.bytes[0], LE),
    lastSeenNs: view.getBigUint64(LAYOUT.value.last_seen_ns[0], LE),
  };
}

export function decodeEvent(text: string): FlowEvent {
  const bytes = unhex(text);
  const view = new DataView(bytes.buffer);
  const L = LAYOUT.event;
  return {
    tsNs: view.getBigUint64(L.ts_ns[0], LE),
    type: view.getUint32(L.type[0], LE),
    l3Len: view.getUint16(L.l3_len[0], LE),
    hook: view.getUint8(L.hook[0]),
    tcpFlags: view.getUint8(L.tcp_flags[0]),
    key: hex(bytes.slice(L.key[0], L.key[0] + L.key[1])),
  };
}
