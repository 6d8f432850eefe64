/**
 * Boot menu templates of the live ISO (isolinux for BIOS, GRUB for UEFI), rendered from the
 * recipe's variables only: no dates, no host names, nothing of the build machine.
 */

export interface BootMenuVars {
  /** Shown in the menus. */
  title: string;
  /** The whole kernel command line after the kernel and initrd. */
  cmdline: string;
  /** Paths on the medium; default the live ISO's LIVE_KERNEL and LIVE_INITRD. */
  kernel?: string;
  initrd?: string;
}

/** Paths on the medium, shared by the menus, the writer and the upgrade kits (src/iuk). */
export const LIVE_KERNEL = 'live/vmlinuz';
export const LIVE_INITRD = 'live/initrd.img';
export const LIVE_SQUASHFS = 'live/filesystem.squashfs';

/** live-boot's switches first; the recipe's words after them. */
export function liveCmdline(extra: string | undefined): string {
  const words = ['boot=live', 'components', ...(extra ?? 'console=ttyS0,115200 console=tty0').split(/\s+/).filter((w) => w !== '')];
  return words.join(' ');
}

function menuText(text: string): string {
  // isolinux and GRUB both take the title as one line; quotes would end GRUB's string
  return text.replace(/[\r\n"\\$]/g, '_');
}

/** isolinux.cfg: boots the live entry at once (no prompt), serial console mirrored. */
export function isolinuxCfg(v: BootMenuVars): string {
  return [
    'SERIAL 0 115200',
    'DEFAULT live',
    'PROMPT 0',
    'TIMEOUT 0',
    '',
    'LABEL live',
    `  SAY Booting ${menuText(v.title)}`,
    `  KERNEL /${v.kernel ?? LIVE_KERNEL}`,
    `  APPEND initrd=/${v.initrd ?? LIVE_INITRD} ${v.cmdline}`,
    '',
  ].join('\n');
}

/**
 * boot/grub/grub.cfg on the ISO. Debian's signed CD GRUB (gcdx64.efi) finds the medium by
 * /.disk/info and sources this file; the same text sits next to it on the ESP as a fallback.
 */
export function grubCfg(v: BootMenuVars): string {
  return [
    'set default=0',
    'set timeout=1',
    'serial --unit=0 --speed=115200',
    'terminal_input console serial',
    'terminal_output console serial',
    'search --no-floppy --set=root --file /.disk/info',
    '',
    `menuentry "${menuText(v.title)}" {`,
    `  linux /${v.kernel ?? LIVE_KERNEL} ${v.cmdline}`,
    `  initrd /${v.initrd ?? LIVE_INITRD}`,
    '}',
    '',
  ].join('\n');
}
