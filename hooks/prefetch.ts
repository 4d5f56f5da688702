// One prefetch run, shared by the detached prefetcher and `hotcache prefetch`: open the image's files
// inside the root, plan, fetch hot pages (then re-read them so they land active), then warm ones,
// within the memory budget and the bandwidth cap, recording every step.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { Hotness, type HotcacheImage, type ImageFile } from '../proto/image.js';
import { type Config } from './config.js';
import { activate, fetchChunks, type ChunkResult, type FetchFile } from './fetch.js';
import { LookupBudget } from './lookup-budget.js';
import { memoryBudget } from './memory-budget.js';
import { native } from './native.js';
import { closeFd, openInRoot, openRoot, type OpenOutcome } from './open-in-root.js';
import { chunkStream, pagesIn, plannedPages, truncateToBudget, type PlanFile } from './plan.js';
import { readaheadCapBytes } from './readahead-cap.js';
import { describe, type Recorder, type Totals } from './record.js';
import { TokenBucket } from './token-bucket.js';

/** Hot pages right after each saved fd offset that are fetched before anything else. */
export const RESUME_BYTES = 8 << 20;
const STATUS_INTERVAL_MS = 250;
/** Files being opened at once. */
const OPENS_IN_FLIGHT = 16;
/** fds left free under RLIMIT_NOFILE: opens in flight, the record and status files, Node's own. */
const FD_RESERVE = 128;

export interface PrefetchRequest {
	image: HotcacheImage;
	/** Where the image came from, for the record. */
	imageLabel: string;
	/** The restored process's root ("/" when it has none of its own), as the record names it. */
	root: string;
	/** The root, already opened (the detached prefetcher's, from the kernel): used instead of opening `root`. */
	rootFd?: number;
	config: Pick<Config, 'workers' | 'bandwidth' | 'activate'>;
	recorder: Recorder;
	signal: AbortSignal;
	onProgress?(donePages: number, totalPages: number): void;
}

export interface PrefetchSummary extends Totals {
	stopped: string | null;
	filesPlanned: number;
	filesSkipped: number;
	skipped: { path: string; reason: string }[];
}

export async function runPrefetch(req: PrefetchRequest): Promise<PrefetchSummary> {
	const { image, recorder, config } = req;
	const pageSize = native().pageSize();
	recorder.event({ kind: 'start', pid: process.pid, image: req.imageLabel, root: req.root, workers: config.workers, bandwidth: config.bandwidth, activate: config.activate, pageSize });
	if (image.capture.pageSize !== pageSize) {
		const reason = `captured with ${image.capture.pageSize}-byte pages, this host has ${pageSize}`;
		recorder.event({ kind: 'refused', reason });
		recorder.status(`hotcache: nothing prefetched: ${reason}`);
		return { ...emptyTotals(), stopped: reason, filesPlanned: 0, filesSkipped: image.files.length, skipped: [] };
	}

	// Inode numbers only mean the same file on the same host (or the same shared file system).
	const compareInode = image.capture.host === os.hostname();
	const files: FetchFile[] = [];
	const planFiles: PlanFile[] = [];
	const skipped: PrefetchSummary['skipped'] = [];
	const rootFd = req.rootFd ?? (await openRoot(req.root));
	let outcomes: (OpenOutcome | null)[];
	try {
		// A file with nothing to fetch is never opened (an open can have effects: a lease broken).
		const resident = fetchesResident(image);
		const wanted = image.files.map((f) => f.ranges.some((r) => resident || r.hotness !== Hotness.Resident));
		outcomes = await openAll(rootFd, image.files, wanted, compareInode, req.signal);
	} finally {
		if (req.rootFd === undefined) await closeFd(rootFd);
	}
	try {
		image.files.forEach((file, i) => {
			const outcome = outcomes[i];
			if (!outcome) return; // stopped before it was opened
			if (!outcome.ok) {
				skipped.push({ path: file.path, reason: outcome.reason });
				recorder.event({ kind: 'skip', path: file.path, reason: outcome.reason });
				return;
			}
			const capBytes = readaheadCapBytes(outcome.file.stat.dev, pageSize);
			const fdPages = file.fds.map((o) => Math.floor(o.offset / pageSize));
			files.push({ fd: outcome.file.fd, path: file.path });
			planFiles.push({ ranges: file.ranges, fdPages, capPages: capBytes / pageSize });
			recorder.event({ kind: 'file', path: file.path, resolver: outcome.file.resolver, capBytes, fdPages });
		});
		return await fetchPlan(req, files, planFiles, pageSize, skipped);
	} finally {
		await Promise.all(outcomes.map((o) => (o?.ok ? closeFd(o.file.fd) : undefined)));
	}
}

/**
 * Opens the image's files, OPENS_IN_FLIGHT at a time (on network storage each open is a round trip),
 * each with POSIX_FADV_RANDOM: our own preads then bring exactly the chunk, the WILLNEED before each
 * one being the readahead. Outcomes in image order; null for files not reached before an abort.
 * On an unexpected error every fd opened so far is closed.
 */
