// One prefetch run, shared by the detached prefetcher, `hotcache prefetch` and the migration: merge
// the image's entries that name the same file, open the files inside the root, plan, and run the
// engine (hooks/engine.ts) within the memory budget (shared with other prefetchers) and the caps:
// first everything worth its request, then a second read of the hot pages so they land active, then
// the low-value pages with the capacity the process leaves. Every step is recorded.
import os from 'node:os';
import path from 'node:path';
import { Hotness, type HotcacheImage } from '../proto/image.js';
import { activateHot } from './activate.js';
import { claimBudget, type Claim } from './budget-ledger.js';
import { collapseByPath, mergeEntries } from './collapse.js';
import { CONFIG_KEYS } from '../contract/out/contract.js';
import { type Config } from './config.js';
import { Engine, modelView, type EngineFile } from './engine.js';
import type { RequestResult } from './fetch.js';
import { memoryBudget } from './memory-budget.js';
import { native } from './native.js';
import { openAll } from './open-files.js';
import { closeFd, openRoot, type OpenedFile } from './open-in-root.js';
import { Plan, plannedPages, spannedPages, type PlanOptions } from './plan.js';
import { readaheadCapBytes } from './readahead-cap.js';
import { describe, type PhaseTotals, type Recorder, type Totals } from './record.js';
import { SharedFd, StuckCalls } from './stall-guard.js';

/** The window after each saved fd offset that is fetched before anything else. */
export const RESUME_BYTES = 8 << 20;
const STATUS_INTERVAL_MS = 250;
/** How long, in all, low-value pages wait for the process to leave the link idle. */
const SPARE_WAIT_MS = 5000;
/** fd offsets listed in a file's record event (the count is always there). */
const FD_PAGES_RECORDED = 16;
/** libuv's pool when UV_THREADPOOL_SIZE does not say. */
const DEFAULT_THREADS = 4;

export interface PrefetchRequest {
	image: HotcacheImage;
	/** Where the image came from, for the record. */
	imageLabel: string;
	/** The restored process's root ("/" when it has none of its own), as the record names it. */
	root: string;
	/** The root, already opened (the detached prefetcher's, from the kernel): used instead of opening `root`, and left open. */
	rootFd?: number;
	/** The keys beyond workers, bandwidth and activate default as in loadConfig; without stateDir the memory budget is not shared. */
	config: Pick<Config, 'workers' | 'bandwidth' | 'activate'> & Partial<Pick<Config, 'iops' | 'fuse' | 'stallSeconds' | 'stateDir'>>;
	recorder: Recorder;
	signal: AbortSignal;
	onProgress?(donePages: number, totalPages: number): void;
}

export interface PrefetchSummary extends Totals {
	stopped: string | null;
	filesPlanned: number;
	filesSkipped: number;
	skipped: { path: string; reason: string }[];
	/** Planned pages no request covered: the budget, a stall, or no spare capacity left them out. */
	leftOutPages: number;
	/** Calls still stuck in the kernel (a FUSE daemon that never answered): the process must exit with native().exitNow. */
	stuck: number;
	phases: PhaseTotals[];
}

/** Pages only seen resident are fetched only when the backend could tell nothing better (see plan.ts). */
function fetchesResident(image: HotcacheImage): boolean {
	return image.capture.backend === 'mincore';
}

/** Where concurrent prefetchers share the memory budget. */
export function budgetDir(stateDir: string): string {
	return path.join(stateDir, 'budget');
}

function emptyTotals(): Totals {
	return { pagesAsked: 0, alreadyResident: 0, fetched: 0, missing: 0, bytesRead: 0, seconds: 0, throughput: 0 };
}

function finish(t: Totals, t0: number, pageSize: number): Totals {
	const seconds = (performance.now() - t0) / 1000;
	return { ...t, seconds, throughput: seconds > 0 ? (t.fetched * pageSize) / seconds : 0 };
}

function threadPool(): number {
	const n = Number(process.env.UV_THREADPOOL_SIZE);
	return Number.isInteger(n) && n > 0 ? n : DEFAULT_THREADS;
}

