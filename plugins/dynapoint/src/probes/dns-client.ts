/**
 * A small DNS client over the platform's UDP sockets: the dns:// probe itself, and name
 * resolution for native HTTP probes (QuickJS's sockets take numeric addresses only).
 * Names resolve as the C library would for a probe: the hosts file first, then the
 * first three nameservers of resolv.conf in turn, A preferred over AAAA. No search
 * domains: a probe names its host in full.
 */
import { sameAddress } from './bytes.js';
import {
  type ProbeClock,
  type ProbeEndpoint,
  type ProbeFiles,
  type ProbeSockets,
  errnoOf,
  messageOf,
  networkDetail,
} from './deps.js';
import { TYPE_CODES, encodeQuery, parseReply, rcodeName } from './dns-message.js';
import { type DnsType, ipFamily } from './target.js';

export interface DnsDeps {
  sockets: ProbeSockets;
  clock: ProbeClock;
  /** Unpredictable bytes for query ids (the platform's randomBytes); Math.random without. */
  randomBytes?: (length: number) => Uint8Array;
}

export interface DnsAnswer {
  /** The server replied to our question (any rcode). */
  answered: boolean;
  rcode?: number;
  /** The addresses of the asked type, in the reply's order. */
  addresses: string[];
  /** For the probe result: `A 192.0.2.1`, `NXDOMAIN`, `no answer`, `timeout`, `bad reply`, … */
  detail: string;
}

const failed = (detail: string, extra: Partial<DnsAnswer> = {}): DnsAnswer => ({
  answered: false,
  addresses: [],
  detail,
  ...extra,
});

function queryId(deps: DnsDeps): number {
  const bytes = deps.randomBytes?.(2);
  if (bytes && bytes.length >= 2) return ((bytes[0] as number) << 8) | (bytes[1] as number);
  return Math.floor(Math.random() * 0x10000);
}

/**
 * Asks `server` for `name`'s records of `type`, once, and waits up to timeoutMs. Replies
 * from elsewhere, with another id, or for another question are ignored (late or spoofed);
 * a reply to our question that cannot be parsed fails at once. Never throws.
 */
export async function queryDns(
  deps: DnsDeps,
  server: ProbeEndpoint,
  name: string,
  type: DnsType,
  timeoutMs: number,
  source?: string,
): Promise<DnsAnswer> {
  const family = ipFamily(server.address);
  if (family === undefined) return failed(`bad server ${server.address}`);
  if (source !== undefined && ipFamily(source) !== family) return failed(`source ${source} is not IPv${family}`);
  const id = queryId(deps);
  const query = encodeQuery(id, name, TYPE_CODES[type]);
  if (!query) return failed(`bad name ${name}`);

  let socket: Awaited<ReturnType<ProbeSockets['openDatagram']>>;
  try {
    socket = await deps.sockets.openDatagram({
      family: family === 6 ? 'udp6' : 'udp4',
      ...(source !== undefined ? { bind: { address: source, port: 0 } } : {}),
    });
  } catch (error) {
    const errno = errnoOf(error);
    if (source !== undefined && errno === 'EADDRNOTAVAIL') return failed(`source ${source} is not an address of this router`);
    return failed(`cannot open a socket: ${errno ?? messageOf(error)}`);
  }

  return new Promise<DnsAnswer>((resolve) => {
    let done = false;
    const finish = (answer: DnsAnswer) => {
      if (done) return;
      done = true;
      cancel();
      try {
        socket.close();
      } catch {
        // closing is best effort
      }
      resolve(answer);
    };
    const cancel = deps.clock.setTimeout(() => finish(failed('timeout')), timeoutMs);
    socket.onMessage((data, from) => {
      if (typeof from === 'string' || from.port !== server.port || !sameAddress(from.address, server.address)) return;
      if (data.length < 2 || (((data[0] as number) << 8) | (data[1] as number)) !== id) return;
      const reply = parseReply(data);
      if (!reply || !reply.response) {
        finish(failed('bad reply'));
        return;
      }
      const question = reply.questions[0];
      // a server may leave the question out of an error reply; when present it must be ours
      if (
        question &&
        (question.name.toLowerCase() !== name.replace(/\.$/, '').toLowerCase() || question.type !== TYPE_CODES[type])
      )
        return;
      if (reply.rcode !== 0) {
        finish(failed(rcodeName(reply.rcode), { answered: true, rcode: reply.rcode }));
        return;
      }
      const addresses = reply.answers
        .filter((r) => r.type === TYPE_CODES[type] && r.address !== undefined)
        .map((r) => r.address as string);
      if (addresses.length === 0) {
        finish(failed(reply.truncated ? 'truncated reply' : 'no answer', { answered: true, rcode: 0 }));
        return;
      }
      const more = addresses.length > 1 ? ` (+${addresses.length - 1})` : '';
      finish({ answered: true, rcode: 0, addresses, detail: `${type} ${addresses[0] as string}${more}` });
    });
    socket.send(query, server).then(
      () => undefined,
      (error: unknown) => finish(failed(networkDetail(error))),
    );
  });
}

