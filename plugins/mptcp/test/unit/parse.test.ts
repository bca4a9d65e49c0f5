// What the plugin reads from iproute2, on output recorded from the real tools (iproute2
// 6.1, kernel 6.18): ss -tniH with MPTCP subflows, ip -o monitor link address.
import { describe, expect, it } from 'vitest';
import { parseMonitorLine, parseSubflows } from '../../src/parse.js';

const SS = [
  'ESTAB 0      34517  10.100.1.1%p1:46698 10.200.0.1:8388 ',
  '\t bbr wscale:10,10 rto:204 rtt:14.976/3.171 mss:1448 cwnd:18 bytes_sent:100000 bytes_retrans:2823 bytes_acked:65484 segs_out:6 tcp-ulp-mptcp flags:Mmec token:0000(id:0)/54844931(id:0) seq:4489d36ec4b87a60 sfseq:1 ssnoff:42db4dab maplen:0',
  'ESTAB 0      0      10.100.2.1%p2:42971 10.200.0.1:8388',
  '\t reno wscale:7,7 rto:216 rtt:15.5/2 bytes_acked:4670260 bytes_received:1200 delivery_rate 9574432bps tcp-ulp-mptcp flags:Jjec token:d37bafee(id:0)/54844931(id:2) seq:1',
  'ESTAB 0      0      10.1.0.1:1080 10.1.0.2:51234',
  '\t cubic wscale:7,7 rto:204 rtt:0.1/0.05 bytes_acked:1 bytes_received:99',
  'ESTAB 0      0      [::1]:22 [::1]:40000',
  '\t cubic rtt:0.1/0.05',
  '',
].join('\n');

describe('parseSubflows', () => {
  it('keeps the MPTCP subflows with their device, token, role and counters', () => {
    expect(parseSubflows(SS)).toEqual([
      {
        local: '10.100.1.1',
        localPort: 46698,
        remote: '10.200.0.1',
        remotePort: 8388,
        dev: 'p1',
        token: '54844931',
        initial: true,
        bytesAcked: 65484,
        bytesReceived: 0,
        bytesRetrans: 2823,
        rttMs: 14.976,
      },
      {
        local: '10.100.2.1',
        localPort: 42971,
        remote: '10.200.0.1',
        remotePort: 8388,
        dev: 'p2',
        token: '54844931',
        initial: false,
        bytesAcked: 4670260,
        bytesReceived: 1200,
        bytesRetrans: 0,
        rttMs: 15.5,
      },
    ]);
  });

  it('reads nothing from empty or unrelated output', () => {
    expect(parseSubflows('')).toEqual([]);
    expect(parseSubflows('garbage\n\tmore garbage tcp-ulp-mptcp\n')).toEqual([]);
  });
});

describe('parseMonitorLine', () => {
  it('link lines: up needs UP and LOWER_UP', () => {
    expect(
      parseMonitorLine(
        '4: p2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc tbf state UP group default \\    link/ether 02:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff',
      ),
    ).toEqual({
      ifname: 'p2',
      up: true,
      carrier: true,
    });
    expect(parseMonitorLine('4: p2: <BROADCAST,MULTICAST> mtu 1500 qdisc tbf state DOWN group default')).toEqual({
      ifname: 'p2',
      up: false,
      carrier: false,
    });
    expect(parseMonitorLine('5: p3@if6: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state LOWERLAYERDOWN')).toEqual({
      ifname: 'p3',
      up: false,
      carrier: false,
    });
    expect(parseMonitorLine('Deleted 7: wwan0: <BROADCAST,MULTICAST> mtu 1500')).toEqual({
      ifname: 'wwan0',
      up: false,
      carrier: false,
    });
  });

  it('address lines', () => {
    expect(
      parseMonitorLine('4: p2    inet 10.100.2.1/24 scope global p2\\       valid_lft forever preferred_lft forever'),
    ).toEqual({
      ifname: 'p2',
      address: true,
    });
    expect(parseMonitorLine('Deleted 4: p2    inet 10.100.2.1/24 scope global p2')).toEqual({ ifname: 'p2', address: true });
    expect(parseMonitorLine('')).toBeUndefined();
    expect(parseMonitorLine('local 10.0.0.1 dev lo table local proto kernel')).toBeUndefined();
  });
});
