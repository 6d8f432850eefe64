/**
 * Boots an image in qemu-system-x86_64 for the boot tests and watches the first serial port.
 * Returns as soon as the marker appears on the console or the VM powers off, and always kills
 * qemu (timeout, test end, exception).
 *
 * Acceleration: REPRIMAGE_QEMU_ACCEL (kvm, tcg) when set; otherwise KVM if a probe boot of the
 * Debian kernel reaches its first message under KVM within a few seconds, else TCG. (qemu's own
 * `accel=kvm:tcg` fallback is not enough: under some nested hypervisors KVM opens fine and the
 * guest then hangs in long mode.)
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { debianKernel } from './boot-kit.js';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface QemuBootOptions {
  /** 'bios': SeaBIOS (qemu's default); 'uefi': OVMF with a fresh copy of its variable store. */
  firmware: 'bios' | 'uefi';
  /** An ISO attached as CD-ROM (`-cdrom`) and booted from. */
  cdrom?: string;
  /** A raw disk image attached as a hard disk and booted from (when there is no cdrom). */
  disk?: string;
  /**
   * How the disk is attached: 'ide' (default, what every firmware boots; Hyper-V generation 1
   * attaches a VHD so), 'virtio', 'ahci' (SATA) or 'pvscsi' (VMware's paravirtual SCSI, as vSphere
   * attaches a Linux guest's VMDK; SeaBIOS boots from it).
   */
  diskInterface?: 'ide' | 'virtio' | 'ahci' | 'pvscsi' | 'none';
  /** The disk's image format as qemu names it (raw, qcow2, vmdk, vpc); default raw. */
  diskFormat?: string;
  /** Direct kernel boot instead of firmware boot (the disk is then only data). */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** The text that means success, watched on the serial console. */
  marker: string;
  /** Text that means the boot cannot succeed any more (e.g. `Kernel panic - not syncing`): qemu is stopped at once. */
  failure?: string;
  /** Whole-boot bound; qemu is killed after it. Default 90 s. */
  timeoutMs?: number;
  memoryMiB?: number;
  /** Disk image opened read-only through a snapshot (the file is not changed). Default true. */
  snapshot?: boolean;
  extraArgs?: string[];
}

export interface QemuBootResult {
  /** The marker appeared on the serial console. */
  found: boolean;
  /** qemu exited on its own (power off, reboot with -no-reboot, error) rather than being killed. */
  exited: boolean;
  timedOut: boolean;
  /** Everything the serial console printed (and qemu's own stderr), for assertion messages. */
  console: string;
  stderr: string;
  args: string[];
}

/** True when qemu and (for UEFI) OVMF exist; skips outside CI, fails in CI. */
export function requireQemu(t: TestContext, firmware: 'bios' | 'uefi'): boolean {
  const missing: string[] = [];
  if (!['/usr/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64'].some(existsSync)) missing.push('qemu-system-x86');
  if (firmware === 'uefi' && !(existsSync(OVMF_CODE) && existsSync(OVMF_VARS))) missing.push('ovmf');
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`boot test needs ${missing.join(', ')} in CI`);
  t.skip(`needs Debian packages ${missing.join(', ')}`);
  return false;
}

let accelCache: Promise<'kvm' | 'tcg'> | undefined;

/** The accelerator the boots use (probed once per process). */
export function qemuAccel(): Promise<'kvm' | 'tcg'> {
  const forced = process.env.REPRIMAGE_QEMU_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return Promise.resolve(forced);
  accelCache ??= probeKvm();
  return accelCache;
}

async function probeKvm(): Promise<'kvm' | 'tcg'> {
  if (!existsSync('/dev/kvm')) return 'tcg';
  let vmlinuz: string;
  try {
    vmlinuz = debianKernel().vmlinuz;
  } catch {
    return 'tcg';
  }
  const args = ['-machine', 'pc,accel=kvm', '-m', '256', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', '-nodefaults', '-vga', 'none'];
  args.push('-kernel', vmlinuz, '-append', 'console=ttyS0 earlyprintk=serial panic=-1');
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve) => {
    let text = '';
    const done = (accel: 'kvm' | 'tcg') => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(accel);
    };
    const timer = setTimeout(() => done('tcg'), 8000);
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('Linux version')) done('kvm');
    });
    child.on('error', () => done('tcg'));
    child.on('close', () => done(text.includes('Linux version') ? 'kvm' : 'tcg'));
  });
}

