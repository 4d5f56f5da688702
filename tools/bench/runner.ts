// What runs one benchmark run, whatever moves the process: the same-host stand-in (same-host.ts) now,
// `hotcache migrate` between the two emulated hosts (hosts-interface.ts) once it exists.
import type { BenchSettings } from './settings.js';
import type { Timeline } from './timeline.js';
import type { VariantId } from './variants.js';
import type { Workload, WorkloadId } from './workload.js';
import type { PageSpan } from './metrics.js';

export interface RunSpec {
	workload: Workload;
	variant: VariantId;
	/** 0-based run number of this workload and variant. */
	index: number;
	settings: BenchSettings;
}

/** What one run observed. Times are seconds since the workload started. */
export interface RunRecord {
	workload: WorkloadId;
	variant: VariantId;
	index: number;
	/** Which runner made it (RunnerInfo.kind). */
	runner: string;
	/** Wall-clock time of the workload's start, ms since the epoch. */
	startedAtMs: number;
	timeline: Timeline;
	window: { from: number; to: number };
	freeze: number | null;
	resume: number | null;
	/** Every phase the runner saw (start, freeze, dumped, restore, resume, end...), seconds. */
	events: Record<string, number>;
	/** Checkpoint image bytes that crossed the migration link. */
	imageBytes: number | null;
	/** What the prefetch (if any) read; null when none ran or it cannot be told. */
	prefetched: PageSpan[] | null;
	/** Bytes of `prefetched` the moved process never read in the window; null: not measurable. */
	prefetchedNeverRead: number | null;
}

export interface VariantRunner {
	/** For example "same host (stand-in)" or "two emulated hosts". */
	readonly kind: string;
	/** Lines that describe how runs are made here, printed with every result. */
	describe(): string[];
	/** Why `variant` cannot be run by this runner, or null when it can. */
	whyNot(variant: VariantId): string | null;
	/** Puts the workloads' data on the storage, once per benchmark. */
	prepare(workloads: Workload[]): Promise<void>;
	run(spec: RunSpec): Promise<RunRecord>;
	/** Removes everything the runner made (scratch files, cgroups, mounts). */
	close(): Promise<void>;
}
