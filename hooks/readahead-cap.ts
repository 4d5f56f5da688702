// The kernel's per-call readahead cap for a device: force_page_cache_ra() clamps every
// readahead(2)/WILLNEED to max(bdi io_pages, ra_pages) pages and returns success anyway, so a larger
// request is silently cut short. read_ahead_kb is the bdi's ra_pages; io_pages is the block queue's
// max_sectors_kb, and on NFS the mount's rsize (not in sysfs: it is read from the super options in
// mountinfo).
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

function positive(text: string | undefined): number | null {
	const n = Number(text);
	return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function readKb(file: string): number | null {
	try {
		const kb = positive(readFileSync(file, 'utf8').trim());
		return kb === null ? null : kb * 1024;
	} catch {
		return null;
	}
}

/**
 * The rsize (bytes) of the NFS mount of device `id` ("major:minor") in a mountinfo text, or null
 * when the device is not an nfs/nfs4 mount there or its super options name no rsize.
 * A line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS".
 */
export function nfsReadSize(mountinfo: string, id: string): number | null {
	for (const line of mountinfo.split('\n')) {
		const fields = line.split(' ');
		if (fields[2] !== id) continue;
		const dash = fields.indexOf('-', 6);
		const fstype = fields[dash + 1];
		if (dash < 0 || (fstype !== 'nfs' && fstype !== 'nfs4')) continue;
		const rsize = (fields[dash + 3] ?? '').split(',').find((o) => o.startsWith('rsize='));
		return positive(rsize?.slice('rsize='.length));
	}
	return null;
}

function mountinfoNfsReadSize(id: string): number | null {
	try {
		return nfsReadSize(readFileSync('/proc/self/mountinfo', 'utf8'), id);
	} catch {
		return null;
	}
}

const cache = new Map<string, number>();

/** The kernel's cap for device `dev`, in bytes, as sysfs and mountinfo tell it (DEFAULT_CAP_BYTES when they do not). */
export function deviceReadaheadBytes(dev: bigint): number {
	const id = majorMinor(dev);
	let cap = cache.get(id);
	if (cap === undefined) {
		const ra = readKb(`/sys/class/bdi/${id}/read_ahead_kb`);
		// A partition's queue is its disk's: /sys/dev/block/M:m/queue, else ../queue. No queue: maybe NFS.
		const io = readKb(`/sys/dev/block/${id}/queue/max_sectors_kb`) ?? readKb(`/sys/dev/block/${id}/../queue/max_sectors_kb`) ?? mountinfoNfsReadSize(id);
		cap = Math.max(ra ?? 0, io ?? 0) || DEFAULT_CAP_BYTES;
		cache.set(id, cap);
	}
	return cap;
}

/** Bytes one readahead call may bring in for files on device `dev`, clamped to [page, MAX_CHUNK_BYTES]. */
export function readaheadCapBytes(dev: bigint, pageSize: number): number {
	const cap = deviceReadaheadBytes(dev);
	return Math.min(MAX_CHUNK_BYTES, Math.max(pageSize, cap - (cap % pageSize)));
}
