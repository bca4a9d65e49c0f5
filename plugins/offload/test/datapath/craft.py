#!/usr/bin/env python3
"""Malformed and unusual frames for wire.test.ts, crafted with scapy and put on the wire.

    craft.py list                    the cases (name, 5-tuple, flow keys) as one JSON line
    craft.py sniff IFACE  [ADDRS]    capture on IFACE until SIGUSR1, then print the frames
    craft.py send IFACE   [ADDRS]    send the cases one by one; after each, print
                                     "SENT <name> <hex>" and wait for SIGUSR1 (the test
                                     reads the datapath's stats in between); then an echo
                                     request, which the sniffers report with "SENTINEL"

ADDRS: --src-mac --dst-mac --client4 --server4 --client6 --server6 (the lab's, lab.ts).

Every case carries its own identity where it survives forwarding and quoting in ICMP
errors: the IPv4 ID or the IPv6 flow label, and its own ports. The sniffer files each
frame under the case it belongs to, so one run per phase covers every case.
"""
import argparse
import json
import select
import signal
import socket
import struct
import sys

from scapy.all import (
    ICMP,
    IP,
    TCP,
    UDP,
    Dot1Q,
    Ether,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    Jumbo,
    PadN,
    Raw,
    conf,
    sendp,
)

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
IPV4_ID_BASE = 0x5700
IPV6_FLOW_BASE = 0x57000
SPORT_BASE = 42000
DPORT_BASE = 7000
# The ICMP echo identifier of the last frame of a run: the server answers it along the
# path of every other answer, so once both sniffers saw it the run is over.
SENTINEL_ID = 0x5757


class Case:
    def __init__(self, index, name, family, proto, builder, vids=(0,), nat="snat"):
        self.index = index
        self.name = name
        self.family = family
        self.proto = proto
        self.builder = builder
        self.vids = list(vids)
        self.nat = nat
        self.ipv4_id = IPV4_ID_BASE + index
        self.flow_label = IPV6_FLOW_BASE + index
        self.sport = SPORT_BASE + index
        self.dport = DPORT_BASE + index

    def build(self):
        """The frame, as bytes."""
        return self.builder(self)

    def meta(self):
        """What the test needs to install the case's flows."""
        keys = ("name", "family", "proto", "sport", "dport", "vids", "nat")
        return {k: getattr(self, k) for k in keys}


