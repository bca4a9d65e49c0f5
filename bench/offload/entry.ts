// What bench/offload/*.mjs take from the datapath tests, bundled by esbuild (lib.mjs):
// frames and flow entries built and encoded exactly as plugins/offload/test/datapath does.
export { frame, type FrameSpec } from '../../plugins/offload/test/datapath/packets.js';
export { flowFor, type Nat } from '../../plugins/offload/test/datapath/flows.js';
export { ADDR } from '../../plugins/offload/test/datapath/lab.js';
export {
  TC_ACT_OK,
  TC_ACT_REDIRECT,
  XDP_PASS,
  XDP_REDIRECT,
  encodeKey,
  encodeValue,
} from '../../plugins/offload/test/datapath/runner.js';
// bench/offload/setup.mjs and throughput.mjs: the daemon tests' lab (client — router —
// server), their fw4-like ruleset, the control-socket client and the bpffs helpers.
export {
  ADDR as DAEMON_ADDR,
  Control,
  FW4_RULES,
  LAB_SPEC as DAEMON_LAB_SPEC,
  mountBpffs,
  unmountBpffs,
} from '../../plugins/offload/test/daemon/daemon.js';
