// How many pages of a byte range are in the page cache: cachestat(2) where the kernel has it (one
// syscall, no mapping), else mincore(2) through a read-only mapping.
import { isSystemError, native } from './native.js';

let haveCachestat = true;

export async function residentPages(fd: number, offset: number, length: number): Promise<number> {
	if (haveCachestat) {
		try {
			return (await native().cachestat(fd, offset, length)).cache;
		} catch (err) {
			if (!isSystemError(err) || err.code !== 'ENOSYS') throw err;
			haveCachestat = false;
		}
	}
	const vec = await native().mincore(fd, offset, length);
	return vec.reduce((sum, bit) => sum + bit, 0);
}
