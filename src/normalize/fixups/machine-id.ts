/**
 * `/etc/machine-id` holds a random 128-bit identifier that systemd-machine-id-setup (run by
 * systemd's postinst) writes at install time: different on every build, and shared by every
 * machine booting the image if left in. systemd's "Building Images Safely" says to reset it to
 * `uninitialized\n`: the machine then gets its own identifier on first boot (and first-boot
 * units run). `empty` keeps an empty file instead (the older live-build habit; systemd then uses
 * a transient identifier), `remove` deletes it.
 */
import { emptyContent } from '../../tree/content.js';
import { fileAt, readText, setText, type Fixup } from './fixup.js';

export const MACHINE_ID = 'etc/machine-id';

export const machineId: Fixup = {
  id: 'machine-id',
  summary: 'reset /etc/machine-id to "uninitialized" (or empty it, or remove it)',
  async apply(ctx) {
    const node = fileAt(ctx.tree, MACHINE_ID);
    if (!node) return;
    const mode = ctx.options.machineId ?? 'uninitialized';
    if (mode === 'remove') {
      ctx.tree.remove(MACHINE_ID);
      ctx.record(MACHINE_ID, 'removed');
      return;
    }
    const want = mode === 'empty' ? '' : 'uninitialized\n';
    if ((await readText(node)) === want) return;
    if (want === '') node.content = emptyContent;
    else setText(node, want, node.content.origin);
    ctx.record(MACHINE_ID, mode === 'empty' ? 'emptied' : 'rewritten', mode);
  },
};
