// How much of a plan is in the destination's page cache right now: measured before the restore and as
// it returns, for the summary ("hot bytes resident at resume"). Files are opened the way the prefetcher
// opens them (inside the root, identity checked); a file that cannot be opened counts as not resident.
import os from 'node:os';
import type { HotcacheImage } from '../../proto/image.js';
import { closeFd, openInRoot, openRoot } from '../../hooks/open-in-root.js';
import { residentPages } from '../../hooks/residency.js';
import { fetchedClass } from './plan-pages.js';

/**
 * Bytes of the plan's fetched classes resident now, or null when telling takes longer than
 * `budgetMs` (the measurement stops rather than hold the migration up).
 */
export async function residentBytes(image: HotcacheImage, root: string, budgetMs: number): Promise<number | null> {
	const deadline = performance.now() + budgetMs;
	const pageSize = image.capture.pageSize;
	const compareInode = image.capture.host === os.hostname();
	const rootFd = await openRoot(root);
	let pages = 0;
	try {
		for (const file of image.files) {
			if (performance.now() > deadline) return null;
			const ranges = file.ranges.filter((r) => fetchedClass(image, r.hotness));
			if (ranges.length === 0) continue;
			const opened = await openInRoot(rootFd, file, compareInode);
			if (!opened.ok) continue;
			try {
				for (const r of ranges) {
					if (performance.now() > deadline) return null;
					pages += await residentPages(opened.file.fd, r.start * pageSize, r.count * pageSize);
				}
			} finally {
				await closeFd(opened.file.fd);
			}
		}
	} finally {
		await closeFd(rootFd);
	}
	return pages * pageSize;
}
