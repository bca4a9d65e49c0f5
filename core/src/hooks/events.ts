/**
 * Payloads of the host's hooks. They are plain data (JSON-serialisable) because events
 * are also forwarded to ubus and the control socket.
 */
import type { UciPackage } from '../uci/index.js';

export interface BootInfo {
  engine: 'node' | 'qjs';
  /** wrtkit host version. */
  version: string;
  /** Plugins that are being started, in start order. */
  plugins: string[];
}

export interface ShutdownInfo {
  reason: 'signal' | 'request' | 'error';
  signal?: string;
}

/** A plugin's configuration changed (delivered only to that plugin's own taps). */
export interface ConfigChange<TConfig = unknown> {
  plugin: string;
  config: TConfig;
  previous: TConfig;
}

/** A network device's link or addresses changed. */
export interface LinkEvent {
  ifname: string;
  up: boolean;
  carrier?: boolean;
  addresses?: string[];
}

/** Uplink connectivity as judged by a probe rule (dynapoint publishes it). */
export interface ConnectivityEvent {
  rule: string;
  online: boolean;
  /** Wall-clock ms when this state began. */
  since: number;
}

/** A client was (de)authorized, e.g. by a captive portal voucher. */
export interface ClientAuthorizationEvent {
  mac: string;
  authorized: boolean;
  /** Wall-clock ms when the authorization ends, if it does. */
  until?: number;
  addresses?: string[];
}

/** A mesh/AP peer appeared or went away (apup publishes it). */
export interface PeerEvent {
  peer: string;
  ifname?: string;
  up: boolean;
}

/** A Wi-Fi station event from hostapd. */
export interface StationEvent {
  ifname: string;
  mac: string;
  event: 'probe' | 'auth' | 'assoc' | 'disassoc' | 'deauth';
  signal?: number;
}

/** The UCI packages whose desired state plugins compose before one apply. */
export const ComposedPackages = ['wireless', 'network', 'firewall', 'dhcp'] as const;
export type ComposedPackage = (typeof ComposedPackages)[number];

export interface ComposeContext {
  package: ComposedPackage;
  /** Why the host is composing (boot, a plugin's request, a config change). */
  reason: string;
}

/** What each composition tap receives and returns: the desired package. */
export type ComposeValue = UciPackage;
