import type { MethodDescription } from '../control/methods.js';

/** An rpcd ACL file (`/usr/share/rpcd/acl.d/*.json`): groups of read and write grants. */
export type RpcdAcl = Record<
  string,
  {
    description: string;
    read: { ubus: Record<string, string[]>; uci?: string[] };
    write: { ubus: Record<string, string[]>; uci?: string[] };
  }
>;

/**
 * rpcd ACL groups from the served method tables: one group per owner (`wrtkit` for the
 * host, `wrtkit-<plugin>` for each plugin), `read` listing the methods marked
 * `access: 'read'` and `write` all of them; a plugin's group also covers its UCI package.
 * Grant a LuCI user `wrtkit-dynapoint` read access and they can see dynapoint's status,
 * but not change anything.
 */
export function rpcdAcl(objects: readonly MethodDescription[]): RpcdAcl {
  const acl: RpcdAcl = {};
  for (const object of [...objects].sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0))) {
    const group = object.plugin ? `wrtkit-${object.plugin}` : 'wrtkit';
    const entry = (acl[group] ??= {
      description: object.plugin ? `wrtkit plugin ${object.plugin}` : 'wrtkit host: status, plugins, config validation, reload',
      read: { ubus: {}, ...(object.plugin ? { uci: [object.plugin] } : { uci: ['wrtkit'] }) },
      write: { ubus: {}, ...(object.plugin ? { uci: [object.plugin] } : { uci: ['wrtkit'] }) },
    });
    const methods = Object.keys(object.methods).sort();
    const readable = methods.filter((m) => object.methods[m]?.access === 'read');
    if (readable.length > 0) entry.read.ubus[object.object] = readable;
    if (methods.length > 0) entry.write.ubus[object.object] = methods;
  }
  return acl;
}
