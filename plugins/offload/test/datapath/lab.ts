// The lab both datapath suites use: the router offloads between a client and a server.
//
//   client ── eth-client [router] eth-server ── server
//   10.1.0.12  10.1.0.1            10.2.0.1     10.2.0.2
//   fd01::12   fd01::1             fd02::1      fd02::2
//
// The harness runs in the router's namespace: packets "arrive" on eth-client and the
// flows send them out of eth-server, to the server's MAC.
import type { LabSpec } from '@wrtkit/sdk/lab';

export const CLIENT_MAC = '02:0f:00:00:01:02';
export const ROUTER_LAN_MAC = '02:0f:00:00:01:01';
export const ROUTER_WAN_MAC = '02:0f:00:00:02:01';
export const SERVER_MAC = '02:0f:00:00:02:02';

export const ADDR = {
  4: { client: '10.1.0.12', routerLan: '10.1.0.1', routerWan: '10.2.0.1', server: '10.2.0.2', other: '10.2.0.99' },
  6: { client: 'fd01::12', routerLan: 'fd01::1', routerWan: 'fd02::1', server: 'fd02::2', other: 'fd02::99' },
} as const;

export const LAB_SPEC: LabSpec = {
  nodes: { client: {}, router: { forwarding: true }, server: {} },
  links: [
    {
      a: 'client',
      b: 'router',
      mac: { client: CLIENT_MAC, router: ROUTER_LAN_MAC },
      addresses: { client: ['10.1.0.12/24', 'fd01::12/64'], router: ['10.1.0.1/24', 'fd01::1/64'] },
    },
    {
      a: 'router',
      b: 'server',
      mac: { router: ROUTER_WAN_MAC, server: SERVER_MAC },
      addresses: { router: ['10.2.0.1/24', 'fd02::1/64'], server: ['10.2.0.2/24', 'fd02::2/64'] },
    },
  ],
  routes: {
    client: ['default via 10.1.0.1', 'default via fd01::1'],
    server: ['default via 10.2.0.1', 'default via fd02::1'],
  },
};
