// The root file system of the criu guests: Debian trixie with criu 4.1.1 (the kernel and its modules
// come from the kmod-build rootfs of the kernel booted, so the module and the kernel always match). The
// rootfs is the shared debootstrap cache (tools/testenv/rootfs.ts, keyed by the package list); its ext4
// image, trimmed of documentation, locales and apt's lists, is cached next to the VM harness's other
// files and attached read-only, so every boot starts from the same state.
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureRootfs, type RootfsSpec } from '../testenv/rootfs.js';
import { withLock } from '../testenv/lock.js';
import { makeDisk } from './disk.js';
import { execCommand } from './exec.js';
import { vmCacheDir } from './paths.js';

export const CRIU_GUEST_ROOTFS: RootfsSpec = { name: 'vm-criu', suite: 'trixie', packages: ['criu'] };

/** Not needed to run criu in the guest; about 140 of its 230 MB. */
const TRIMMED = ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/cache/apt', 'var/lib/apt/lists'];

/** Where the job disk (/dev/vdb) is mounted in the guest. */
export const JOB_MOUNT = 'job';

/** The cached ext4 image of the guest's root file system, built when missing (first time: debootstrap). */
export async function ensureCriuGuestDisk(): Promise<string> {
	const rootfs = await ensureRootfs(CRIU_GUEST_ROOTFS);
	// Named after the rootfs directory, which carries the package list's key: a new list, a new image.
	// Also rebuilt when the rootfs was (its directory's mtime is when its ready marker was written).
	const image = path.join(vmCacheDir(), `${path.basename(rootfs)}.ext4`);
	const current = () => existsSync(image) && statSync(image).mtimeMs > statSync(rootfs).mtimeMs;
	if (current()) return image;
	mkdirSync(vmCacheDir(), { recursive: true });
	return withLock(`${image}.lock`, async () => {
		if (current()) return image;
		const staging = `${image}.d`;
		const building = `${image}.building`;
		rmSync(staging, { recursive: true, force: true });
		try {
			// cp -a, not fs.cpSync: owners, modes and /dev's device nodes must survive the copy.
			await execCommand('cp', ['-a', rootfs, staging]);
			for (const dir of TRIMMED) rmSync(path.join(staging, dir), { recursive: true, force: true });
			mkdirSync(path.join(staging, JOB_MOUNT));
			const { stdout } = await execCommand('du', ['-sm', staging]);
			const sizeMb = Math.ceil(Number(stdout.split(/\s/)[0]) * 1.3) + 64;
			await makeDisk(building, { from: staging, size: `${sizeMb}M` });
			renameSync(building, image);
		} finally {
			rmSync(staging, { recursive: true, force: true });
			rmSync(building, { force: true });
		}
		return image;
	});
}
