// Flow entries for test frames, written the way the user-space daemon will write them:
// the key from the frame as it arrives, the value with the NAT tuple, the checksum
// deltas (checksumDelta: the convention of ebpf/offload/README.md) and the egress L2.
import { ADDR, ROUTER_WAN_MAC, SERVER_MAC } from './lab.js';
import { IPPROTO_TCP, IPPROTO_UDP, checksumDelta, ip, mac, be16, type FrameSpec } from './packets.js';
import { ACTION, F_DNAT, F_PPPOE, F_SNAT, F_VLAN, type FlowKey, type FlowValue } from './runner.js';

export type Nat = 'none' | 'snat' | 'dnat' | 'both';

export interface TestFlow {
  key: FlowKey;
  value: FlowValue;
  /** The frame spec as it must leave (addresses, ports and TTL after the rewrite). */
  after: FrameSpec;
}

const pad16 = (bytes: number[]): number[] => [...bytes, ...new Array<number>(16 - bytes.length).fill(0)];

/** The key the datapath must build for this frame arriving on ifindex. */
export function keyFor(spec: FrameSpec, ifindex: number): FlowKey {
  return {
    ifindex,
    vlanId: (spec.vlans?.[0]?.tci ?? 0) & 0x0fff,
    pppoeSid: spec.pppoe?.sid ?? 0,
    family: spec.family,
    proto: spec.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
    dsaPort: spec.dsaPort ?? 0,
    sport: spec.sport,
    dport: spec.dport,
    saddr: pad16(ip(spec.family, spec.srcIp)),
    daddr: pad16(ip(spec.family, spec.dstIp)),
  };
}

export interface FlowOptions {
  nat?: Nat;
  egressVlan?: number;
  egressPppoeSid?: number;
  mtu?: number;
  action?: number;
  flags?: number;
  egressDsaPort?: number;
}

/** A forwarding flow for spec from ingress to egress (the server's side of the router). */
export function flowFor(spec: FrameSpec, ingress: number, egress: number, opts: FlowOptions = {}): TestFlow {
  const nat = opts.nat ?? 'none';
  const a = ADDR[spec.family];
  const snat = nat === 'snat' || nat === 'both';
  const dnat = nat === 'dnat' || nat === 'both';
  const after: FrameSpec = {
    ...spec,
    vlans: opts.egressVlan !== undefined ? [{ tci: opts.egressVlan }] : [],
    pppoe: opts.egressPppoeSid !== undefined ? { sid: opts.egressPppoeSid } : undefined,
    dst: SERVER_MAC,
    src: ROUTER_WAN_MAC,
    srcIp: snat ? a.routerWan : spec.srcIp,
    sport: snat ? 40000 + (spec.sport % 1000) : spec.sport,
    dstIp: dnat ? a.other : spec.dstIp,
    dport: dnat ? 8080 : spec.dport,
    ttl: (spec.ttl ?? 64) - 1,
  };
  const oldAddrs = [...ip(spec.family, spec.srcIp), ...ip(spec.family, spec.dstIp)];
  const newAddrs = [...ip(spec.family, after.srcIp), ...ip(spec.family, after.dstIp)];
  const flags =
    (opts.flags ?? 0) |
    (snat ? F_SNAT : 0) |
    (dnat ? F_DNAT : 0) |
    (opts.egressVlan !== undefined ? F_VLAN : 0) |
    (opts.egressPppoeSid !== undefined ? F_PPPOE : 0);
  const value: FlowValue = {
    action: opts.action ?? ACTION.forward,
    flags,
    mtu: opts.mtu ?? 1500,
    egressIfindex: egress,
    natSaddr: snat ? pad16(ip(spec.family, after.srcIp)) : undefined,
    natDaddr: dnat ? pad16(ip(spec.family, after.dstIp)) : undefined,
    natSport: snat ? after.sport : 0,
    natDport: dnat ? after.dport : 0,
    csumAddr: checksumDelta(oldAddrs, newAddrs),
    csumPort: checksumDelta([...be16(spec.sport), ...be16(spec.dport)], [...be16(after.sport), ...be16(after.dport)]),
    dstMac: mac(SERVER_MAC),
    srcMac: mac(ROUTER_WAN_MAC),
    egressVlan: opts.egressVlan,
    egressPppoeSid: opts.egressPppoeSid,
    egressDsaPort: opts.egressDsaPort,
  };
  return { key: keyFor(spec, ingress), value, after };
}
