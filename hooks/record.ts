// What the prefetcher did, as JSON lines: in the restore's state directory and, when the operator
// asks (HOTCACHE_RECORD / --record), in a second file. Written synchronously so that a SIGTERM or a
// crash leaves every event up to that point on disk. One-line status for CRIU's log beside it.
// Bounded: a file's path is written once (its `file` event gives it an index that the requests
// name), and past a size cap the per-file and per-request events are dropped and counted; the few
// events that say how the run went (start, budget, phases, stalls, summary) are always written.
import { closeSync, constants, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Phase } from './plan.js';
import { printable } from './printable.js';

export interface Totals {
	pagesAsked: number;
	alreadyResident: number;
	fetched: number;
	/** Pages asked that were still not resident after their chunk: evicted again, or I/O errors. */
	missing: number;
	bytesRead: number;
	seconds: number;
	/** Bytes made resident per second. */
	throughput: number;
}

/** What the cost model knew at some point (see cost-model.ts). */
export interface ModelView {
	depth: number;
	/** Bytes per second. */
	bandwidth: number;
	requestCostMs: number;
	latencyMs: number | null;
	probing: boolean;
}

export interface PhaseTotals {
	phase: Phase;
	requests: number;
	/** Pages the requests covered (gaps read through included). */
	pages: number;
	/** Pages they brought from storage. */
	fetched: number;
	bytes: number;
	/** From the phase's first request to its last completion. */
	seconds: number;
	/** Bytes brought per second over that time. */
	rate: number;
}

export type RecordEvent =
	| { kind: 'start'; pid: number; image: string; root: string; workers: number; bandwidth: number; iops: number; activate: boolean; fuse: boolean; stallSeconds: number; pageSize: number }
	| { kind: 'refused'; reason: string }
	| { kind: 'root'; pid: number; path: string; ours: boolean; waitedMs: number }
	| { kind: 'collapsed'; entries: number; files: number; conflicts: number }
	| { kind: 'skip'; path: string; reason: string }
	| { kind: 'file'; file: number; path: string; resolver: string; capBytes: number; fds: number; fdPages: number[]; fuse?: boolean }
	| { kind: 'budget'; budgetBytes: number; memAvailable: number | null; cgroupHeadroom: number | null; otherPrefetchers: number; otherBytes: number; plannedPages: number }
	| { kind: 'chunk'; seq: number; file: number; start: number; count: number; phase: Phase; resident: number; fetched: number; readahead?: number; ms: number; error?: string }
	| ({ kind: 'model' } & ModelView)
	| { kind: 'reading'; reading: boolean; pagesPerSecond: number }
	| { kind: 'stall'; file: number | null; path: string; op: 'open' | 'read'; seconds: number }
	| { kind: 'activate'; pages: number; ms: number }
	| ({ kind: 'phase' } & PhaseTotals)
	| { kind: 'truncated'; capBytes: number }
	| ({ kind: 'summary'; stopped: string | null; endedBy?: string; filesPlanned: number; filesSkipped: number; leftOutPages: number; stuck: number; dropped: number } & Totals);

/** Events written whatever the cap: a bounded number per run. */
const ALWAYS: ReadonlySet<RecordEvent['kind']> = new Set(['start', 'refused', 'root', 'collapsed', 'budget', 'model', 'stall', 'activate', 'phase', 'truncated', 'summary']);

export class Recorder {
	private readonly fds: number[];
	private written = 0;
	private dropped = 0;

	constructor(
		files: string[],
		private readonly statusFile: string | null,
		private readonly maxBytes: number = Infinity,
	) {
		this.fds = files.map((f) => openSync(f, APPEND, 0o600));
	}

	event(e: RecordEvent): void {
		const line = JSON.stringify({ t: new Date().toISOString(), ...e }) + '\n';
		if (this.written + line.length > this.maxBytes && !ALWAYS.has(e.kind)) {
			if (this.dropped++ === 0) this.event({ kind: 'truncated', capBytes: this.maxBytes });
			return;
		}
		this.written += line.length;
		for (const fd of this.fds) writeSync(fd, line);
	}

	/** Events left out past the cap. */
	get droppedEvents(): number {
		return this.dropped;
	}

	status(text: string): void {
		if (this.statusFile) writeStatus(this.statusFile, text);
	}

	close(): void {
		for (const fd of this.fds) closeSync(fd);
	}
}

/**
 * The file each `chunk` of a record names: a run's `file` events give its files their indexes, and a
 * record may hold several runs (each starts with `start` and numbers its files from 0). Feed it the
 * events in order; it returns a chunk's path (undefined for other events).
 */
export class ChunkPaths {
	private readonly paths = new Map<number, string>();

	see(e: { kind?: unknown; file?: unknown; path?: unknown }): string | undefined {
		if (e.kind === 'start') this.paths.clear();
		else if (e.kind === 'file' && typeof e.file === 'number' && typeof e.path === 'string') this.paths.set(e.file, e.path);
		else if (e.kind === 'chunk' && typeof e.file === 'number') return this.paths.get(e.file);
		return undefined;
	}
}

// Root writes in the state directory: never through a symlink, never into a file someone else made.
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;

/** Creates `file` with `text`; fails if anything (a symlink included) is already there. */
export function createExclusive(file: string, text: string): void {
	const fd = openSync(file, NEW_FILE, 0o600);
	try {
		writeSync(fd, text);
	} finally {
		closeSync(fd);
	}
}

/**
 * Replaces the one-line status atomically: post-resume may read it at any moment, and prints it into
 * CRIU's log (escaped: a reason may quote the image).
 */
export function writeStatus(file: string, text: string): void {
	const tmp = `${file}.${process.pid}.tmp`;
	rmSync(tmp, { force: true }); // a leftover of this pid's predecessor; unlinking a symlink follows nothing
	createExclusive(tmp, printable(text) + '\n');
	renameSync(tmp, file);
}

const MB = 1e6;

/** `state`: "done", "in progress" or "stopped (why)". */
export function describe(t: Totals, filesPlanned: number, filesSkipped: number, state: string): string {
	return (
		`hotcache: prefetch ${state}: ${t.fetched} pages fetched, ${t.alreadyResident} already resident, ` +
		`${t.missing} not resident of ${t.pagesAsked} asked; ${(t.bytesRead / MB).toFixed(1)} MB read in ${t.seconds.toFixed(2)} s ` +
		`(${(t.throughput / MB).toFixed(1)} MB/s); ${filesPlanned} files, ${filesSkipped} skipped`
	);
}
