/**
 * A path's `option interface` to what the kernel knows: netifd's logical interface (`wan2`:
 * its l3_device, whether it is up, its IPv4 address and default gateway, from
 * `ubus call network.interface.wan2 status`) when netifd has one by that name, else a
 * Linux device of that name (hosts without netifd, the lab).
 */
import type { PluginUbus } from '@wrtkit/sdk';

export interface NetifdInterface {
  device: string;
  up: boolean;
  address?: string;
  gateway?: string;
}

export interface InterfaceResolver {
  /** netifd's view of the interface, or undefined when netifd has no interface of that name (or no netifd). */
  netifd(name: string): Promise<NetifdInterface | undefined>;
}

interface NetifdStatus {
  up?: boolean;
  l3_device?: string;
  device?: string;
  'ipv4-address'?: Array<{ address?: string }>;
  route?: Array<{ target?: string; mask?: number; nexthop?: string }>;
}

/** Reads netifd's `network.interface.<name> status` over ubus (permissions.ubus allows it). */
export class NetifdResolver implements InterfaceResolver {
  constructor(private readonly ubus: Pick<PluginUbus, 'available' | 'call'>) {}

  async netifd(name: string): Promise<NetifdInterface | undefined> {
    if (!this.ubus.available) return undefined;
    let replies: Array<Record<string, unknown>>;
    try {
      replies = await this.ubus.call(`network.interface.${name}`, 'status', {}, { timeoutMs: 3000 });
    } catch {
      return undefined; // no such interface (UBUS_STATUS_NOT_FOUND): try the device name
    }
    const s = (replies[0] ?? {}) as NetifdStatus;
    const device = s.l3_device ?? s.device;
    if (device === undefined) return { device: name, up: false };
    const address = s['ipv4-address']?.[0]?.address;
    const gateway = s.route?.find((r) => r.target === '0.0.0.0' && r.mask === 0)?.nexthop;
    return {
      device,
      up: s.up === true,
      ...(address !== undefined ? { address } : {}),
      ...(gateway !== undefined && gateway !== '0.0.0.0' ? { gateway } : {}),
    };
  }
}

/** No netifd: every interface name is a Linux device. */
export const devicesOnly: InterfaceResolver = { netifd: () => Promise.resolve(undefined) };