export async function runPrefetch(req: PrefetchRequest): Promise<PrefetchSummary> {
	const { image, recorder } = req;
	// The contract's defaults for the keys a caller left out (HOTCACHE_STALL_TIMEOUT's is in seconds there).
	const defaults = { iops: Number(CONFIG_KEYS.HOTCACHE_IOPS.default), fuse: CONFIG_KEYS.HOTCACHE_FUSE.default === true, stallSeconds: Number(CONFIG_KEYS.HOTCACHE_STALL_TIMEOUT.default) };
	const config: FullConfig = { ...defaults, ...req.config };
	const pageSize = native().pageSize();
	const stallMs = config.stallSeconds * 1000;
	recorder.event({ kind: 'start', pid: process.pid, image: req.imageLabel, root: req.root, workers: config.workers, bandwidth: config.bandwidth, iops: config.iops, activate: config.activate, fuse: config.fuse, stallSeconds: config.stallSeconds, pageSize });
	const skipped: PrefetchSummary['skipped'] = [];
	const nothing = (reason: string): PrefetchSummary => {
		recorder.event({ kind: 'refused', reason });
		recorder.status(`hotcache: nothing prefetched: ${reason}`);
		return { ...emptyTotals(), stopped: reason, filesPlanned: 0, filesSkipped: image.files.length, skipped, leftOutPages: 0, stuck: 0, phases: [] };
	};
	if (image.capture.pageSize !== pageSize) return nothing(`captured with ${image.capture.pageSize}-byte pages, this host has ${pageSize}`);

	const collapsed = collapseByPath(image.files);
	if (collapsed.files.length < image.files.length) recorder.event({ kind: 'collapsed', entries: image.files.length, files: collapsed.files.length, conflicts: collapsed.conflicts.length });
	const skip = (p: string, reason: string): void => {
		skipped.push({ path: p, reason });
		recorder.event({ kind: 'skip', path: p, reason });
	};
	for (const c of collapsed.conflicts) skip(c.path, c.reason);

	const stuck = new StuckCalls();
	const threads = threadPool();
	const root = req.rootFd !== undefined ? { done: true as const, value: req.rootFd } : await stuck.within(openRoot(req.root), stallMs, req.signal);
	if (!root.done) return { ...nothing(req.signal.aborted ? 'stopped before the root was opened' : `the root ${req.root} did not open within ${config.stallSeconds} s`), stuck: stuck.stuck };
	const rootFd = new SharedFd(root.value, req.rootFd !== undefined ? async () => {} : closeFd);
	// A file with nothing to fetch is never opened (an open can have effects: a lease broken).
	const includeResident = fetchesResident(image);
	const wanted = collapsed.files.map((f) => f.ranges.some((r) => includeResident || r.hotness !== Hotness.Resident));
	let outcomes;
	try {
		outcomes = await openAll(rootFd, collapsed.files, wanted, {
			// Inode numbers only mean the same file on the same host (or the same shared file system).
			compareInode: image.capture.host === os.hostname(),
			allowFuse: config.fuse,
			threads,
			stallMs,
			stuck,
			signal: req.signal,
			onStall: (i) => recorder.event({ kind: 'stall', file: null, path: collapsed.files[i]!.path, op: 'open', seconds: config.stallSeconds }),
		});
	} finally {
		void rootFd.release();
	}

	// Two paths may still name one file (a hard link, an in-root symlink): one entry per inode.
	const byInode = new Map<string, { opened: OpenedFile; indexes: number[] }>();
	collapsed.files.forEach((file, i) => {
		const outcome = outcomes[i];
		if (!outcome) return; // stopped before it was opened
		if (!outcome.ok) return skip(file.path, outcome.reason);
		const key = `${outcome.file.stat.dev}:${outcome.file.stat.ino}`;
		const seen = byInode.get(key);
		if (seen) {
			seen.indexes.push(i);
			void closeFd(outcome.file.fd);
		} else byInode.set(key, { opened: outcome.file, indexes: [i] });
	});
	const files: EngineFile[] = [...byInode.values()].map(({ opened, indexes }, file) => {
		const merged = mergeEntries(indexes.map((i) => collapsed.files[i]!));
		const capBytes = readaheadCapBytes(opened.stat.dev, pageSize);
		const fdPages = [...new Set(merged.fds.map((o) => Math.floor(o.offset / pageSize)))];
		recorder.event({ kind: 'file', file, path: merged.path, resolver: opened.resolver, capBytes, fds: fdPages.length, fdPages: fdPages.slice(0, FD_PAGES_RECORDED), ...(opened.fuse ? { fuse: true } : {}) });
		return { handle: new SharedFd(opened.fd, closeFd), path: merged.path, sizePages: Math.ceil(Number(opened.stat.size) / pageSize), plan: { ranges: merged.ranges, fdPages, capPages: capBytes / pageSize, mapped: merged.mapped } };
	});
	try {
		return await fetchAll(req, config, files, skipped, { pageSize, stallMs, stuck, threads });
	} finally {
		await Promise.all(files.map((f) => f.handle.release()));
	}
}

type FullConfig = PrefetchRequest['config'] & Pick<Config, 'iops' | 'fuse' | 'stallSeconds'>;

interface Run {
	pageSize: number;
	stallMs: number;
	stuck: StuckCalls;
	threads: number;
}