def cases(a):
    """The cases, in sending order, with the addresses of `a` (argparse)."""

    def eth(type_=None):
        return Ether(src=a.src_mac, dst=a.dst_mac, **({"type": type_} if type_ else {}))

    def mark(c, size=16):
        # a readable marker, for whoever looks at a capture
        return Raw(("wire:%s" % c.name).encode()[:size].ljust(size, b"."))

    def ip4(c, **kw):
        return IP(src=a.client4, dst=a.server4, id=c.ipv4_id, ttl=kw.pop("ttl", 64), **kw)

    def ip6(c, **kw):
        return IPv6(src=a.client6, dst=a.server6, fl=c.flow_label, hlim=kw.pop("hlim", 64), **kw)

    def udp(c, **kw):
        return UDP(sport=c.sport, dport=c.dport, **kw)

    def tcp(c, **kw):
        # ACK|PSH: no SYN/FIN/RST, which the datapath passes for a reason of their own
        return TCP(sport=c.sport, dport=c.dport, seq=1000, ack=2000, flags="PA", window=8192, **kw)

    def fix_ip4_checksum(b, l3=14):
        """Recomputes the IPv4 header checksum over IHL*4 bytes, after a hand edit."""
        ihl = (b[l3] & 0x0F) * 4
        hdr = bytearray(b[l3 : l3 + ihl])
        hdr[10:12] = b"\0\0"
        s = sum(struct.unpack("!%dH" % (len(hdr) // 2), bytes(hdr)))
        while s > 0xFFFF:
            s = (s & 0xFFFF) + (s >> 16)
        return b[: l3 + 10] + struct.pack("!H", ~s & 0xFFFF) + b[l3 + 12 :]

    def set_byte(b, off, value):
        return b[:off] + bytes([value]) + b[off + 1 :]

    def set_be16(b, off, value):
        return b[:off] + struct.pack("!H", value) + b[off + 2 :]

    L3 = 14  # IP header offset in an untagged frame
    defs = []

    def case(name, family, proto, **kw):
        def register(build):
            defs.append((name, family, proto, build, kw))
            return build

        return register

    # ---- IPv4 ----------------------------------------------------------------------
    @case("ip4-truncated-header", 4, "udp")
    def _(c):
        # 12 of the 20 header bytes: the frame ends where the addresses would begin
        return bytes(eth(0x0800) / ip4(c) / udp(c) / mark(c))[: L3 + 12]

    @case("ip4-total-length-beyond-frame", 4, "udp")
    def _(c):
        b = bytes(eth() / ip4(c) / udp(c) / mark(c))
        return fix_ip4_checksum(set_be16(b, L3 + 2, len(b) - L3 + 40))

    @case("ip4-ihl-4", 4, "udp")
    def _(c):
        # IHL below the minimum of 5; the 5-tuple still sits where a 20-byte header ends
        return fix_ip4_checksum(set_byte(bytes(eth() / ip4(c) / udp(c) / mark(c)), L3, 0x44))

    @case("ip4-ihl-15-beyond-packet", 4, "udp")
    def _(c):
        # a 60-byte header in a 44-byte packet
        return fix_ip4_checksum(set_byte(bytes(eth() / ip4(c) / udp(c) / mark(c)), L3, 0x4F))

    @case("ip4-ihl-beyond-total-length", 4, "udp")
    def _(c):
        # IHL 8 (32 bytes) > total length 28; the frame goes on, so all 32 bytes are there
        b = bytes(eth() / ip4(c) / udp(c, len=8, chksum=0) / mark(c))
        return fix_ip4_checksum(set_be16(set_byte(b, L3, 0x48), L3 + 2, 28))

    @case("ip4-options-record-route", 4, "udp")
    def _(c):
        # Record Route with two empty slots (the router writes its address in one) and EOL
        rr = bytes([7, 11, 4]) + bytes(8) + bytes([0])
        return bytes(eth() / ip4(c, options=[Raw(rr)]) / udp(c) / mark(c))

    @case("ip4-first-fragment", 4, "udp")
    def _(c):
        # MF, offset 0; the UDP length is this fragment's, so it looks complete to a
        # parser that ignores the fragment bits
        return bytes(eth() / ip4(c, flags="MF", frag=0) / udp(c) / mark(c, 24))

    @case("ip4-later-fragment", 4, "udp")
    def _(c):
        # offset 1480 bytes, last fragment: its data starts with what reads as a UDP
        # header of the flow (length = the fragment's data) to a parser that ignores offsets
        data = struct.pack("!HHHH", c.sport, c.dport, 8 + 16, 0) + bytes(mark(c))
        return bytes(eth() / ip4(c, proto=17, frag=185) / Raw(data))

    @case("ip4-ttl-1", 4, "udp")
    def _(c):
        return bytes(eth() / ip4(c, ttl=1) / udp(c) / mark(c))

    @case("ip4-udp-length-8", 4, "udp", nat="none")
    def _(c):
        # a valid datagram with no payload: UDP length 8 == the IP payload
        return bytes(eth() / ip4(c) / udp(c))

    @case("ip4-udp-length-0", 4, "udp")
    def _(c):
        return bytes(eth() / ip4(c) / udp(c, len=0) / mark(c))

    @case("ip4-udp-truncated", 4, "udp")
    def _(c):
        # protocol UDP, 4 bytes of its header (the ports) in the packet
        return bytes(eth() / ip4(c, proto=17) / Raw(struct.pack("!HH", c.sport, c.dport)))

    @case("ip4-tcp-truncated", 4, "tcp")
    def _(c):
        # 12 of the 20 TCP header bytes
        b = bytes(tcp(c))[:12]
        return bytes(eth() / ip4(c, proto=6) / Raw(b))

    @case("ip4-tcp-data-offset-15", 4, "tcp")
    def _(c):
        # a 60-byte TCP header claimed in a 28-byte segment
        return bytes(eth() / ip4(c) / tcp(c, dataofs=15) / Raw(b"12345678"))

    @case("ip4-tcp-data-offset-2", 4, "tcp")
    def _(c):
        return bytes(eth() / ip4(c) / tcp(c, dataofs=2) / mark(c))

    # ---- IPv6 ----------------------------------------------------------------------
    @case("ip6-truncated-header", 6, "udp")
    def _(c):
        return bytes(eth(0x86DD) / ip6(c) / udp(c) / mark(c))[: L3 + 30]

    @case("ip6-payload-length-beyond-frame", 6, "udp")
    def _(c):
        # 40 bytes more than there are
        b = bytes(eth() / ip6(c) / udp(c) / mark(c))
        return set_be16(b, L3 + 4, len(b) - L3)

    @case("ip6-hop-by-hop", 6, "udp")
    def _(c):
        return bytes(eth() / ip6(c) / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)]) / udp(c) / mark(c))

    @case("ip6-routing", 6, "udp")
    def _(c):
        # type 0, no segments left: only the destination looks at it
        return bytes(eth() / ip6(c) / IPv6ExtHdrRouting(type=0, segleft=0, addresses=[]) / udp(c) / mark(c))

    @case("ip6-destination-options", 6, "udp")
    def _(c):
        return bytes(eth() / ip6(c) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) / udp(c) / mark(c))

    @case("ip6-first-fragment", 6, "udp")
    def _(c):
        return bytes(eth() / ip6(c) / IPv6ExtHdrFragment(offset=0, m=1, id=c.flow_label) / udp(c) / mark(c, 24))

    @case("ip6-later-fragment", 6, "udp")
    def _(c):
        # offset 1480 bytes, last fragment, its data starting like a UDP header of the flow
        data = struct.pack("!HHHH", c.sport, c.dport, 8 + 16, 0x1234) + bytes(mark(c))
        return bytes(eth() / ip6(c) / IPv6ExtHdrFragment(nh=17, offset=185, m=0, id=c.flow_label) / Raw(data))

    @case("ip6-hop-limit-1", 6, "udp")
    def _(c):
        return bytes(eth() / ip6(c, hlim=1) / udp(c) / mark(c))

    @case("ip6-udp-length-8", 6, "udp", nat="none")
    def _(c):
        return bytes(eth() / ip6(c) / udp(c))

    @case("ip6-udp-length-0", 6, "udp")
    def _(c):
        # a normal payload length, UDP length 0 (which only a jumbogram may carry)
        return bytes(eth() / ip6(c) / udp(c, len=0) / mark(c))

    @case("ip6-jumbogram", 6, "udp")
    def _(c):
        # payload length 0 with a Jumbo Payload option, UDP length 0, as RFC 2675 has it;
        # the jumbo length (40) is no jumbo, which the router answers with a parameter problem
        hbh = IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=8 + 8 + 24)])
        return bytes(eth() / ip6(c, plen=0) / hbh / udp(c, len=0) / mark(c, 24))

    @case("ip6-udp-checksum-0", 6, "udp")
    def _(c):
        return bytes(eth() / ip6(c) / udp(c, chksum=0) / mark(c))

    @case("ip6-tcp-truncated", 6, "tcp")
    def _(c):
        return bytes(eth() / ip6(c, nh=6) / Raw(bytes(tcp(c))[:12]))

    # ---- VLAN tags on a router that has no VLAN devices --------------------------------
    @case("qinq-8021ad-ip4", 4, "udp", vids=(0, 10, 20))
    def _(c):
        return bytes(eth(0x88A8) / Dot1Q(vlan=10) / Dot1Q(vlan=20) / ip4(c) / udp(c) / mark(c))

    @case("qinq-8021q-8021q-ip4", 4, "udp", vids=(0, 30, 40))
    def _(c):
        return bytes(eth() / Dot1Q(vlan=30) / Dot1Q(vlan=40) / ip4(c) / udp(c) / mark(c))

    @case("qinq-8021ad-ip6", 6, "udp", vids=(0, 10, 20))
    def _(c):
        return bytes(eth(0x88A8) / Dot1Q(vlan=10) / Dot1Q(vlan=20) / ip6(c) / udp(c) / mark(c))

    @case("vlan-8021q-ip4", 4, "udp", vids=(0,))
    def _(c):
        # VID 100; the flow is keyed untagged (what the router forwards), so only a
        # datapath that drops the VID from the key would take it
        return bytes(eth() / Dot1Q(vlan=100) / ip4(c) / udp(c) / mark(c))

    return [Case(i, name, family, proto, build, **kw) for i, (name, family, proto, build, kw) in enumerate(defs)]


