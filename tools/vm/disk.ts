// The guest's scratch disk: a fresh ext4 image per boot (tmpfs pages do not age like a disk file's), and
// reading a file the guest left on it without mounting anything (debugfs, from e2fsprogs like mke2fs).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { execCommand } from './exec.js';

export async function makeDisk(file: string): Promise<void> {
	rmSync(file, { force: true });
	await execCommand('mke2fs', ['-q', '-F', '-t', 'ext4', file, '64M']);
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
