import satisfies from 'semver/functions/satisfies.js';
import { ErrorCodes, WrtkitError } from '../errors.js';

export interface OrderInput {
  name: string;
  version: string;
  dependencies: Readonly<Record<string, string>>;
}

export interface OrderResult<T extends OrderInput> {
  /** Startable plugins, dependencies first; ties broken by name so order is stable. */
  ordered: T[];
  /** Plugins that cannot start, each with the coded reason. */
  refused: Array<{ plugin: T; error: WrtkitError }>;
}

/**
 * Orders plugins so each starts after what it depends on. A plugin whose dependency is
 * missing, of the wrong version, part of a cycle, or itself refused is refused too;
 * the rest still start.
 */
export function orderPlugins<T extends OrderInput>(plugins: readonly T[]): OrderResult<T> {
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const refused = new Map<string, WrtkitError>();

  for (const plugin of plugins) {
    for (const [dep, range] of Object.entries(plugin.dependencies)) {
      const found = byName.get(dep);
      if (!found) {
        refused.set(
          plugin.name,
          new WrtkitError(ErrorCodes.DEPENDENCY_MISSING, `plugin ${plugin.name} needs ${dep} ${range}, which is not installed`, {
            plugin: plugin.name,
            details: { dependency: dep, range },
          }),
        );
        break;
      }
      if (!satisfies(found.version, range, { includePrerelease: true })) {
        refused.set(
          plugin.name,
          new WrtkitError(
            ErrorCodes.DEPENDENCY_VERSION,
            `plugin ${plugin.name} needs ${dep} ${range}, but ${dep} ${found.version} is installed`,
            { plugin: plugin.name, details: { dependency: dep, range, installed: found.version } },
          ),
        );
        break;
      }
    }
  }

  // Depth-first topological sort; a grey node met again closes a cycle.
  const ordered: T[] = [];
  const color = new Map<string, 'grey' | 'black'>();
  const visit = (plugin: T, stack: string[]): boolean => {
    const state = color.get(plugin.name);
    if (state === 'black') return !refused.has(plugin.name);
    if (state === 'grey') {
      const cycle = [...stack.slice(stack.indexOf(plugin.name)), plugin.name];
      for (const member of cycle) {
        if (!refused.has(member)) {
          refused.set(
            member,
            new WrtkitError(
              ErrorCodes.DEPENDENCY_CYCLE,
              `plugin ${member} is part of a dependency cycle: ${cycle.join(' -> ')}`,
              {
                plugin: member,
                details: { cycle },
              },
            ),
          );
        }
      }
      return false;
    }
    color.set(plugin.name, 'grey');
    let ok = !refused.has(plugin.name);
    for (const dep of Object.keys(plugin.dependencies).sort()) {
      const target = byName.get(dep);
      if (!target) continue;
      if (!visit(target, [...stack, plugin.name]) && ok) {
        ok = false;
        if (!refused.has(plugin.name)) {
          refused.set(
            plugin.name,
            new WrtkitError(
              ErrorCodes.DEPENDENCY_FAILED,
              `plugin ${plugin.name} cannot start because its dependency ${dep} cannot`,
              {
                plugin: plugin.name,
                details: { dependency: dep },
              },
            ),
          );
        }
      }
    }
    color.set(plugin.name, 'black');
    if (ok && !refused.has(plugin.name)) ordered.push(plugin);
    return ok && !refused.has(plugin.name);
  };
  for (const plugin of [...plugins].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) visit(plugin, []);

  return {
    ordered,
    refused: plugins.filter((p) => refused.has(p.name)).map((p) => ({ plugin: p, error: refused.get(p.name) as WrtkitError })),
  };
}
