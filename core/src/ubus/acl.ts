import type { MethodDescription } from '../control/methods.js';

/** What one grant allows: ubus methods by object, and UCI packages. */
export interface RpcdGrant {
  ubus: Record<string, string[]>;
  uci?: string[];
}

/** One rpcd ACL group: what its members may read, and what they may write. */
export interface RpcdAclGroup {
  description: string;
  read: RpcdGrant;
  write?: RpcdGrant;
}

/** An rpcd ACL file (`/usr/share/rpcd/acl.d/*.json`): groups of read and write grants. */
export type RpcdAcl = Record<string, RpcdAclGroup>;

/**
 * The group rpcd gives every session, logged in or not (LibreMesh's pirania.json grants
 * its portal methods there). rpcd merges it across ACL files, so each owner's file
 * lists only its own public methods.
 */
export const UNAUTHENTICATED_GROUP = 'unauthenticated';

/**
 * rpcd ACL files from the served method tables, one per owner: `wrtkit` for the host,
 * `wrtkit-<plugin>` for each plugin. The owner's group has `read` listing the methods
 * marked `access: 'read'` or `'public'` and `write` all of them, plus the owner's UCI
 * package. An owner serving `public` methods also grants them, read-only, to
 * `unauthenticated`. Grant a LuCI user `wrtkit-dynapoint` read access and they can see
 * dynapoint's status, but not change anything.
 */
export function rpcdAclFiles(objects: readonly MethodDescription[]): Record<string, RpcdAcl> {
  const files: Record<string, RpcdAcl> = {};
  for (const object of [...objects].sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0))) {
    const owner = object.plugin ? `wrtkit-${object.plugin}` : 'wrtkit';
    const pkg = object.plugin ?? 'wrtkit';
    const file = (files[owner] ??= {
      [owner]: {
        description: object.plugin ? `wrtkit plugin ${object.plugin}` : 'wrtkit host: status, plugins, config validation, reload',
        read: { ubus: {}, uci: [pkg] },
        write: { ubus: {}, uci: [pkg] },
      },
    });
    const group = file[owner] as Required<RpcdAclGroup>;
    const methods = Object.keys(object.methods).sort();
    const access = (m: string) => object.methods[m]?.access;
    const readable = methods.filter((m) => access(m) === 'read' || access(m) === 'public');
    const open = methods.filter((m) => access(m) === 'public');
    if (readable.length > 0) group.read.ubus[object.object] = readable;
    if (methods.length > 0) group.write.ubus[object.object] = methods;
    if (open.length > 0) {
      const everyone = (file[UNAUTHENTICATED_GROUP] ??= {
        description: `${object.plugin ? `wrtkit plugin ${object.plugin}` : 'wrtkit host'}: methods anyone may call, without logging in`,
        read: { ubus: {} },
      });
      everyone.read.ubus[object.object] = open;
    }
  }
  return files;
}

/**
 * Every group in one ACL (what `wrtkit acl` prints): the owners' groups, and one
 * `unauthenticated` group with every owner's public methods.
 */
export function rpcdAcl(objects: readonly MethodDescription[]): RpcdAcl {
  const acl: RpcdAcl = {};
  for (const file of Object.values(rpcdAclFiles(objects))) {
    for (const [name, group] of Object.entries(file)) {
      if (name !== UNAUTHENTICATED_GROUP) {
        acl[name] = group;
        continue;
      }
      const everyone = (acl[UNAUTHENTICATED_GROUP] ??= {
        description: 'wrtkit: methods anyone may call, without logging in',
        read: { ubus: {} },
      });
      Object.assign(everyone.read.ubus, group.read.ubus);
    }
  }
  return acl;
}