async function openAll(rootFd: number, images: readonly ImageFile[], wanted: readonly boolean[], compareInode: boolean, signal: AbortSignal): Promise<(OpenOutcome | null)[]> {
	const outcomes: (OpenOutcome | null)[] = images.map(() => null);
	const lookups = new LookupBudget();
	// Every fd stays open until the end of the run: the files beyond the limit are skipped, so the
	// record, the status file and Node itself still get fds.
	const budget = openFileBudget();
	const overBudget: OpenOutcome = { ok: false, reason: `not opened: ${budget} files already held open, as many as the open-file limit (RLIMIT_NOFILE) leaves room for` };
	let slots = budget;
	let next = 0;
	let failed = false;
	const worker = async (): Promise<void> => {
		while (!signal.aborted && !failed && next < images.length) {
			const i = next++;
			if (!wanted[i]) continue;
			if (slots <= 0) {
				outcomes[i] = overBudget;
				continue;
			}
			const refusal = lookups.admit(images[i]!.path);
			if (refusal !== null) {
				outcomes[i] = { ok: false, reason: refusal };
				continue;
			}
			slots--;
			try {
				const outcome = await openInRoot(rootFd, images[i]!, compareInode);
				outcomes[i] = outcome;
				if (outcome.ok) await native().fadvise(outcome.file.fd, 0, 0, native().advice.RANDOM);
				else slots++;
			} catch (err) {
				failed = true;
				throw err;
			}
		}
	};
	const results = await Promise.allSettled(Array.from({ length: Math.min(OPENS_IN_FLIGHT, images.length) }, worker));
	const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
	if (failure) {
		await Promise.all(outcomes.map((o) => (o?.ok ? closeFd(o.file.fd) : undefined)));
		throw failure.reason;
	}
	return outcomes;
}

async function fetchPlan(req: PrefetchRequest, files: FetchFile[], planFiles: PlanFile[], pageSize: number, skipped: PrefetchSummary['skipped']): Promise<PrefetchSummary> {
	const filesSkipped = skipped.length;
	const { recorder, config, image } = req;
	const planOptions = { resumePages: RESUME_BYTES / pageSize, includeResident: fetchesResident(image) };
	const budget = memoryBudget();
	const { chunks, leftOutPages } = truncateToBudget(chunkStream(planFiles, planOptions), Math.floor(budget.bytes / pageSize), plannedPages(planFiles, planOptions));
	recorder.event({ kind: 'budget', budgetBytes: budget.bytes, memAvailable: budget.memAvailable, cgroupHeadroom: budget.cgroupHeadroom, pagesPlanned: pagesIn(chunks), leftOutPages });

	const totals = emptyTotals();
	totals.pagesAsked = pagesIn(chunks);
	const t0 = performance.now();
	recorder.status(describe(totals, planFiles.length, filesSkipped, 'in progress'));
	let lastStatus = 0;
	let done = 0;
	const onChunk = (r: ChunkResult): void => {
		totals.alreadyResident += Math.min(r.resident, r.chunk.count);
		totals.fetched += r.fetched;
		totals.missing += Math.max(0, r.chunk.count - r.resident - r.fetched);
		totals.bytesRead += r.bytesRead;
		done += r.chunk.count;
		const c = r.chunk;
		recorder.event({ kind: 'chunk', seq: r.seq, path: files[c.file]!.path, start: c.start, count: c.count, phase: c.phase, resident: r.resident, fetched: r.fetched, ms: Math.round(r.ms * 1000) / 1000, ...(r.error ? { error: r.error } : {}) });
		req.onProgress?.(done, totals.pagesAsked);
		const now = performance.now();
		if (now - lastStatus >= STATUS_INTERVAL_MS) {
			lastStatus = now;
			recorder.status(describe(finish(totals, t0, pageSize), planFiles.length, filesSkipped, 'in progress'));
		}
	};

	const options = {
		workers: config.workers,
		pageSize,
		bucket: config.bandwidth > 0 ? new TokenBucket(config.bandwidth) : null,
		signal: req.signal,
	};
	const hotEnd = chunks.findIndex((c) => c.phase !== 'resume' && c.phase !== 'hot');
	const hot = hotEnd < 0 ? chunks : chunks.slice(0, hotEnd);
	const rest = hotEnd < 0 ? [] : chunks.slice(hotEnd);
	await fetchChunks(files, hot, { ...options, firstSeq: 0, onChunk });
	if (config.activate && !req.signal.aborted && hot.length > 0) {
		const ta = performance.now();
		const pages = await activate(files, hot, options);
		recorder.event({ kind: 'activate', pages, ms: Math.round(performance.now() - ta) });
	}
	await fetchChunks(files, rest, { ...options, firstSeq: hot.length, onChunk });

	const stopped = req.signal.aborted ? String(req.signal.reason ?? 'aborted') : null;
	const summary = { ...finish(totals, t0, pageSize), stopped, filesPlanned: planFiles.length, filesSkipped };
	recorder.event({ kind: 'summary', ...summary });
	recorder.status(describe(summary, planFiles.length, filesSkipped, stopped ? `stopped (${stopped})` : 'done'));
	return { ...summary, skipped };
}

/** Pages only seen resident are fetched only when the backend could tell nothing better (see plan.ts). */
function fetchesResident(image: HotcacheImage): boolean {
	return image.capture.backend === 'mincore';
}

/** How many more fds the run may hold: the soft RLIMIT_NOFILE minus the fds in use and FD_RESERVE. */
function openFileBudget(): number {
	try {
		const limit = Number(/^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
		if (!Number.isSafeInteger(limit)) return Infinity; // "unlimited"
		return Math.max(0, limit - readdirSync('/proc/self/fd').length - FD_RESERVE);
	} catch {
		return Infinity;
	}
}

function emptyTotals(): Totals {
	return { pagesAsked: 0, alreadyResident: 0, fetched: 0, missing: 0, bytesRead: 0, seconds: 0, throughput: 0 };
}

function finish(t: Totals, t0: number, pageSize: number): Totals {
	const seconds = (performance.now() - t0) / 1000;
	return { ...t, seconds, throughput: seconds > 0 ? (t.fetched * pageSize) / seconds : 0 };
}
