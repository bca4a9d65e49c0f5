// What bench/mptcp/aggregate.mjs imports: the SDK's lab check and the mptcp plugin's lab
// (plugins/mptcp/test/lab/mptcp-lab.ts: two routers joined by shaped paths, the host and
// plugin bundles, iperf3 goodput, timelines, path down/up). bench/mptcp/lib.mjs bundles
// this with esbuild into .cache/bench/mptcp-lib.mjs (node runs it without a TypeScript
// loader), so the bench runs the same lab as the plugin's tests.
export { labSupported } from '../../sdk/src/lab/index.js';
export {
  ADDR,
  NODES,
  buildMptcpBundles,
  createMptcpLab,
  firstTimeSustained,
  iperfGoodput,
  meanMbps,
  pathBaseline,
  pathCount,
  pathDown,
  pathUp,
  startRouters,
  transferTimeline,
} from '../../plugins/mptcp/test/lab/mptcp-lab.js';
