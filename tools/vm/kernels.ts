// The Debian kernels the module is tested on. Each comes from a cached Debian root file system that holds
// the kernel image, its modules, its headers and the compiler that built it (6.1 wants gcc-12, 6.12
// gcc-14), so the module is built the way Debian's own DKMS would build it. The rootfs cache is keyed by
// its package list (tools/testenv/rootfs.ts), so a changed list rebuilds it.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ensureRootfs, type RootfsSpec } from '../testenv/rootfs.js';

export interface KernelTarget {
	/** Short name for logs and results: bookworm-6.1, trixie-6.12. */
	name: string;
	rootfs: RootfsSpec;
	/** The compiler Debian built this kernel with, for the test program too (there is no plain gcc). */
	cc: string;
}

function target(suite: string, series: string, gcc: string): KernelTarget {
	return {
		name: `${suite}-${series}`,
		cc: gcc,
		rootfs: {
			name: 'kmod-build',
			suite,
			packages: ['linux-image-cloud-amd64', 'linux-headers-cloud-amd64', gcc, 'libc6-dev', 'make', 'xz-utils'],
		},
	};
}

export const KERNEL_TARGETS: readonly KernelTarget[] = [target('bookworm', '6.1', 'gcc-12'), target('trixie', '6.12', 'gcc-14')];

/** One kernel, as paths inside the host's view of its rootfs. */
export interface KernelTree {
	name: string;
	cc: string;
	rootfs: string;
	release: string;
	vmlinuz: string;
	/** /lib/modules/RELEASE inside the rootfs, as a host path. */
	modulesDir: string;
	/** The headers directory as seen from inside the rootfs (the build runs there). */
	headersInside: string;
}

/** Builds the target's rootfs when missing (about a minute) and finds the one kernel in it. */
export async function ensureKernel(t: KernelTarget): Promise<KernelTree> {
	const rootfs = await ensureRootfs(t.rootfs);
	const images = readdirSync(path.join(rootfs, 'boot')).filter((f) => f.startsWith('vmlinuz-'));
	if (images.length !== 1) throw new Error(`${t.name}: expected one kernel in ${rootfs}/boot, found ${images.length}`);
	const release = images[0]!.slice('vmlinuz-'.length);
	return {
		name: t.name,
		cc: t.cc,
		rootfs,
		release,
		vmlinuz: path.join(rootfs, 'boot', images[0]!),
		modulesDir: path.join(rootfs, 'lib/modules', release),
		headersInside: `/usr/src/linux-headers-${release}`,
	};
}
