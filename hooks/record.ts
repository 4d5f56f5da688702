// What the prefetcher did, as JSON lines: in the restore's state directory and, when the operator
// asks (HOTCACHE_RECORD / --record), in a second file. Written synchronously so that a SIGTERM or a
// crash leaves every event up to that point on disk. One-line status for CRIU's log beside it.
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

export type RecordEvent =
	| { kind: 'start'; pid: number; image: string; root: string; workers: number; bandwidth: number; activate: boolean; pageSize: number }
	| { kind: 'refused'; reason: string }
	| { kind: 'root'; pid: number; path: string; ours: boolean; waitedMs: number }
	| { kind: 'skip'; path: string; reason: string }
	| { kind: 'file'; path: string; resolver: string; capBytes: number; fdPages: number[] }
	| { kind: 'budget'; budgetBytes: number; memAvailable: number | null; cgroupHeadroom: number | null; pagesPlanned: number; leftOutPages: number }
	| { kind: 'chunk'; seq: number; path: string; start: number; count: number; phase: Phase; resident: number; fetched: number; ms: number; error?: string }
	| { kind: 'activate'; pages: number; ms: number }
	| ({ kind: 'summary'; stopped: string | null; filesPlanned: number; filesSkipped: number } & Totals);

export class Recorder {
	private readonly fds: number[];

	constructor(
		files: string[],
		private readonly statusFile: string | null,
	) {
		this.fds = files.map((f) => openSync(f, APPEND, 0o600));
	}

	event(e: RecordEvent): void {
		const line = JSON.stringify({ t: new Date().toISOString(), ...e }) + '\n';
		for (const fd of this.fds) writeSync(fd, line);
	}

	status(text: string): void {
		if (this.statusFile) writeStatus(this.statusFile, text);
	}

	close(): void {
		for (const fd of this.fds) closeSync(fd);
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
