// The kernel's per-call readahead cap for a device: force_page_cache_ra() clamps every
// readahead(2)/WILLNEED to max(bdi io_pages, ra_pages) pages and returns success anyway, so a larger
// request is silently cut short. read_ahead_kb is the bdi's ra_pages; io_pages is the block queue's
// max_sectors_kb (NFS sets it to rsize, which is not in sysfs; read_ahead_kb then decides).
import { readFileSync } from 'node:fs';

/** When nothing can be read from sysfs: the kernel's default VM readahead (128 KiB). */
export const DEFAULT_CAP_BYTES = 128 << 10;
/** Upper bound for one chunk, whatever sysfs says. */
export const MAX_CHUNK_BYTES = 16 << 20;

/** Linux's dev_t encoding (new_decode_dev, glibc's gnu_dev_major/minor). */
export function majorMinor(dev: bigint): string {
	const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
	const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
	return `${major}:${minor}`;
}

function readKb(file: string): number | null {
	try {
		const n = Number(readFileSync(file, 'utf8').trim());
		return Number.isFinite(n) && n > 0 ? n * 1024 : null;
	} catch {
		return null;
	}
}

const cache = new Map<string, number>();

/** Bytes one readahead call may bring in for files on device `dev`, clamped to [page, MAX_CHUNK_BYTES]. */
export function readaheadCapBytes(dev: bigint, pageSize: number): number {
	const id = majorMinor(dev);
	let cap = cache.get(id);
	if (cap === undefined) {
		const ra = readKb(`/sys/class/bdi/${id}/read_ahead_kb`);
		// A partition's queue is its disk's: /sys/dev/block/M:m/queue, else ../queue.
		const io = readKb(`/sys/dev/block/${id}/queue/max_sectors_kb`) ?? readKb(`/sys/dev/block/${id}/../queue/max_sectors_kb`);
		cap = Math.max(ra ?? 0, io ?? 0) || DEFAULT_CAP_BYTES;
		cache.set(id, cap);
	}
	return Math.min(MAX_CHUNK_BYTES, Math.max(pageSize, cap - (cap % pageSize)));
}
