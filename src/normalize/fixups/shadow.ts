/**
 * `/etc/shadow` and its backup `/etc/shadow-`: the third field of each line is the day of the
 * last password change, written by useradd/passwd/chpasswd as *today* when packages create their
 * system users. It becomes the day of SOURCE_DATE_EPOCH (days since 1970-01-01), which is what
 * shadow's tools write themselves when SOURCE_DATE_EPOCH is set. Empty fields (no aging) stay
 * empty; nothing else of the line changes.
 */
import { fileAt, readText, setText, type Fixup } from './fixup.js';

export const SHADOW_PATHS = ['etc/shadow', 'etc/shadow-'];

/** The shadow text with every non-empty last-change field set to `day`. */
export function fixShadowText(text: string, day: number): string {
  return text
    .split('\n')
    .map((line) => {
      const fields = line.split(':');
      if (fields.length < 3 || fields[2] === '' || line.startsWith('#')) return line;
      fields[2] = String(day);
      return fields.join(':');
    })
    .join('\n');
}

export const shadow: Fixup = {
  id: 'shadow',
  summary: 'set the last-change day of /etc/shadow and /etc/shadow- to the day of SOURCE_DATE_EPOCH',
  async apply(ctx) {
    const day = Math.floor(ctx.options.buildTime / 86400);
    for (const path of SHADOW_PATHS) {
      const node = fileAt(ctx.tree, path);
      if (!node) continue;
      const before = await readText(node);
      const after = fixShadowText(before, day);
      if (after === before) continue;
      setText(node, after, node.content.origin);
      ctx.record(path, 'rewritten', `last change set to day ${day}`);
    }
  },
};