/** The qemu command line for `options` (state files go into `scratch`). */
export function qemuArgs(options: QemuBootOptions, scratch: string, accel: 'kvm' | 'tcg' = 'tcg'): string[] {
  const args = ['-machine', `pc,accel=${accel}`, '-m', String(options.memoryMiB ?? 512), '-smp', '1'];
  args.push('-nographic', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', '-nodefaults', '-vga', 'none');
  if (options.firmware === 'uefi') {
    const vars = join(scratch, 'OVMF_VARS.fd');
    copyFileSync(OVMF_VARS, vars);
    args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,unit=1,file=${vars}`);
  }
  const snapshot = options.snapshot ?? true;
  if (options.cdrom) args.push('-drive', `file=${options.cdrom},format=raw,media=cdrom,readonly=on,if=ide,index=2`);
  if (options.disk && (options.diskInterface === 'ahci' || options.diskInterface === 'pvscsi')) {
    const [controller, disk] = options.diskInterface === 'ahci' ? ['ahci', 'ide-hd'] : ['pvscsi', 'scsi-hd'];
    args.push('-device', `${controller},id=hba0`);
    args.push('-drive', `file=${options.disk},format=${options.diskFormat ?? 'raw'},if=none,id=disk0${snapshot ? ',snapshot=on' : ''}`);
    args.push('-device', `${disk},drive=disk0,bus=hba0.0,bootindex=0`);
  } else if (options.disk) {
    args.push('-drive', `file=${options.disk},format=${options.diskFormat ?? 'raw'},if=${options.diskInterface ?? 'ide'},index=0${snapshot ? ',snapshot=on' : ''}${options.diskInterface === 'none' ? ',id=disk0' : ''}`);
  }
  if (options.kernel) {
    args.push('-kernel', options.kernel);
    if (options.initrd) args.push('-initrd', options.initrd);
    if (options.append) args.push('-append', options.append);
  } else {
    args.push('-boot', options.cdrom ? 'order=d,strict=on' : 'order=c,strict=on');
  }
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** Boots and waits for the marker or power-off, bounded by the timeout; qemu is always killed. */
export async function bootQemu(options: QemuBootOptions, t?: TestContext): Promise<QemuBootResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'reprimage-qemu-'));
  const args = qemuArgs(options, scratch, await qemuAccel());
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let consoleText = '';
  let stderr = '';
  let found = false;
  let timedOut = false;
  let exited = false;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  t?.after(kill);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, options.timeoutMs ?? 90_000);
      child.stdout.setEncoding('latin1');
      child.stdout.on('data', (chunk: string) => {
        consoleText += chunk;
        // Keep the console bounded: a looping guest must not fill memory.
        if (consoleText.length > 4 << 20) consoleText = consoleText.slice(-(2 << 20));
        if (!found && options.failure && consoleText.includes(options.failure)) kill();
        if (!found && consoleText.includes(options.marker)) {
          found = true;
          // Give the guest a moment to power off by itself, then stop it either way.
          setTimeout(kill, 2000).unref();
        }
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (stderr.length < 1 << 16) stderr += chunk;
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', () => {
        clearTimeout(timer);
        exited = !timedOut && child.signalCode === null;
        resolve();
      });
    });
  } finally {
    kill();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { found, exited, timedOut, console: consoleText, stderr, args };
}

/** A short description of a failed boot for assertion messages: the command and the console tail. */
export function describeBoot(result: QemuBootResult): string {
  // eslint-disable-next-line no-control-regex -- strip the firmware's terminal escapes
  const tail = result.console.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').slice(-3000);
  return `qemu-system-x86_64 ${result.args.join(' ')}\n${result.timedOut ? 'timed out' : result.exited ? 'exited' : 'killed'}\n--- stderr ---\n${result.stderr}\n--- console tail ---\n${tail}`;
}
