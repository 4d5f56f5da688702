// The typed face of the native addon (build/Release/hotcache_native.node, sources in hooks/native/).
// Every call runs on libuv's pool and rejects with an Error carrying code/errno/syscall like Node's fs.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PATHS } from '../contract/out/contract.js';

export interface Cachestat {
	cache: number;
	dirty: number;
	writeback: number;
	evicted: number;
	recentlyEvicted: number;
}

export interface OpenedInRoot {
	/** -1 when the path is not a regular file, is on a refused file system or is leased: it was resolved but never opened. */
	fd: number;
	/** st_mode of what the path names. */
	mode: number;
	resolver: 'openat2' | 'walk';
	/** The file system ("proc", "sysfs", "fuse", ...) when it has no storage-backed page cache to fill: refused. */
	refusedFs: string | null;
	/** Another process holds a lease on it that opening it would break: refused. */
	leased: boolean;
	/** On FUSE (virtiofs included): its daemon answers the open and every read. */
	fuse: boolean;
}

export enum Resolver {
	Auto = 0,
	Openat2 = 1,
	Walk = 2,
}

export interface NativeAddon {
	pageSize(): number;
	advice: { NORMAL: number; RANDOM: number; SEQUENTIAL: number; WILLNEED: number; DONTNEED: number; NOREUSE: number };
	fadvise(fd: number, offset: number, length: number, advice: number): Promise<void>;
	readahead(fd: number, offset: number, length: number): Promise<void>;
	/** One 0/1 per page; offset page-aligned, length at most 1 GiB. */
	mincore(fd: number, offset: number, length: number): Promise<Uint8Array>;
	/** Counts in pages; length 0 = to the end of the file. Rejects with ENOSYS before Linux 6.5. */
	cachestat(fd: number, offset: number, length: number): Promise<Cachestat>;
	/** `allowFuse`: a file on FUSE is opened (the caller bounds the wait); otherwise it is refused unopened. */
	openInRoot(rootFd: number, path: string, resolver: Resolver, allowFuse?: boolean): Promise<OpenedInRoot>;
	/**
	 * Counts the range's resident pages; unless all are, WILLNEED for the range, waits until all of it
	 * is resident (spliced to /dev/null: no copy; pages are marked accessed as by a read), and counts
	 * again. Offset page-aligned. `bytes`: read through (0 when all was resident). `again`: read the range
	 * even when all of it is resident (a second read marks its pages accessed again). `sequential`:
	 * read it through `seqFd` (reopen), or a new open file of it, in normal readahead mode instead (large folios). `beyond`:
	 * the pages that became resident in the `span` bytes after the range during the call (readahead).
	 */
	fetch(fd: number, offset: number, length: number, again?: boolean, span?: number, sequential?: boolean, seqFd?: number): Promise<{ before: number; after: number; bytes: number; beyond: number }>;
	/** A new fd of the same regular file (checked), read-only, in normal readahead mode: `seqFd` for sequential fetches, which then share its readahead state. */
	reopen(fd: number): Promise<number>;
	/** _exit(2): ends the process now, without joining libuv's threads (one may be stuck in the kernel). */
	exitNow(code: number): never;
}

/** An error thrown by the addon or by node:fs. */
export interface SystemError extends Error {
	code: string;
	errno: number;
	syscall: string;
}

export function isSystemError(err: unknown): err is SystemError {
	return err instanceof Error && typeof (err as Partial<SystemError>).code === 'string';
}

let addon: NativeAddon | undefined;

/** Loads the addon once; throws a clear error when it is not built. */
export function native(): NativeAddon {
	if (!addon) {
		const require = createRequire(import.meta.url);
		// This module is dist/hooks/native.js: the project's top is two levels up.
		const file = fileURLToPath(new URL(`../../${PATHS.built.addon}`, import.meta.url));
		try {
			addon = require(file) as NativeAddon;
		} catch (err) {
			throw new Error(`native addon ${file} does not load (run \`npm ci\`): ${(err as Error).message}`);
		}
	}
	return addon;
}
