/** What each recorded process produced, as our client's API returns it (no test-framework imports). */
import type { Scenario } from './replay.js';

interface Process {
  role: string;
  stdout: string;
  stderr: string;
  exit_code: number;
}

/** The JSON documents a `ubus call` printed (one per DATA reply). */
function callOutput(stdout: string): unknown[] {
  return stdout
    .split(/\n(?=\{)/)
    .map((doc) => doc.trim())
    .filter(Boolean)
    .map((doc) => JSON.parse(doc) as unknown);
}

/** The lines `ubus listen` / `ubus subscribe` printed, each `{ "<name>": {...} }`. */
function eventLines(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
}

function lookupAnswer(scenario: Scenario, role: string) {
  const conn = Number(Object.entries(scenario.connections).find(([, r]) => r === role)?.[0]);
  const data = scenario.messages.find(
    (m) =>
      'decoded' in m && m.conn === conn && (m.decoded as { header: { type_name: string } }).header.type_name === 'UBUS_MSG_DATA',
  ) as { decoded: { attrs: Array<{ name: string; value?: number | string }> } } | undefined;
  const attr = (name: string) => data?.decoded.attrs.find((a) => a.name === name)?.value;
  return { path: attr('UBUS_ATTR_OBJPATH'), id: attr('UBUS_ATTR_OBJID') };
}

const fixtureSignature = {
  echo: { string: 3, number: 5, flag: 7, list: 1, obj: 2 },
  fail: {},
  multi: {},
  notify: {},
  add_temp: {},
  remove_temp: {},
};

export function expectedResult(scenario: Scenario & { processes?: Process[] }, role: string): unknown {
  const process = (scenario as unknown as { processes: Process[] }).processes.find((p) => p.role === role);
  const stdout = process?.stdout ?? '';
  switch (`${scenario.scenario.replace(/^\d+-/, '')}/${role}`) {
    case 'hello-list/ubus-list':
    case 'hello-list/ubus-list-wildcard':
      return stdout.split('\n').filter(Boolean);
    case 'hello-list/ubus-list-verbose':
      return [{ ...lookupAnswer(scenario, role), signature: fixtureSignature }];
    case 'call-errors/call-fail':
      return 2;
    case 'call-errors/call-no-method':
      return 3;
    case 'call-errors/call-no-object':
      return 4;
    case 'event-send-listen/ubus-listen':
    case 'object-add-remove/ubus-listen-sysevents':
    case 'subscribe-notify/ubus-subscribe':
      return eventLines(stdout);
    case 'event-send-listen/ubus-send':
    case 'event-send-listen/ubus-send-other':
      return undefined;
    case 'subscribe-notify/fixture-server':
      // fixture-server printed has_subscribers as ubusd told it; we log the same changes
      return (process?.stderr.match(/has_subscribers=\d/g) ?? []).slice();
    case 'wait-for/ubus-wait-for':
      return 'appeared';
    case 'monitor/ubus-monitor':
      return monitorLines(stdout);
    default:
      if (role === 'fixture-server' || role === 'call-bad-json') return null;
      return callOutput(stdout);
  }
}

/** `ubus monitor` lines: `-> <client> #<peer> <type>: {...}`; we compare client, direction and type. */
function monitorLines(stdout: string): Array<{ client: number; send: boolean; type: number }> {
  const types: Record<string, number> = {
    hello: 0,
    status: 1,
    data: 2,
    ping: 3,
    lookup: 4,
    invoke: 5,
    add_object: 6,
    remove_object: 7,
    subscribe: 8,
    unsubscribe: 9,
    notify: 10,
  };
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(->|<-) ([0-9a-f]{8}) #[0-9a-f]{8}\s+(\w+):/.exec(line);
      if (!m) throw new Error(`monitor line not understood: ${line}`);
      return { client: Number.parseInt(m[2] as string, 16), send: m[1] === '->', type: types[m[3] as string] ?? -1 };
    });
}
