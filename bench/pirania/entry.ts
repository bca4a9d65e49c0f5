// What the pirania benchmarks import: the gate's script generator and the SDK's lab.
// bench/pirania/lib.mjs bundles this with esbuild into .cache/bench/pirania-lib.mjs (node
// runs it without a TypeScript loader), so the benchmarks measure the generator as it is
// in this checkout.
export { createLab, labSupported } from '../../sdk/src/lab/index.js';
export {
  SET_AUTH_MACS,
  TABLE,
  authorizeScript,
  fullRuleset,
  refillScript,
  removeScript,
} from '../../plugins/pirania-nftables/src/nft/ruleset.js';
