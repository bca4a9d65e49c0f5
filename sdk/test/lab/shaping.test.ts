/**
 * Traffic shaping measured with real TCP (iperf3): a link shaped to 20 mbit/s carries
 * 20 mbit/s ± 10 % of goodput, both directions or only the chosen one; an unshaped link
 * is much faster. netem delay when the kernel has netem, a clear error when it has not.
 */
import { describe, expect, it } from 'vitest';
import { type Lab, createLab, labCapabilities } from '../../src/lab/index.js';
import { testLab } from '../../src/lab/vitest.js';
import { skipNote, support, threeNodes } from './support.js';

const RATE = 20e6;

interface IperfReport {
  error?: string;
  end: { sum_received: { bits_per_second: number; seconds: number } };
}

/** TCP goodput client → server (or server → client with `reverse`), measured by the receiver. */
async function throughput(lab: Lab, options: { seconds: number; reverse?: boolean }): Promise<number> {
  const server = lab.node('server').spawn(['iperf3', '-s', '-1', '--forceflush']);
  try {
    await server.waitFor(/Server listening/);
    const argv = ['iperf3', '-c', '10.2.0.2', '-t', String(options.seconds), '-O', '1', '-J', ...(options.reverse ? ['-R'] : [])];
    const r = await lab.node('client').run(argv, { timeoutMs: (options.seconds + 15) * 1000 });
    const report = JSON.parse(r.stdout || '{}') as IperfReport;
    if (r.exitCode !== 0 || report.error) throw new Error(`iperf3 failed (${r.exitCode}): ${report.error ?? r.stderr}`);
    return report.end.sum_received.bits_per_second;
  } finally {
    await server.stop();
  }
}

const mbit = (bits: number) => `${(bits / 1e6).toFixed(1)} mbit/s`;

describe.skipIf(!support.ok)(`lab: shaping${skipNote}`, () => {
  it('a 20 mbit/s link carries 20 mbit/s ± 10 % of TCP in both directions', async () => {
    const lab = await testLab(threeNodes({ shape: { rate: '20mbit' } }));
    const shaped = await throughput(lab, { seconds: 5 });
    console.log(`shaped 20mbit, client → server: ${mbit(shaped)}`);
    expect(Math.abs(shaped - RATE) / RATE, mbit(shaped)).toBeLessThanOrEqual(0.1);
    const back = await throughput(lab, { seconds: 3, reverse: true });
    console.log(`shaped 20mbit, server → client: ${mbit(back)}`);
    expect(Math.abs(back - RATE) / RATE, mbit(back)).toBeLessThanOrEqual(0.1);
    expect(await lab.node('router').run(['tc', 'qdisc', 'show', 'dev', lab.node('router').ifname('server')])).toMatchObject({
      stdout: expect.stringMatching(/qdisc tbf 1: root .*rate 20Mbit/),
    });
  }, 60_000);

  it('shaping only what the server sends: the other direction is an unshaped baseline, much faster', async () => {
    const lab = await testLab(threeNodes({ shape: { rate: '20mbit', from: 'server' } }));
    const up = await throughput(lab, { seconds: 3 });
    console.log(`unshaped baseline, client → server: ${mbit(up)}`);
    expect(up).toBeGreaterThan(5 * RATE);
    const down = await throughput(lab, { seconds: 3, reverse: true });
    console.log(`shaped from server only, server → client: ${mbit(down)}`);
    expect(Math.abs(down - RATE) / RATE, mbit(down)).toBeLessThanOrEqual(0.1);
  }, 60_000);

  it('netem delay when the kernel has netem; a clear error when it has not', async () => {
    const caps = await labCapabilities();
    console.log(`kernel ${caps.kernel}: ${JSON.stringify(caps.qdiscs)}`);
    expect(caps.qdiscs.tbf).toBe(true);
    const spec = threeNodes({ shape: { rate: '20mbit', delay: '40ms' } });
    if (!caps.qdiscs.netem) {
      await expect(createLab(spec)).rejects.toThrow(/no netem qdisc \(CONFIG_NET_SCH_NETEM\)/);
      return;
    }
    const lab = await testLab(spec);
    const r = await lab.node('client').run(['ping', '-c3', '-i0.2', '10.2.0.2'], { check: true });
    const avg = Number(/= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1]);
    expect(avg).toBeGreaterThanOrEqual(80); // 40 ms each way
  }, 60_000);
});
