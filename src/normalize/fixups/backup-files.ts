/**
 * Backup copies that debconf and dpkg keep of their databases before each change:
 * `/var/cache/debconf/*-old` (config.dat-old, templates.dat-old, passwords.dat-old) and
 * `/var/lib/dpkg/*-old` (status-old, diversions-old, statoverride-old). They hold the state
 * one step before the end of the build, which depends on the order and number of package
 * operations, and nothing reads them but a human restoring by hand. They are removed.
 */
import { namesIn, removeAndRecord, type Fixup } from './fixup.js';

export const BACKUP_DIRS = ['var/cache/debconf', 'var/lib/dpkg'];

export const backupFiles: Fixup = {
  id: 'backup-files',
  summary: 'remove debconf and dpkg *-old backups',
  apply(ctx) {
    for (const dir of BACKUP_DIRS) {
      for (const name of namesIn(ctx.tree, dir, /-old$/)) {
        if (ctx.tree.get(`${dir}/${name}`)?.kind === 'file') removeAndRecord(ctx, `${dir}/${name}`);
      }
    }
    return Promise.resolve();
  },
};
