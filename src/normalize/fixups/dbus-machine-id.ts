/**
 * `/var/lib/dbus/machine-id` is D-Bus's copy of the machine identifier; `dbus-uuidgen` writes a
 * random one there when it is missing. Debian's dbus makes it a symbolic link to
 * `/etc/machine-id` when that exists, so both name the same (first-boot generated) identifier.
 * A regular file here becomes that link; a link is left as it is.
 */
import { newMeta, type SymlinkNode } from '../../tree/tree.js';
import type { Fixup } from './fixup.js';

export const DBUS_MACHINE_ID = 'var/lib/dbus/machine-id';

export const dbusMachineId: Fixup = {
  id: 'dbus-machine-id',
  summary: 'make /var/lib/dbus/machine-id a symbolic link to /etc/machine-id',
  apply(ctx) {
    const node = ctx.tree.get(DBUS_MACHINE_ID);
    if (node?.kind !== 'file') return Promise.resolve();
    const link: SymlinkNode = {
      kind: 'symlink',
      ...newMeta({ mode: 0o777, uid: 0, gid: 0, mtime: { sec: Math.min(node.mtime.sec, ctx.options.buildTime), nsec: 0 } }),
      target: '/etc/machine-id',
    };
    ctx.tree.set(DBUS_MACHINE_ID, link);
    ctx.record(DBUS_MACHINE_ID, 'replaced-by-symlink', '/etc/machine-id');
    return Promise.resolve();
  },
};