def case_list():
    """The cases without addresses: enough for their metadata and identities."""
    return cases(argparse.Namespace(src_mac="", dst_mac="", client4="", server4="", client6="", server6=""))


# ---- reading frames back --------------------------------------------------------------


def ip_of(frame):
    """(ethertype, offset of the IP header) after any VLAN tags."""
    off = 12
    ethertype = struct.unpack_from("!H", frame, off)[0] if len(frame) >= 14 else 0
    while ethertype in (0x8100, 0x88A8) and len(frame) >= off + 6:
        off += 4
        ethertype = struct.unpack_from("!H", frame, off)[0]
    return ethertype, off + 2


def classify(frame, by_id, by_flow, by_port, a):
    """The case a frame belongs to, and (type, code) when it is an ICMP error about it."""
    ethertype, l3 = ip_of(frame)
    try:
        if ethertype == 0x0800:
            ident = struct.unpack_from("!H", frame, l3 + 4)[0]
            if len(frame) < l3 + 20:  # a truncated header (as sent): the ID is in it
                return by_id.get(ident), None
            ihl = (frame[l3] & 0x0F) * 4
            proto = frame[l3 + 9]
            src = socket.inet_ntop(socket.AF_INET, frame[l3 + 12 : l3 + 16])
            dst = socket.inet_ntop(socket.AF_INET, frame[l3 + 16 : l3 + 20])
            l4 = l3 + ihl
            if proto == 1 and frame[l4] in (0, 8) and struct.unpack_from("!H", frame, l4 + 4)[0] == SENTINEL_ID:
                return "sentinel", None
            if proto == 1 and frame[l4] in (3, 11, 12):  # an error quoting the packet
                quoted = l4 + 8
                return by_id.get(struct.unpack_from("!H", frame, quoted + 4)[0]), (frame[l4], frame[l4 + 1])
            if src == a.client4:
                return by_id.get(ident), None
            if dst == a.client4 and proto in (6, 17):  # an answer (TCP RST)
                return by_port.get(struct.unpack_from("!H", frame, l4 + 2)[0]), None
        elif ethertype == 0x86DD:
            flow = struct.unpack_from("!I", frame, l3)[0] & 0xFFFFF
            if len(frame) < l3 + 40:
                return by_flow.get(flow), None
            nh = frame[l3 + 6]
            src = socket.inet_ntop(socket.AF_INET6, frame[l3 + 8 : l3 + 24])
            dst = socket.inet_ntop(socket.AF_INET6, frame[l3 + 24 : l3 + 40])
            l4 = l3 + 40
            if nh == 58 and frame[l4] < 128:  # an ICMPv6 error quoting the packet
                quoted = struct.unpack_from("!I", frame, l4 + 8)[0] & 0xFFFFF
                return by_flow.get(quoted), (frame[l4], frame[l4 + 1])
            if src == a.client6:
                return by_flow.get(flow), None
            if dst == a.client6 and nh in (6, 17):
                return by_port.get(struct.unpack_from("!H", frame, l4 + 2)[0]), None
    except (IndexError, struct.error, ValueError):
        pass
    return None, None


