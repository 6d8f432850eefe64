/**
 * The kernel modules the installer's initramfs carries: the drivers that find the medium and the
 * target disk (CD, SATA, NVMe, virtio, USB storage) and a USB keyboard, with their dependencies
 * from the tree's modules.dep, dependencies first. A module built into the kernel
 * (modules.builtin) needs nothing; one the kernel has neither way is left out with a warning.
 */
import { ReprimageError } from '../errors.js';
import { readContent } from '../tree/content.js';
import type { FileNode, Tree } from '../tree/tree.js';

export const INSTALLER_MODULES = [
  // the medium: CD drives (IDE, SATA), USB sticks, and the ISO 9660 file system
  'ata_piix', 'ahci', 'sr_mod', 'isofs', 'usb_storage', 'uas', 'xhci_pci', 'ehci_pci', 'ohci_pci', 'uhci_hcd',
  // target disks
  'sd_mod', 'nvme', 'virtio_pci', 'virtio_blk', 'virtio_scsi', 'mmc_block', 'sdhci_pci',
  // a USB keyboard for the interactive question
  'usbhid', 'hid_generic',
] as const;

export interface InstallerModule {
  /** Its file name in the initramfs' /lib/modules. */
  name: string;
  content: FileNode['content'];
}

function textOf(tree: Tree, path: string): Promise<string> | undefined {
  const node = tree.get(path);
  return node?.kind === 'file' ? readContent(node.content).then((b) => new TextDecoder().decode(b)) : undefined;
}

/** The modules for kernel `version` of `tree`, in load order. */
export async function installerModules(tree: Tree, version: string, warn: (message: string) => void, wanted: readonly string[] = INSTALLER_MODULES): Promise<InstallerModule[]> {
  const dir = ['usr/lib/modules', 'lib/modules'].map((d) => `${d}/${version}`).find((d) => tree.get(d)?.kind === 'dir');
  const depText = dir === undefined ? undefined : textOf(tree, `${dir}/modules.dep`);
  if (dir === undefined || depText === undefined) throw new ReprimageError('NOT_FOUND', `/lib/modules/${version}/modules.dep`, 'the kernel modules are missing from the root tree (the kernel package installs them)');
  const deps = new Map<string, string[]>();
  for (const line of (await depText).split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) deps.set(line.slice(0, colon), line.slice(colon + 1).trim().split(/\s+/).filter((d) => d !== ''));
  }
  const builtin = new Set(((await textOf(tree, `${dir}/modules.builtin`)) ?? '').split('\n').map(baseName));
  const byName = new Map([...deps.keys()].map((path) => [baseName(path), path]));
  const ordered: string[] = [];
  const visit = (path: string, stack: Set<string>): void => {
    if (ordered.includes(path) || stack.has(path)) return;
    stack.add(path);
    for (const d of deps.get(path) ?? []) visit(d, stack);
    ordered.push(path);
  };
  for (const name of wanted) {
    const path = byName.get(name);
    if (path !== undefined) visit(path, new Set());
    else if (!builtin.has(name)) warn(`installer ISO: kernel ${version} has no module ${name}; left out`);
  }
  const names = new Set<string>();
  return ordered.map((path) => {
    if (!path.endsWith('.ko')) throw new ReprimageError('UNSUPPORTED', `${dir}/${path}`, 'compressed kernel modules are not supported by the installer initramfs');
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (names.has(name)) throw new ReprimageError('CONFLICT', `${dir}/${path}`, `two modules named ${name}`);
    names.add(name);
    const node = tree.get(`${dir}/${path}`);
    if (node?.kind !== 'file') throw new ReprimageError('NOT_FOUND', `/${dir}/${path}`, 'listed in modules.dep but missing');
    return { name, content: node.content };
  });
}

/** kernel/drivers/ata/ata_piix.ko -> ata_piix (dashes as underscores, as modprobe compares). */
function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(/\.ko(\.(xz|zst|gz))?$/, '').replaceAll('-', '_');
}
