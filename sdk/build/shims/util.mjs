/**
 * Stand-in for Node's `util` in bundles (aliased by rollup-plugins.mjs). tapable requires
 * `util` only for `deprecate`, which QuickJS lacks; deprecation warnings have no reader on
 * a router, so the function is returned unchanged.
 */
export function deprecate(fn) {
  return fn;
}

export default { deprecate };