async function fetchAll(req: PrefetchRequest, config: FullConfig, files: EngineFile[], skipped: PrefetchSummary['skipped'], run: Run): Promise<PrefetchSummary> {
	const { recorder, image } = req;
	const { pageSize } = run;
	const filesSkipped = skipped.length;
	const planOptions: PlanOptions = { resumePages: RESUME_BYTES / pageSize, includeResident: fetchesResident(image) };
	const planFiles = files.map((f) => f.plan);
	const planned = plannedPages(planFiles, planOptions);
	const measured = memoryBudget();
	let claim: Claim | null = null;
	if (config.stateDir) {
		try {
			claim = claimBudget(budgetDir(config.stateDir), measured.bytes, spannedPages(planFiles) * pageSize);
		} catch (err) {
			recorder.event({ kind: 'skip', path: budgetDir(config.stateDir), reason: `the memory budget is not shared with other prefetchers: ${(err as Error).message}` });
		}
	}
	const budgetBytes = claim?.bytes ?? measured.bytes;
	recorder.event({ kind: 'budget', budgetBytes, memAvailable: measured.memAvailable, cgroupHeadroom: measured.cgroupHeadroom, otherPrefetchers: claim?.others ?? 0, otherBytes: claim?.otherBytes ?? 0, plannedPages: planned });

	const totals = emptyTotals();
	const t0 = performance.now();
	let lastStatus = 0;
	let covered = 0;
	const status = (state: string): void => recorder.status(describe(finish(totals, t0, pageSize), files.length, filesSkipped, state));
	status('in progress');
	const onRequest = (seq: number, r: RequestResult): void => {
		const c = r.req;
		totals.pagesAsked += c.count;
		covered += c.hot + c.warm + c.resident;
		totals.alreadyResident += Math.min(r.resident, c.count);
		totals.fetched += r.fetched;
		totals.missing += Math.max(0, c.count - r.resident - r.fetched);
		totals.bytesRead += r.bytesRead;
		recorder.event({ kind: 'chunk', seq, file: c.file, start: c.start, count: c.count, phase: c.phase, resident: r.resident, fetched: r.fetched, ...(r.readahead > 0 ? { readahead: r.readahead } : {}), ms: Math.round((r.doneMs - r.sentMs) * 1000) / 1000, ...(r.error ? { error: r.error } : {}), ...(r.stalled ? { error: 'stalled' } : {}) });
		req.onProgress?.(covered, planned);
		const now = performance.now();
		if (now - lastStatus >= STATUS_INTERVAL_MS) {
			lastStatus = now;
			status('in progress');
		}
	};
	const engine = new Engine(new Plan(planFiles, planOptions), files, {
		workers: config.workers,
		threads: run.threads,
		pageSize,
		stallMs: run.stallMs,
		signal: req.signal,
		budgetPages: Math.floor(budgetBytes / pageSize),
		bandwidth: config.bandwidth,
		iops: config.iops,
		spareWaitMs: SPARE_WAIT_MS,
		stuck: run.stuck,
		events: {
			request: onRequest,
			model: (view) => recorder.event({ kind: 'model', ...view }),
			reading: (reading, pagesPerSecond) => recorder.event({ kind: 'reading', reading, pagesPerSecond }),
			stall: (file, seconds) => recorder.event({ kind: 'stall', file, path: files[file]!.path, op: 'read', seconds }),
		},
	});
	try {
		await engine.start();
		await engine.run(false);
		if (config.activate && !req.signal.aborted && engine.hotDone.length > 0) {
			const ta = performance.now();
			const pages = await activateHot(engine.hotDone, files, { workers: config.workers, pageSize, stallMs: run.stallMs, stuck: run.stuck, signal: req.signal });
			recorder.event({ kind: 'activate', pages, ms: Math.round(performance.now() - ta) });
		}
		await engine.run(true);
	} finally {
		claim?.release();
		await engine.close();
	}

	const phases = engine.phaseTotals();
	for (const p of phases) recorder.event({ kind: 'phase', ...p });
	recorder.event({ kind: 'model', ...modelView(engine.model.estimate()) });
	const stopped = req.signal.aborted ? String(req.signal.reason ?? 'aborted') : null;
	const leftOutPages = Math.max(0, planned - covered);
	const summary = { ...finish(totals, t0, pageSize), stopped, filesPlanned: files.length, filesSkipped, leftOutPages, stuck: run.stuck.stuck, dropped: recorder.droppedEvents };
	recorder.event({ kind: 'summary', ...summary, ...(engine.stopped && engine.stopped !== 'aborted' ? { endedBy: engine.stopped } : {}) });
	status(stopped ? `stopped (${stopped})` : 'done');
	return { ...summary, skipped, phases };
}
