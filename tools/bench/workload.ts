// What the benchmark needs to know of a workload: its data, its program, how its progress is counted
// and, where it is built with one, its hot set.
import type { PageSpan } from './metrics.js';
import type { BenchSettings } from './settings.js';
import type { Measure, Timeline } from './timeline.js';

export type WorkloadId = 'reread' | 'scatter' | 'reread-anon' | 'webtree' | 'sqlite';

/** Where a run's pieces are, as the workload sees them (inside the test root file system). */
export interface RunPaths {
	/** This workload's data on the shared storage (read-only during the run). */
	data: string;
	/** A directory of this run's own, writable, at the same path and the same page cache on both hosts. */
	run: string;
	/** The progress file (workloads/progress.h) in `run`. */
	progress: string;
	/** Where the built workload programs are. */
	bin: string;
}

export interface Workload {
	id: WorkloadId;
	/** Short name for tables and legends. */
	label: string;
	/** What it is judged by: bytes read, or operations (an application's own lookups). */
	measure: Measure;
	/** One line: what it does, with its sizes. */
	describe(s: BenchSettings): string;
	/** Writes the workload's data into `dir` (becomes its data directory on the storage). */
	fill(dir: string, s: BenchSettings): Promise<void>;
	/** Entries of the data directory that a cold host must read again (warm-up, eviction). */
	dataEntries(dataDir: string): string[];
	/** Entries of the progress file's touched map (pages, or files); 0 when the workload keeps none. */
	units(s: BenchSettings): number;
	/** The touched-map entry of a page of a file of the data directory; -1 if untracked. */
	unitOf(dataDir: string, file: string, page: number): number;
	/**
	 * What a perfect prefetch of it reads (the `oracle` variant): its known hot set first, then the rest
	 * it reads now and then; absent for a workload whose hot set is not known page by page (SQLite's
	 * b-tree, the re-reader's whole file).
	 */
	oracle?(dataDir: string, s: BenchSettings): PageSpan[];
	/** Writes what a run needs beside the data into the run's directory (a query script, say). */
	prepareRun?(paths: RunPaths, s: BenchSettings): void;
	/** The POSIX sh command that becomes the workload (`exec ...`), all fds above 2 closed or files. */
	command(paths: RunPaths, s: BenchSettings): string;
	/**
	 * For an application that reports its own progress: its timeline, in seconds since `originMs`
	 * (wall clock), from what it wrote into the run directory. Without it, the progress file is used.
	 */
	ownTimeline?(paths: RunPaths, originMs: number, toS: number): Timeline;
}
