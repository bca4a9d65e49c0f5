// Frames built byte by byte for the datapath tests, a parser to read the results back,
// and the Internet checksum computed from scratch (RFC 1071): independent of the
// datapath's incremental updates, so a wrong delta shows up as an invalid checksum.

export type Family = 4 | 6;
export type L4Proto = 'tcp' | 'udp';

export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_PPP_SES = 0x8864;
export const ETH_P_ARP = 0x0806;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export function mac(text: string): number[] {
  const bytes = text.split(':').map((h) => parseInt(h, 16));
  if (bytes.length !== 6 || bytes.some((b) => !(b >= 0 && b <= 255))) throw new Error(`bad MAC ${text}`);
  return bytes;
}

export function ipv4(text: string): number[] {
  const bytes = text.split('.').map(Number);
  if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) throw new Error(`bad IPv4 ${text}`);
  return bytes;
}

export function ipv6(text: string): number[] {
  const [head = '', tail] = text.split('::');
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8 || all.some((w) => !(w >= 0 && w <= 0xffff))) throw new Error(`bad IPv6 ${text}`);
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

export const ip = (family: Family, text: string): number[] => (family === 4 ? ipv4(text) : ipv6(text));

export const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
export const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
export const hex = (bytes: ArrayLike<number>): string => Buffer.from(Uint8Array.from(bytes)).toString('hex');
export const unhex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));
export const readBe16 = (b: ArrayLike<number>, off: number): number => ((b[off] ?? 0) << 8) | (b[off + 1] ?? 0);

// ---- checksums ---------------------------------------------------------------------

