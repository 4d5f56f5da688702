// A helper run inside the test root file systems after a restore: evict files, wait until a file is
// resident again, read the reader's counter. It runs on whatever Node the test names (the rootfs's
// own, or the private one where the rootfs has none) with the built addon.
import path from 'node:path';
import { projectRoot } from '../tools/project.js';

// "Resident again" means this share of the file's pages. Not all of them: this host runs a DAMON
// pageout scheme (/sys/kernel/mm/damon/admin/kdamonds/0: paddr, unmapped file pages idle for a
// minute) that samples whole regions and was seen dropping a handful of freshly read pages.
const RESIDENT_SHARE = 0.995;

/** The helper's source (an ES module): `evict FILE...`, `wait-resident FILE BYTES MS`, `counter FILE`. */
export const HELPER = `
import { closeSync, fsyncSync, openSync, readFileSync } from 'node:fs';
const { native } = await import(${JSON.stringify(path.join(projectRoot, 'dist/hooks/native.js'))});
const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'evict') {
	for (const file of args) {
		const fd = openSync(file, 'r');
		fsyncSync(fd);
		await native().fadvise(fd, 0, 0, native().advice.DONTNEED);
		console.log(file, 'resident after eviction:', (await native().cachestat(fd, 0, 0)).cache);
		closeSync(fd);
	}
} else if (cmd === 'wait-resident') {
	// Prints how long until the file is resident again (bounded wait); see RESIDENT_SHARE.
	const fd = openSync(args[0], 'r');
	const pages = Math.ceil(Number(args[1]) / 4096);
	const t0 = Date.now();
	let cached = 0;
	while (Date.now() - t0 < Number(args[2])) {
		cached = (await native().cachestat(fd, 0, 0)).cache;
		if (cached >= Math.ceil(pages * ${RESIDENT_SHARE})) break;
		await new Promise((r) => setTimeout(r, 20));
	}
	console.log('resident=' + cached + ' pages=' + pages + ' ms=' + (Date.now() - t0) + ' file=' + args[0]);
} else if (cmd === 'counter') {
	console.log(readFileSync(args[0]).readBigUInt64LE(0).toString());
}
`;

/** The wait-resident line (of `file`, else the first), when it says the file is resident again. */
export function residentAgain(out: string, file?: string): { ms: number } | null {
	for (const m of out.matchAll(/resident=(\d+) pages=(\d+) ms=(\d+) file=(\S+)/g)) {
		if (file !== undefined && m[4] !== file) continue;
		return Number(m[1]) >= Math.ceil(Number(m[2]) * RESIDENT_SHARE) ? { ms: Number(m[3]) } : null;
	}
	return null;
}

/** A `name=NUMBER` line printed by a test script, NaN when absent. */
export const value = (text: string, name: string): number => Number(new RegExp(`^${name}=(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
