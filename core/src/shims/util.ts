/**
 * Stand-in for Node's `util` in bundles (aliased by scripts/rollup-plugins.js). tapable
 * requires `util` only for `deprecate`, which QuickJS lacks; deprecation warnings have
 * no reader on a router, so the function is returned unchanged.
 */
export function deprecate<T>(fn: T, _message?: string, _code?: string): T {
  return fn;
}

export default { deprecate };
