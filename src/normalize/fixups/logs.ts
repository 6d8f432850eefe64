/**
 * Logs under `/var/log` (dpkg.log, apt/history.log, apt/term.log, alternatives.log,
 * bootstrap.log, …) record when and on which machine the image was built. Every regular file
 * under `/var/log` is emptied, keeping its mode, owner and place: some services (and logrotate)
 * expect their log files, or `wtmp`/`btmp`/`lastlog`, to exist with the right permissions.
 */
import { emptyContent } from '../../tree/content.js';
import { pathsUnder, type Fixup } from './fixup.js';

export const LOG_DIR = 'var/log';

export const logs: Fixup = {
  id: 'logs',
  summary: 'empty every regular file under /var/log',
  apply(ctx) {
    for (const { path, node } of pathsUnder(ctx.tree, LOG_DIR)) {
      if (node.kind !== 'file' || node.content.size === 0) continue;
      node.content = emptyContent;
      ctx.record(path, 'emptied');
    }
    return Promise.resolve();
  },
};
