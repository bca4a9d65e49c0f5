/**
 * Text the plugin reads from iproute2: `ss -tniH` (TCP sockets with their info line; the
 * MPTCP subflows are the ones with `tcp-ulp-mptcp`) and `ip -o monitor link address`.
 */

export interface Subflow {
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  /** The device the subflow is bound to (`10.100.2.1%p2`), when it is. */
  dev?: string;
  /** The MPTCP connection's own token (the same for all its subflows; `ss -M` shows it). */
  token?: string;
  /** The connection's first subflow (flags M), not a join (J). */
  initial: boolean;
  bytesAcked: number;
  bytesReceived: number;
  bytesRetrans: number;
  rttMs?: number;
}

function endpoint(text: string): { addr: string; port: number; dev?: string } | undefined {
  const m = /^\[?([^\]%]+?)(?:%([^\]:]+))?\]?:(\d+|\*)$/.exec(text);
  if (!m) return undefined;
  return { addr: m[1] ?? '', port: m[3] === '*' ? 0 : Number(m[3]), ...(m[2] !== undefined ? { dev: m[2] } : {}) };
}

function field(info: string, key: string): number {
  const m = new RegExp(`(?:^|\\s)${key}:(\\d+)`).exec(info);
  return m ? Number(m[1]) : 0;
}

/** MPTCP subflows out of `ss -tniH`: a socket line (state, queues, local, peer) and its indented info line. */
export function parseSubflows(text: string): Subflow[] {
  const out: Subflow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i] ?? '';
    if (head.trim() === '' || /^\s/.test(head)) continue;
    const info = /^\s/.test(lines[i + 1] ?? '') ? (lines[i + 1] ?? '') : '';
    if (!info.includes('tcp-ulp-mptcp')) continue;
    const cols = head.trim().split(/\s+/);
    const local = endpoint(cols[3] ?? '');
    const remote = endpoint(cols[4] ?? '');
    if (!local || !remote) continue;
    const token = /token:[0-9a-f]+\(id:\d+\)\/([0-9a-f]+)\(id:\d+\)/.exec(info)?.[1];
    const flags = /tcp-ulp-mptcp flags:(\S+)/.exec(info)?.[1] ?? '';
    const rtt = /(?:^|\s)rtt:([\d.]+)\//.exec(info)?.[1];
    out.push({
      local: local.addr,
      localPort: local.port,
      remote: remote.addr,
      remotePort: remote.port,
      ...(local.dev !== undefined ? { dev: local.dev } : {}),
      ...(token !== undefined ? { token } : {}),
      initial: flags.includes('M'),
      bytesAcked: field(info, 'bytes_acked'),
      bytesReceived: field(info, 'bytes_received'),
      bytesRetrans: field(info, 'bytes_retrans'),
      ...(rtt !== undefined ? { rttMs: Number(rtt) } : {}),
    });
  }
  return out;
}

export interface MonitorLine {
  ifname: string;
  /** Set for link lines: IFF_UP and LOWER_UP. */
  up?: boolean;
  carrier?: boolean;
  /** An address line (added or `Deleted`). */
  address?: boolean;
}

/**
 * One line of `ip -o monitor link address`: `4: p2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu …`,
 * `Deleted 4: p2 …`, `4: p2    inet 10.100.2.1/24 …`. Undefined for anything else.
 */
export function parseMonitorLine(line: string): MonitorLine | undefined {
  const text = line.replace(/^\[[A-Z]+\]\s*/, '').replace(/^Deleted\s+/, '');
  const link = /^\d+:\s+([^:@\s]+)(?:@[^:\s]+)?:\s+<([^>]*)>/.exec(text);
  if (link) {
    const flags = (link[2] ?? '').split(',');
    return { ifname: link[1] ?? '', up: flags.includes('UP') && flags.includes('LOWER_UP'), carrier: flags.includes('LOWER_UP') };
  }
  const addr = /^\d+:\s+(\S+)\s+inet6?\s/.exec(text);
  if (addr) return { ifname: addr[1] ?? '', address: true };
  return undefined;
}
