// The root file systems of the criu guests: Debian's own criu of a release, with that release's Node.js
// (the prefetcher) and util-linux-extra (fincore, for the guest's residency checks). The kernel and its
// modules come from the kmod-build rootfs of the kernel booted, so the module and the kernel always
// match. Each rootfs is the shared debootstrap cache (tools/testenv/rootfs.ts, keyed by the package
// list); its ext4 image, trimmed of documentation, locales and apt's lists, is cached next to the VM
// harness's other files, named by the rootfs and by how the image is made, and attached read-only, so
// every boot starts from the same state.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureRootfs, type RootfsSpec } from '../testenv/rootfs.js';
import { withLock } from '../testenv/lock.js';
import { makeDisk } from './disk.js';
import { execCommand } from './exec.js';
import { vmCacheDir } from './paths.js';

export interface CriuGuest {
	/** Debian release, also the guest's name in logs and results. */
	suite: 'bookworm' | 'trixie';
	/** The criu version Debian ships there, which `criu --version` in the guest must print. */
	criu: string;
	rootfs: RootfsSpec;
}

function guest(suite: CriuGuest['suite'], criu: string, name = 'vm-criu', more: string[] = []): CriuGuest {
	return { suite, criu, rootfs: { name, suite, packages: ['criu', 'nodejs', 'util-linux-extra', ...more] } };
}

export const BOOKWORM_GUEST = guest('bookworm', '3.17.1');
export const TRIXIE_GUEST = guest('trixie', '4.1.1');
/**
 * The NFS VMs' one image (tools/bench/nfs-vms.ts): the trixie criu guest with an NFS server and client,
 * ssh for `hotcache migrate --to ssh:`, and ip and ps for the guests' network and processes.
 */
export const NFS_GUEST = guest('trixie', '4.1.1', 'vm-nfs', ['nfs-kernel-server', 'nfs-common', 'openssh-server', 'openssh-client', 'iproute2', 'procps', 'kmod']);

/** Not needed to run criu and node in the guest; more than half of the tree. */
const TRIMMED = ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/cache/apt', 'var/lib/apt/lists'];

/** Where the job disk (/dev/vdb) is mounted in the guest. */
export const JOB_MOUNT = 'job';

/** What else decides the image's contents besides the rootfs: a change here makes a new image. */
const RECIPE = createHash('sha256').update(JSON.stringify({ trimmed: TRIMMED, mounts: [JOB_MOUNT], layout: 1 })).digest('hex').slice(0, 8);

/** The cached ext4 image of the guest's root file system, built when missing (first time: debootstrap). */
export async function ensureCriuGuestDisk(g: CriuGuest): Promise<string> {
	const rootfs = await ensureRootfs(g.rootfs);
	// Named after the rootfs directory, which carries the package list's key, and the recipe above.
	// Also rebuilt when the rootfs was (its directory's mtime is when its ready marker was written).
	const image = path.join(vmCacheDir(), `${path.basename(rootfs)}-${RECIPE}.ext4`);
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
