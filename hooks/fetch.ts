// The workers: each takes the next chunk in plan order, skips it when already resident, otherwise
// asks the kernel to read it (WILLNEED: one large asynchronous request, at most the readahead cap)
// and then preads it into a scratch buffer, so that the chunk is certainly in the cache when the
// worker moves on (and, as a side effect, its pages are marked accessed once).
import { read } from 'node:fs';
import { promisify } from 'node:util';
import type { Chunk } from './plan.js';
import { native } from './native.js';
import { residentPages } from './residency.js';
import type { TokenBucket } from './token-bucket.js';

const preadAsync = promisify(read);

export interface FetchFile {
	fd: number;
	path: string;
}

export interface ChunkResult {
	seq: number;
	chunk: Chunk;
	resident: number;
	fetched: number;
	bytesRead: number;
	ms: number;
	error?: string;
}

export interface FetchOptions {
	workers: number;
	pageSize: number;
	bucket: TokenBucket | null;
	signal: AbortSignal;
	/** Numbers the chunks in dispatch order across calls. */
	firstSeq: number;
	onChunk(result: ChunkResult): void;
}

/** Reads [offset, offset+length) fully (or to end of file); returns the bytes read. */
async function preadFull(fd: number, scratch: Buffer, offset: number, length: number): Promise<number> {
	let got = 0;
	while (got < length) {
		const { bytesRead: n } = await preadAsync(fd, scratch, 0, Math.min(scratch.length, length - got), offset + got);
		if (n === 0) break;
		got += n;
	}
	return got;
}

/** Each worker's buffer: a chunk is pread in pieces of this size (the WILLNEED already asked for all of it). */
const SCRATCH_BYTES = 1 << 20;

/** Runs `job` on every chunk with `workers` in flight, in plan order; stops taking new ones on abort. */
async function pool(chunks: readonly Chunk[], options: FetchOptions, job: (chunk: Chunk, scratch: Buffer) => Promise<void>): Promise<void> {
	let next = 0;
	const worker = async (): Promise<void> => {
		const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
		while (!options.signal.aborted && next < chunks.length) await job(chunks[next++]!, scratch);
	};
	await Promise.all(Array.from({ length: Math.min(options.workers, chunks.length) }, worker));
}

export async function fetchChunks(files: readonly FetchFile[], chunks: readonly Chunk[], options: FetchOptions): Promise<void> {
	const { pageSize } = options;
	let seq = options.firstSeq;
	await pool(chunks, options, async (chunk, scratch) => {
		const mySeq = seq++;
		const fd = files[chunk.file]!.fd;
		const offset = chunk.start * pageSize;
		const length = chunk.count * pageSize;
		const t0 = performance.now();
		const result: ChunkResult = { seq: mySeq, chunk, resident: 0, fetched: 0, bytesRead: 0, ms: 0 };
		try {
			result.resident = await residentPages(fd, offset, length);
			const missing = chunk.count - result.resident;
			if (missing > 0) await options.bucket?.take(missing * pageSize, options.signal);
			if (missing > 0 && !options.signal.aborted) {
				await native().fadvise(fd, offset, length, native().advice.WILLNEED);
				result.bytesRead = await preadFull(fd, scratch, offset, length);
				result.fetched = Math.max(0, (await residentPages(fd, offset, length)) - result.resident);
			}
		} catch (err) {
			result.error = (err as Error).message;
		}
		result.ms = performance.now() - t0;
		options.onChunk(result);
	});
}

/**
 * The second, non-successive read of the hot chunks: on the classic LRU a page read a second time
 * (not as a continuation of the previous read on the same open file) moves to the active list, so the
 * prefetched hot set is not the first thing reclaimed. On MGLRU it raises the pages' access tier.
 * Returns the pages read.
 */
export async function activate(files: readonly FetchFile[], chunks: readonly Chunk[], options: Omit<FetchOptions, 'onChunk' | 'firstSeq' | 'bucket'>): Promise<number> {
	let pages = 0;
	const opts = { ...options, bucket: null, firstSeq: 0, onChunk: () => {} };
	await pool(chunks, opts, async (chunk, scratch) => {
		try {
			await preadFull(files[chunk.file]!.fd, scratch, chunk.start * options.pageSize, chunk.count * options.pageSize);
			pages += chunk.count;
		} catch {
			// A chunk that cannot be re-read stays as the first pass left it; its error was recorded then.
		}
	});
	return pages;
}
