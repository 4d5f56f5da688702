// Host tools the VM tests need, installed with apt-get when missing (root only).
import { existsSync, readFileSync } from 'node:fs';
import { ensureHostPackages } from '../setup/debian.js';

export const BUSYBOX = '/bin/busybox';

/** Why the VM tests cannot run on this host, or null. */
export function vmSkipReason(): string | null {
	if (process.platform !== 'linux') return 'the VM tests need Linux';
	if (process.getuid?.() !== 0) return 'needs root: builds Debian root file systems and enters them with namespaces (run the suite as root)';
	const canInstall = existsSync('/usr/bin/apt-get');
	if (!existsSync('/usr/bin/qemu-system-x86_64') && !canInstall) return 'qemu-system-x86_64 is missing and there is no apt-get to install it';
	return null;
}

/** Whether an ELF executable has no program interpreter (busybox from busybox-static, not busybox). */
function isStaticElf(file: string): boolean {
	const elf = readFileSync(file);
	const phoff = Number(elf.readBigUInt64LE(0x20));
	const phentsize = elf.readUInt16LE(0x36);
	const phnum = elf.readUInt16LE(0x38);
	const PT_INTERP = 3;
	for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return false;
	return true;
}

export function ensureVmHostTools(): void {
	ensureHostPackages([
		{ name: 'qemu-system-x86', provides: '/usr/bin/qemu-system-x86_64' },
		{ name: 'cpio', provides: '/usr/bin/cpio' },
		{ name: 'xz-utils', provides: '/usr/bin/xz' },
		{ name: 'e2fsprogs', provides: '/usr/sbin/mke2fs' },
		{ name: 'debootstrap', provides: '/usr/sbin/debootstrap' },
	]);
	// busybox (dynamic) and busybox-static install the same path, so the package's dpkg file list is the probe.
	if (!existsSync(BUSYBOX) || !isStaticElf(BUSYBOX)) {
		ensureHostPackages([{ name: 'busybox-static', provides: '/var/lib/dpkg/info/busybox-static.list' }]);
	}
	if (!isStaticElf(BUSYBOX)) throw new Error(`${BUSYBOX} is not statically linked even after installing busybox-static`);
}
