// The storage the two emulated hosts share: one ext4 image file, made on the machine itself (outside
// any namespace) from the files a caller writes into a staging directory.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureHostPackages } from '../setup/debian.js';
import { makeDisk } from '../vm/disk.js';

/** Room for the file system's own metadata and journal around the files. */
const SLACK_BYTES = 48 << 20;

function treeBytes(dir: string): number {
	let total = 0;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		total += entry.isDirectory() ? treeBytes(full) : statSync(full).size;
	}
	return total;
}

/**
 * Makes `image`, an ext4 file system holding what `fill` writes into the directory it is given (its
 * paths become the paths under the hosts' mount point). The staging directory beside the image is
 * removed afterwards, whatever happens.
 */
export async function makeStorage(image: string, fill: (dir: string) => void | Promise<void>): Promise<void> {
	ensureHostPackages([{ name: 'e2fsprogs', provides: '/usr/sbin/mke2fs' }]);
	const staging = `${image}.d`;
	rmSync(staging, { recursive: true, force: true });
	mkdirSync(staging, { recursive: true });
	try {
		await fill(staging);
		const bytes = treeBytes(staging);
		await makeDisk(image, { from: staging, size: `${Math.ceil((bytes * 1.05 + SLACK_BYTES) / 2 ** 20)}M` });
	} finally {
		rmSync(staging, { recursive: true, force: true });
	}
}
