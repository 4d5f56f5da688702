// What one benchmark run is asked to do, and what it observed (hosts-run.ts makes it).
import type { BenchSettings } from './settings.js';
import type { Timeline } from './timeline.js';
import type { VariantId } from './variants.js';
import type { Workload, WorkloadId } from './workload.js';
import type { PageSpan } from './metrics.js';
import type { MigrationSummary } from '../migrate/summary.js';

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
	/** What made it (HostsRunner.kind). */
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
	/** `hotcache migrate --json`'s summary; null without migration. */
	migration: MigrationSummary | null;
	/** What the prefetch (if any) read; null when none ran or it cannot be told. */
	prefetched: PageSpan[] | null;
	/** Bytes of `prefetched` the moved process never read in the window; null: not measurable. */
	prefetchedNeverRead: number | null;
}
