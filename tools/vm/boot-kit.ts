// A kernel made ready to boot: hotcache.ko and the test program built for it, and the initramfs that
// loads them with the drivers the guests need. Shared by the module's matrix and the criu guests.
import path from 'node:path';
import { buildForKernel, type BuiltModule } from './build.js';
import { BUSYBOX } from './host.js';
import { makeInitramfs } from './initramfs.js';
import type { KernelTree } from './kernels.js';
import { guestModules } from './modules.js';

export interface BootKit {
	tree: KernelTree;
	built: BuiltModule;
	initrd: string;
}

// The disk driver; overlay, for the module's test of a file read through overlayfs; for criu, the socket
// diag modules it queries for a tree's sockets and nf_tables, whose netlink interface its feature probe
// (kerndat) needs or it refuses to run.
const DRIVERS = ['virtio_pci', 'virtio_blk', 'overlay', 'unix_diag', 'netlink_diag', 'af_packet_diag', 'tcp_diag', 'udp_diag', 'nf_tables'];

/**
 * Builds the module for `tree` in `scratch` and makes its initramfs, with hotcache-capture when given
 * and `moreDrivers` loaded after the usual ones (the NFS VMs' network and NFS modules).
 */
export async function makeBootKit(tree: KernelTree, scratch: string, capture: string | null, moreDrivers: string[] = []): Promise<BootKit> {
	const built = await buildForKernel(tree, scratch);
	const initrd = path.join(scratch, `initramfs-${tree.name}.cpio`);
	await makeInitramfs(initrd, {
		busybox: BUSYBOX,
		module: built.module,
		selftest: built.selftest,
		driverModules: guestModules(tree.modulesDir, [...DRIVERS, ...moreDrivers]),
		capture,
	});
	return { tree, built, initrd };
}
