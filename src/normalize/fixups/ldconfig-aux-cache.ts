/**
 * `/var/cache/ldconfig/aux-cache` is ldconfig's private speed-up: the inode, device, size and
 * ctime of every library it looked at, so a later run can skip unchanged files. Those numbers
 * come from the build machine's file system and differ on every build; the file is only a cache
 * (ldconfig works without it and writes it again), so it is removed. `/etc/ld.so.cache`, the
 * real cache, is sorted by ldconfig and stays.
 */
import { fileAt, type Fixup } from './fixup.js';

export const LDCONFIG_AUX_CACHE = 'var/cache/ldconfig/aux-cache';

export const ldconfigAuxCache: Fixup = {
  id: 'ldconfig-aux-cache',
  summary: 'remove /var/cache/ldconfig/aux-cache',
  apply(ctx) {
    if (fileAt(ctx.tree, LDCONFIG_AUX_CACHE) && ctx.tree.remove(LDCONFIG_AUX_CACHE)) ctx.record(LDCONFIG_AUX_CACHE, 'removed');
    return Promise.resolve();
  },
};