/** The nameservers of a resolv.conf text, at most `limit` (glibc uses three). */
export function parseResolvConf(text: string, limit = 3): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)$/.exec(line);
    if (m && ipFamily(m[1] as string) !== undefined && out.length < limit) out.push(m[1] as string);
  }
  return out;
}

/** The addresses a hosts file gives `name` (case-insensitive), IPv4 first. */
export function lookupHostsFile(text: string, name: string): string[] {
  const wanted = name.toLowerCase();
  const v4: string[] = [];
  const v6: string[] = [];
  for (const raw of text.split('\n')) {
    const fields = raw.replace(/#.*$/, '').trim().split(/\s+/);
    const address = fields[0] as string;
    if (fields.length < 2 || !fields.slice(1).some((n) => n.toLowerCase() === wanted)) continue;
    const family = ipFamily(address);
    if (family === 4 && !v4.includes(address)) v4.push(address);
    if (family === 6 && !v6.includes(address)) v6.push(address);
  }
  return [...v4, ...v6];
}

export interface ResolverDeps extends DnsDeps {
  fs?: ProbeFiles;
  /** Default /etc/resolv.conf. */
  resolvConf?: string;
  /** Default /etc/hosts. */
  hostsFile?: string;
}

export type Resolved = { ok: true; addresses: string[] } | { ok: false; detail: string };

function readFile(fs: ProbeFiles | undefined, path: string): string | undefined {
  try {
    return fs?.tryReadText(path);
  } catch {
    return undefined;
  }
}

/**
 * A host name's addresses, IPv4 first, within timeoutMs: the hosts file, then each
 * nameserver in turn (A and AAAA asked together, the time left shared between the servers
 * still to ask). A server that answers (NOERROR or NXDOMAIN) ends the search; one that
 * times out, fails or refuses passes to the next.
 */
export async function resolveHost(deps: ResolverDeps, name: string, timeoutMs: number): Promise<Resolved> {
  if (ipFamily(name) !== undefined) return { ok: true, addresses: [name] };
  const hosts = readFile(deps.fs, deps.hostsFile ?? '/etc/hosts');
  const fromHosts = hosts === undefined ? [] : lookupHostsFile(hosts, name);
  if (fromHosts.length > 0) return { ok: true, addresses: fromHosts };

  const conf = readFile(deps.fs, deps.resolvConf ?? '/etc/resolv.conf');
  const servers = conf === undefined ? [] : parseResolvConf(conf);
  if (servers.length === 0) servers.push('127.0.0.1'); // the C library's default
  const deadline = deps.clock.monotonic() + timeoutMs;
  let detail = 'timeout';
  for (let i = 0; i < servers.length; i++) {
    const budget = (deadline - deps.clock.monotonic()) / (servers.length - i);
    if (budget <= 0) break;
    const server = { address: servers[i] as string, port: 53 };
    const [a, aaaa] = await Promise.all([
      queryDns(deps, server, name, 'A', budget),
      queryDns(deps, server, name, 'AAAA', budget),
    ]);
    const addresses = [...a.addresses, ...aaaa.addresses];
    if (addresses.length > 0) return { ok: true, addresses };
    if (a.rcode === 3 || aaaa.rcode === 3) return { ok: false, detail: 'NXDOMAIN' };
    if (a.rcode === 0 && aaaa.rcode === 0) return { ok: false, detail: 'no address' };
    detail = a.answered ? a.detail : aaaa.answered ? aaaa.detail : a.detail;
  }
  return { ok: false, detail };
}
