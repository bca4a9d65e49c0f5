// What the dynapoint benchmark imports: the SDK's lab and the plugin's own lab topology
// (router ── isp, the isp's HTTP and DNS servers, the rule's UCI text). bench/dynapoint/
// detection.mjs bundles this with esbuild into .cache/bench/dynapoint-lib.mjs (node runs
// it without a TypeScript loader), so the bench runs the same lab as the plugin's tests.
export { createLab, labSupported } from '../../sdk/src/lab/index.js';
export { ISP4, LAB_SPEC, WIRELESS, dynapointConfig, startIsp } from '../../plugins/dynapoint/test/lab/uplink-lab.js';
