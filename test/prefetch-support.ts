// Helpers shared by the restore-side tests: images of real files, and files on a real disk.
// Eviction is the dump side's helper (capture-support.ts), re-exported here.
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Hotness, type HotcacheImage, type ImageFile, type PageRange } from '../proto/image.js';
import { native } from '../hooks/native.js';

export { evict } from './capture-support.js';

export const PAGE = 4096;

const tempDirs = new Set<string>();
// Removed when the test process exits, however it exits short of SIGKILL: the suite's files are all
// imported (and their directories made) before any test runs, so a crash elsewhere must not leak them.
process.once('exit', () => {
	for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory on the real disk (/var/tmp), where the page cache behaves as in production; removed at exit. */
export function diskTempDir(prefix: string): string {
	const dir = mkdtempSync(path.join('/var/tmp', `hotcache-${prefix}-`));
	tempDirs.add(dir);
	return dir;
}

/** A file of `bytes` random bytes, synced to disk. */
export function writeFile(file: string, bytes: number): void {
	const fd = openSync(file, 'w', 0o644);
	const block = randomBytes(1 << 20);
	for (let done = 0; done < bytes; done += block.length) writeSync(fd, block, 0, Math.min(block.length, bytes - done));
	fsyncSync(fd);
	closeSync(fd);
}

export async function residency(file: string): Promise<Uint8Array> {
	const fd = openSync(file, 'r');
	try {
		return await native().mincore(fd, 0, statSync(file).size);
	} finally {
		closeSync(fd);
	}
}

/** An image entry for `file` as it is on disk now; `path` is how the image names it. */
export function imageFile(file: string, imagePath: string, ranges: PageRange[], fdOffsets: number[] = []): ImageFile {
	const st = statSync(file, { bigint: true });
	return {
		path: imagePath,
		identity: { size: Number(st.size), mtimeNs: st.mtimeNs, inode: st.ino, dev: st.dev, handle: new Uint8Array(), handleType: 0 },
		fds: fdOffsets.map((offset, i) => ({ pid: 1, fd: 3 + i, offset })),
		mapped: false,
		sizePages: Math.ceil(Number(st.size) / PAGE),
		dirtySynced: false,
		ranges,
	};
}

export function image(files: ImageFile[], ownRoot = false): HotcacheImage {
	return {
		version: 1,
		capture: {
			host: os.hostname(),
			kernel: os.release(),
			timeNs: 0n,
			backend: 'kpageflags',
			lru: 'classic',
			hotWarmExact: true,
			pageSize: PAGE,
			durationMs: 0,
			rootPid: 1,
			ownRoot,
			partial: false,
			partialReason: '',
			tool: 'test',
		},
		files,
	};
}

export const hot = (start: number, count: number): PageRange => ({ start, count, hotness: Hotness.Hot });
export const warm = (start: number, count: number): PageRange => ({ start, count, hotness: Hotness.Warm });
export const residentOnly = (start: number, count: number): PageRange => ({ start, count, hotness: Hotness.Resident });

export function ones(vec: Uint8Array, from = 0, to = vec.length): number {
	let n = 0;
	for (let i = from; i < to; i++) n += vec[i]!;
	return n;
}
