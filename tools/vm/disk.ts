// The guest's disks: a fresh ext4 image per boot (tmpfs pages do not age like a disk file's), optionally
// filled from a host directory (mke2fs -d: no loop device, no mount), and reading a file the guest left on
// it, or a whole directory, without mounting anything (debugfs, from e2fsprogs like mke2fs).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execCommand } from './exec.js';

/** A new ext4 image of `size` (mke2fs syntax: 64M), holding a copy of the directory `from` when given. */
export async function makeDisk(file: string, opts: { size?: string; from?: string } = {}): Promise<void> {
	rmSync(file, { force: true });
	await execCommand('mke2fs', ['-q', '-F', '-t', 'ext4', ...(opts.from ? ['-d', opts.from] : []), file, opts.size ?? '64M']);
}

/** The contents of `inside` (a path on the image), or null when the guest did not write it. */
export async function readFromDisk(disk: string, inside: string): Promise<Buffer | null> {
	const out = `${disk}.extract`;
	rmSync(out, { force: true });
	try {
		await execCommand('debugfs', ['-R', `dump ${inside} ${out}`, disk]);
		return existsSync(out) ? readFileSync(out) : null;
	} finally {
		rmSync(out, { force: true });
	}
}

/** Copies the directory `inside` (a path on the image) to `dest`/basename(inside); false when it is absent. */
export async function extractDir(disk: string, inside: string, dest: string): Promise<boolean> {
	mkdirSync(dest, { recursive: true });
	await execCommand('debugfs', ['-R', `rdump ${inside} ${dest}`, disk]);
	return existsSync(path.join(dest, path.basename(inside)));
}