def sniff(a):
    stop = []
    signal.signal(signal.SIGUSR1, lambda *_: stop.append(1))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.bind((a.iface, ETH_P_ALL))
    all_cases = case_list()
    by_id = {c.ipv4_id: c.name for c in all_cases}
    by_flow = {c.flow_label: c.name for c in all_cases}
    by_port = {c.sport: c.name for c in all_cases}
    frames = []
    print("READY", flush=True)

    def drain():
        while True:
            try:
                data, anc, _flags, addr = sock.recvmsg(65536, socket.CMSG_SPACE(32), socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            for level, kind, value in anc:
                if level == SOL_PACKET and kind == PACKET_AUXDATA and len(value) >= 20:
                    status, _len, _snap, _mac, _net, tci, tpid = struct.unpack_from("=IIIHHHH", value)
                    # the receiving device took a tag off into metadata: put it back, as
                    # libpcap does, so that the frame is recorded as it arrived
                    if status & TP_STATUS_VLAN_VALID:
                        tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
                        data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
            name, icmp = classify(data, by_id, by_flow, by_port, a)
            if name == "sentinel" and addr[2] != PACKET_OUTGOING:
                print("SENTINEL", flush=True)
            frames.append(
                {
                    "case": name,
                    "out": addr[2] == PACKET_OUTGOING,
                    "icmp": list(icmp) if icmp else None,
                    "hex": data.hex(),
                }
            )

    while not stop:
        select.select([sock], [], [], 0.05)
        drain()
    drain()
    print("RESULT " + json.dumps({"frames": frames}), flush=True)


def send(a):
    # blocked, so that the test's "go on" is never lost between two sigwait()s
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    conf.verb = 0
    sock = conf.L2socket(iface=a.iface, promisc=False)
    try:
        for c in cases(a):
            frame = c.build()
            # Raw: exactly these bytes, no field that scapy would fill in or fix
            sendp(Raw(frame), socket=sock, verbose=False)
            print("SENT %s %s" % (c.name, frame.hex()), flush=True)
            signal.sigwait({signal.SIGUSR1})
        echo = IP(src=a.client4, dst=a.server4, id=IPV4_ID_BASE - 1) / ICMP(type=8, id=SENTINEL_ID, seq=1)
        sendp(Ether(src=a.src_mac, dst=a.dst_mac) / echo / Raw(b"wire:sentinel"), socket=sock, verbose=False)
    finally:
        sock.close()
    print("DONE", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["list", "sniff", "send"])
    p.add_argument("iface", nargs="?")
    p.add_argument("--src-mac", default="")
    p.add_argument("--dst-mac", default="")
    p.add_argument("--client4", default="")
    p.add_argument("--server4", default="")
    p.add_argument("--client6", default="")
    p.add_argument("--server6", default="")
    a = p.parse_args()
    if a.mode == "list":
        print(json.dumps([c.meta() for c in case_list()]))
    elif not a.iface:
        p.error("%s needs IFACE" % a.mode)
    elif a.mode == "sniff":
        sniff(a)
    else:
        send(a)


if __name__ == "__main__":
    sys.exit(main())
