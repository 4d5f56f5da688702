// Opens a file named by the image inside the restored process's root, read-only, never leaving that
// root, and checks that it is still the file that was captured.
import { close, constants, fstat, open, type BigIntStats } from 'node:fs';
import { promisify } from 'node:util';
import { REFUSED_FS } from '../contract/out/contract.js';
import type { ImageFile } from '../proto/image.js';
import { isSystemError, native, Resolver } from './native.js';

export interface OpenedFile {
	fd: number;
	stat: BigIntStats;
	resolver: 'openat2' | 'walk';
	/** On FUSE (opened only when allowed). */
	fuse: boolean;
}

export type OpenOutcome = { ok: true; file: OpenedFile } | { ok: false; reason: string };

function kind(mode: number): string {
	switch (mode & constants.S_IFMT) {
		case constants.S_IFIFO: return 'a FIFO';
		case constants.S_IFCHR: return 'a character device';
		case constants.S_IFBLK: return 'a block device';
		case constants.S_IFSOCK: return 'a socket';
		case constants.S_IFDIR: return 'a directory';
		case constants.S_IFLNK: return 'a symlink';
		default: return `not a regular file (mode ${mode.toString(8)})`;
	}
}

/** Why a file on a refused file system (the contract's list, which the capture skips too) is not opened. */
function refusal(fs: string): string {
	return REFUSED_FS.find((f) => f.name === fs)?.why === 'daemon'
		? `on ${fs}, served by a process that could make open or read hang: not opened`
		: `on ${fs}, a kernel interface with no storage behind it: not opened`;
}

const WHY: Record<string, string> = {
	ENOENT: 'not found in the root',
	ELOOP: 'a symlink on the way (links are not followed: image paths are already resolved)',
	EXDEV: 'the path would leave the root',
	ENOTDIR: 'a path component is not a directory',
	EACCES: 'permission denied',
	ESTALE: 'replaced while it was being opened',
	EAGAIN: 'the root kept changing while the path was resolved',
};

/** Why a failed open refused the file. */
function failure(err: { code: string; syscall: string }): string {
	// O_NONBLOCK makes a read open that conflicts with a lease taken after the look at /proc/locks fail
	// at once; the kernel has already asked the holder to give it up.
	if (err.code === 'EAGAIN' && err.syscall === 'open') return 'another process took a lease on it as it was opened (EAGAIN from open): not opened, but the holder was asked to give the lease up';
	return `${WHY[err.code] ?? 'cannot be opened'} (${err.code} from ${err.syscall})`;
}

/** Why the file at hand is not the captured one, or null when it is. */
function identityMismatch(file: ImageFile, stat: BigIntStats, compareInode: boolean): string | null {
	const want = file.identity;
	if (stat.size !== BigInt(want.size)) return `size changed: captured ${want.size} bytes, now ${stat.size}`;
	// A capture without an mtime (0) proves nothing: only a file whose own mtime is 0 matches it.
	if (stat.mtimeNs !== want.mtimeNs) return `modified since capture (mtime ${want.mtimeNs} ns, now ${stat.mtimeNs} ns)`;
	if (compareInode && want.inode !== 0n && stat.ino !== want.inode) return `a different file (inode ${want.inode}, now ${stat.ino})`;
	return null;
}

/**
 * Opens `file` (an absolute path) inside the root, read-only, when it is a regular file on storage
 * that no other process holds a lease on; never follows a link, never opens anything else. With
 * `allowFuse`, a file on FUSE is opened too (the caller bounds how long it waits).
 */
export async function openRegular(rootFd: number, file: string, resolver = Resolver.Auto, allowFuse = false): Promise<OpenOutcome> {
	let opened;
	try {
		opened = await native().openInRoot(rootFd, file, resolver, allowFuse);
	} catch (err) {
		if (!isSystemError(err)) throw err;
		return { ok: false, reason: failure(err) };
	}
	if (opened.refusedFs !== null) return { ok: false, reason: refusal(opened.refusedFs) };
	if (opened.leased) return { ok: false, reason: 'another process holds a lease on it: not opened (any open would make the kernel ask the holder to give the lease up)' };
	if (opened.fd < 0) return { ok: false, reason: `is ${kind(opened.mode)}, not a regular file` };
	try {
		return { ok: true, file: { fd: opened.fd, stat: await fstatBig(opened.fd), resolver: opened.resolver, fuse: opened.fuse } };
	} catch (err) {
		await closeFd(opened.fd);
		throw err;
	}
}

/** Opens an image's file inside the root (see openRegular) and checks that it is still the file captured. */
export async function openInRoot(rootFd: number, file: ImageFile, compareInode: boolean, resolver = Resolver.Auto, allowFuse = false): Promise<OpenOutcome> {
	const opened = await openRegular(rootFd, file.path, resolver, allowFuse);
	if (!opened.ok) return opened;
	const mismatch = identityMismatch(file, opened.file.stat, compareInode);
	if (mismatch === null) return opened;
	await closeFd(opened.file.fd);
	return { ok: false, reason: mismatch };
}

const fstatBig = promisify((fd: number, cb: (err: NodeJS.ErrnoException | null, st: BigIntStats) => void) => fstat(fd, { bigint: true }, cb));
export const closeFd: (fd: number) => Promise<void> = promisify(close);
const openRaw = promisify(open);

/** Opens the root directory itself: the fd the native resolver starts from. */
export function openRoot(dir: string): Promise<number> {
	return openRaw(dir, constants.O_RDONLY | constants.O_DIRECTORY);
}
