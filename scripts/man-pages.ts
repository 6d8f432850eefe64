/**
 * roff man pages from the command model: reprimage(1) and one page per command,
 * reprimage-pack(1) and so on, in the layout of man-pages(7). No date (it would change every build).
 */
import type { CommandModel, OptionModel, ProgramModel } from './command-model.js';

/** Text as roff reads it: backslashes doubled, hyphens literal, a leading dot or quote escaped. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

function header(name: string, version: string): string {
  return `.\\" Generated from reprimage's command definitions by scripts/generate-man-completions.ts; do not edit.\n.TH ${name.toUpperCase()} 1 "" "reprimage ${version}" "User Commands"\n`;
}

function optionItem(o: OptionModel): string {
  const names = [o.short, o.long].filter(Boolean).map((n) => `\\fB${roff(n!)}\\fR`).join(', ');
  const value = o.value === undefined ? '' : ` \\fI${roff(o.value)}\\fR`;
  const extra = [o.default === undefined ? '' : ` (default: ${roff(o.default)})`, o.repeatable ? ' Repeatable.' : ''].join('');
  return `.TP\n${names}${value}\n${roff(o.description)}${extra}\n`;
}

const EXIT_STATUS = `.SH EXIT STATUS
.TP
.B 0
success; for \\fBdiff\\fR, \\fBiuk\\-apply \\-\\-expect\\fR and \\fBcheck\\fR: the same, or reproducible
.TP
.B 1
differences found (\\fBdiff\\fR, \\fBnormalize \\-\\-check\\fR, \\fBpo\\-changed\\fR, \\fBcheck\\fR, \\fBiuk\\-apply\\fR)
.TP
.B 2
bad usage or bad input: one line naming the file and the problem; nothing is written
.TP
.B 70
internal error (a bug): one line, the stack with \\fB\\-\\-verbose\\fR or REPRIMAGE_DEBUG=1
.TP
.B 130, 143
stopped by SIGINT or SIGTERM; temporary files are removed
`;

const ENVIRONMENT = `.SH ENVIRONMENT
.TP
.B SOURCE_DATE_EPOCH
the build time: file times later than it are clamped to it, and creation times are set to it
.TP
.B NO_COLOR
when set and not empty, no colour (unless \\fB\\-\\-color always\\fR)
.TP
.B REPRIMAGE_DEBUG
when set, an internal error also prints its stack
`;

export function programPage(model: ProgramModel, version: string): string {
  let out = header('reprimage', version);
  out += `.SH NAME\nreprimage \\- ${roff(model.description)}\n`;
  out += `.SH SYNOPSIS\n.B reprimage\n\\fICOMMAND\\fR [\\fIoptions\\fR] [\\fIARGS\\fR...]\n.br\n.B reprimage \\-\\-version\n`;
  out += '.SH DESCRIPTION\nreprimage writes tar, cpio, SquashFS, ISO 9660, FAT, ext4 and GPT/MBR images bit for bit reproducibly, builds root file systems from pinned APT archives, checks that a build is reproducible, and explains differences between images. Each command has its own page, \\fBreprimage\\-\\fR\\fICOMMAND\\fR(1), and \\fB\\-\\-help\\fR.\n';
  out += '.SH COMMANDS\n';
  for (const c of model.commands) out += `.TP\n\\fB${roff(c.name)}\\fR ${roff(c.usage)}\n${roff(c.description)}. See \\fBreprimage\\-${roff(c.name)}\\fR(1).\n`;
  out += '.SH OPTIONS\n';
  for (const o of model.options) out += optionItem(o);
  out += '.PP\nEvery command also takes \\fB\\-q\\fR/\\fB\\-\\-quiet\\fR, \\fB\\-v\\fR/\\fB\\-\\-verbose\\fR, \\fB\\-\\-no\\-progress\\fR and \\fB\\-\\-color\\fR \\fIauto|always|never\\fR. Progress bars are drawn on a terminal only.\n';
  out += EXIT_STATUS + ENVIRONMENT;
  out += `.SH SEE ALSO\n${model.commands.map((c) => `\\fBreprimage\\-${roff(c.name)}\\fR(1)`).join(',\n')},\n\\fBdiffoscope\\fR(1), \\fBmksquashfs\\fR(1), \\fBxorriso\\fR(1)\n`;
  return out;
}

export function commandPage(c: CommandModel, version: string): string {
  let out = header(`reprimage-${c.name}`, version);
  out += `.SH NAME\nreprimage\\-${roff(c.name)} \\- ${roff(c.description)}\n`;
  out += `.SH SYNOPSIS\n.B reprimage ${roff(c.name)}\n${roff(c.usage)}\n`;
  out += `.SH DESCRIPTION\n${roff(c.description)}.\n`;
  if (c.arguments.length > 0) {
    out += '.SH ARGUMENTS\n';
    for (const a of c.arguments) out += `.TP\n\\fI${roff(a.name.toUpperCase())}\\fR${a.variadic ? '...' : ''}${a.required ? '' : ' (optional)'}\n${roff(a.description)}\n`;
  }
  out += '.SH OPTIONS\n';
  for (const o of c.options) out += optionItem(o);
  out += EXIT_STATUS + ENVIRONMENT;
  out += `.SH SEE ALSO\n\\fBreprimage\\fR(1)\n`;
  return out;
}