/** One's-complement sum of big-endian 16-bit words (odd length padded), folded to 16 bits. */
export function onesSum(bytes: ArrayLike<number>, start = 0, end = bytes.length, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += ((bytes[i] ?? 0) << 8) | (i + 1 < end ? (bytes[i + 1] ?? 0) : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The value for a checksum field: the complement of the sum of what it covers. */
export const checksum = (bytes: ArrayLike<number>, initial = 0): number => ~onesSum(bytes, 0, bytes.length, initial) & 0xffff;

function pseudoHeaderSum(family: Family, src: number[], dst: number[], proto: number, length: number): number {
  const len = family === 4 ? be16(length) : be32(length);
  const pseudo = family === 4 ? [...src, ...dst, 0, proto, ...len] : [...src, ...dst, ...len, 0, 0, 0, proto];
  return onesSum(pseudo);
}

/** Does this IPv4 header (with its checksum field) sum to 0xffff? */
export const ipv4HeaderValid = (header: ArrayLike<number>): boolean => onesSum(header) === 0xffff;

/** Does this TCP/UDP segment (with its checksum field) verify against its pseudo header? */
export function l4ChecksumValid(
  family: Family,
  src: number[],
  dst: number[],
  proto: number,
  segment: ArrayLike<number>,
): boolean {
  return onesSum(segment, 0, segment.length, pseudoHeaderSum(family, src, dst, proto, segment.length)) === 0xffff;
}

/**
 * What a CHECKSUM_PARTIAL packet carries in its L4 checksum field before the NIC (or the
 * stack) finishes it: the folded pseudo-header sum, not complemented.
 */
export const partialChecksumSeed = (family: Family, src: number[], dst: number[], proto: number, length: number): number =>
  pseudoHeaderSum(family, src, dst, proto, length);

/**
 * The checksum delta user space precomputes for the datapath (see ebpf/offload/README.md):
 * the one's-complement sum of the new 16-bit words minus the old ones, folded, with -0
 * (0xffff) written as 0.
 */
export function checksumDelta(oldBytes: number[], newBytes: number[]): number {
  if (oldBytes.length !== newBytes.length || oldBytes.length % 2) throw new Error('checksumDelta: equal, even lengths');
  const d = onesSum([...newBytes, ...oldBytes.map((b) => ~b & 0xff)]);
  return d === 0xffff ? 0 : d;
}

// ---- building ----------------------------------------------------------------------

export interface FrameSpec {
  dst?: string;
  src?: string;
  /** VLAN tags, outermost first: TPID (default 0x8100) and TCI. */
  vlans?: Array<{ tci: number; tpid?: number }>;
  pppoe?: { sid: number; length?: number };
  /** MediaTek DSA tag (4 bytes after the source MAC) for the DSA build. */
  dsaPort?: number;
  family: Family;
  srcIp: string;
  dstIp: string;
  ttl?: number;
  /** IPv4: DF (default on), MF, fragment offset in 8-byte units, options (multiple of 4 bytes). */
  df?: boolean;
  mf?: boolean;
  fragOffset?: number;
  ipOptions?: number[];
  /** IPv6 extension headers before the L4 header, each [type, body ≥ 6 bytes]. */
  extHeaders?: Array<{ type: number; body: number[] }>;
  proto: L4Proto;
  sport: number;
  dport: number;
  tcpFlags?: number;
  payload?: number[];
  /** UDP: send this checksum instead of the computed one (0: none). */
  udpCheck?: number;
  /** Bytes after the IP packet (Ethernet padding). */
  trailer?: number[];
}

export const PAYLOAD = Array.from({ length: 26 }, (_, i) => 0x41 + i);

/** The IP packet (header, extension headers, L4) with valid checksums. */
export function ipPacket(spec: FrameSpec): number[] {
  const src = ip(spec.family, spec.srcIp);
  const dst = ip(spec.family, spec.dstIp);
  const payload = spec.payload ?? PAYLOAD;
  const protoNum = spec.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
  let l4: number[];
  if (spec.proto === 'tcp') {
    l4 = [...be16(spec.sport), ...be16(spec.dport), ...be32(0x01020304), ...be32(0x05060708)];
    l4.push(5 << 4, spec.tcpFlags ?? TCP_ACK | TCP_PSH, ...be16(0xfaf0), 0, 0, 0, 0, ...payload);
    const c = checksum(l4, pseudoHeaderSum(spec.family, src, dst, protoNum, l4.length));
    l4[16] = c >> 8;
    l4[17] = c & 0xff;
  } else {
    l4 = [...be16(spec.sport), ...be16(spec.dport), ...be16(8 + payload.length), 0, 0, ...payload];
    let c = checksum(l4, pseudoHeaderSum(spec.family, src, dst, protoNum, l4.length));
    if (c === 0) c = 0xffff;
    if (spec.udpCheck !== undefined) c = spec.udpCheck;
    l4[6] = c >> 8;
    l4[7] = c & 0xff;
  }

  if (spec.family === 4) {
    const options = spec.ipOptions ?? [];
    const ihl = 5 + options.length / 4;
    const frag = (spec.df === false ? 0 : 0x4000) | (spec.mf ? 0x2000 : 0) | (spec.fragOffset ?? 0);
    const header = [
      0x40 | ihl,
      0,
      ...be16(ihl * 4 + l4.length),
      ...be16(0x1234),
      ...be16(frag),
      spec.ttl ?? 64,
      protoNum,
      0,
      0,
      ...src,
      ...dst,
      ...options,
    ];
    const c = checksum(header);
    header[10] = c >> 8;
    header[11] = c & 0xff;
    return [...header, ...l4];
  }

  const exts = spec.extHeaders ?? [];
  const chain: number[] = [];
  exts.forEach((ext, i) => {
    const next = exts[i + 1]?.type ?? protoNum;
    const body = [...ext.body];
    while ((body.length + 2) % 8) body.push(0);
    chain.push(next, ext.type === 44 ? 0 : (body.length + 2) / 8 - 1, ...body);
  });
  const first = exts[0]?.type ?? protoNum;
  const payloadLen = chain.length + l4.length;
  return [0x60, 0, 0, 0, ...be16(payloadLen), first, spec.ttl ?? 64, ...src, ...dst, ...chain, ...l4];
}

/** The whole frame: Ethernet (DSA tag, VLANs, PPPoE) and the IP packet. */
export function frame(spec: FrameSpec): number[] {
  const packet = ipPacket(spec);
  const l2 = [...mac(spec.dst ?? '02:00:00:00:01:01'), ...mac(spec.src ?? '02:00:00:00:00:02')];
  if (spec.dsaPort !== undefined) l2.push(0, spec.dsaPort & 7, 0, 0);
  for (const vlan of spec.vlans ?? []) l2.push(...be16(vlan.tpid ?? ETH_P_8021Q), ...be16(vlan.tci));
  if (spec.pppoe) {
    const proto = spec.family === 4 ? 0x0021 : 0x0057;
    l2.push(
      ...be16(ETH_P_PPP_SES),
      0x11,
      0,
      ...be16(spec.pppoe.sid),
      ...be16(spec.pppoe.length ?? packet.length + 2),
      ...be16(proto),
    );
  } else {
    l2.push(...be16(spec.family === 4 ? ETH_P_IP : ETH_P_IPV6));
  }
  return [...l2, ...packet, ...(spec.trailer ?? [])];
}

// ---- reading back ------------------------------------------------------------------

export interface ParsedFrame {
  dst: number[];
  src: number[];
  dsaTag?: number[];
  vlans: Array<{ tpid: number; tci: number }>;
  pppoe?: { sid: number; length: number; proto: number };
  ethertype: number;
  l3Off: number;
  family: Family;
  srcIp: number[];
  dstIp: number[];
  ttl: number;
  l3Len: number;
  l4Off: number;
  proto: number;
  sport: number;
  dport: number;
  /** Bytes after the L4 header: the payload (and any padding after the IP packet). */
  payload: number[];
}

/** Reads a frame of the shapes frame() builds (no options or extension headers). */
export function parseFrame(bytes: ArrayLike<number>, opts: { dsa?: boolean } = {}): ParsedFrame {
  const b = Array.from(bytes);
  let off = 12;
  const out: Partial<ParsedFrame> = { dst: b.slice(0, 6), src: b.slice(6, 12), vlans: [] };
  if (opts.dsa) {
    out.dsaTag = b.slice(12, 16);
    off = 16;
  }
  let type = readBe16(b, off);
  off += 2;
  while (type === ETH_P_8021Q || type === ETH_P_8021AD) {
    out.vlans!.push({ tpid: type, tci: readBe16(b, off) });
    type = readBe16(b, off + 2);
    off += 4;
  }
  if (type === ETH_P_PPP_SES) {
    out.pppoe = { sid: readBe16(b, off + 2), length: readBe16(b, off + 4), proto: readBe16(b, off + 6) };
    type = out.pppoe.proto === 0x0021 ? ETH_P_IP : ETH_P_IPV6;
    off += 8;
  }
  out.ethertype = type;
  out.l3Off = off;
  if (type === ETH_P_IP) {
    out.family = 4;
    out.ttl = b[off + 8]!;
    out.proto = b[off + 9]!;
    out.srcIp = b.slice(off + 12, off + 16);
    out.dstIp = b.slice(off + 16, off + 20);
    out.l3Len = readBe16(b, off + 2);
    out.l4Off = off + (b[off]! & 0x0f) * 4;
  } else if (type === ETH_P_IPV6) {
    out.family = 6;
    out.ttl = b[off + 7]!;
    out.proto = b[off + 6]!;
    out.srcIp = b.slice(off + 8, off + 24);
    out.dstIp = b.slice(off + 24, off + 40);
    out.l3Len = 40 + readBe16(b, off + 4);
    out.l4Off = off + 40;
  } else {
    throw new Error(`parseFrame: ethertype 0x${type.toString(16)}`);
  }
  out.sport = readBe16(b, out.l4Off);
  out.dport = readBe16(b, out.l4Off + 2);
  out.payload = b.slice(out.l4Off + (out.proto === IPPROTO_TCP ? 20 : 8));
  return out as ParsedFrame;
}

/** Checks every checksum of a parsed frame from scratch. */
export function checksumsValid(bytes: ArrayLike<number>, p: ParsedFrame): { ip: boolean; l4: boolean } {
  const b = Array.from(bytes);
  const ipOk = p.family === 6 || ipv4HeaderValid(b.slice(p.l3Off, p.l4Off));
  const segment = b.slice(p.l4Off, p.l3Off + p.l3Len);
  if (p.proto === IPPROTO_UDP && p.family === 4 && readBe16(segment, 6) === 0) return { ip: ipOk, l4: true };
  return { ip: ipOk, l4: l4ChecksumValid(p.family, p.srcIp, p.dstIp, p.proto, segment) };
}
