// The Offload core with a running (fake) daemon that does not answer its first configure
// (not listening yet, busy): configure is tried again after CONFIGURE_RETRY_MS.
import { createNodePlatform } from '@wrtkit/core/platform/node';
import { FakeClock, fakeProcesses } from '@wrtkit/sdk/testing';
import { afterEach, expect, it } from 'vitest';
import { REQUEST_TIMEOUT_MS } from '../../src/control.js';
import { CONFIGURE_RETRY_MS, Offload, type Settings } from '../../src/offload.js';
import { FakeDaemon } from './fake-daemon.js';

const platform = await createNodePlatform([]);
const log = { debug() {}, info() {}, warn() {}, error() {}, child: () => log } as never;
let fake: FakeDaemon | undefined;
afterEach(async () => fake?.close());

it('a configure without an answer is sent again while the daemon runs', async () => {
  fake = await FakeDaemon.start();
  let configures = 0;
  fake.answer = (r) => (r.cmd === 'configure' && configures++ === 0 ? 'silent' : { result: { interfaces: [] } });
  const clock = new FakeClock();
  const processes = fakeProcesses();
  const offload = new Offload({ processes, connect: (p) => platform.sockets!.connect(p), clock, log });
  const settings: Settings = {
    enabled: true,
    interfaces: ['lan'],
    mode: 'tc',
    ipv6: true,
    exclude_macs: [],
    exclude_cidrs: [],
    daemon: '/usr/sbin/offloadd',
    object: '/lib/bpf/offload.bpfel.o',
    pin_dir: '/sys/fs/bpf/x',
    control_socket: fake.path,
    heartbeat_ms: 1000,
  };
  await offload.apply(settings);
  expect(processes.children).toHaveLength(1);
  await fake.waitFor('configure', 1);
  await clock.advance(REQUEST_TIMEOUT_MS);
  await offload.configuring;
  await clock.advance(CONFIGURE_RETRY_MS);
  await fake.waitFor('configure', 2);
  await offload.configuring;
  expect(await offload.status()).toMatchObject({ configure: { ok: true } });
  await offload.stop();
  expect(processes.children[0]!.signals).toEqual(['SIGTERM']);
});
