// What one run in the NFS VMs observed, as the benchmark's metrics take it (tools/bench/metrics.ts): the
// source's and the destination's 100 ms samples of the workload's progress file made into one timeline
// on the source's clock, and the migration's freeze and resume. The source's file stops at what the
// workload had read at the freeze; the destination's starts from zero and counts what it read after the
// resume; so the workload's total at any instant is the sum of the two.
import type { MigrationSummary } from '../migrate/summary.js';
import type { Observation } from './metrics.js';
import { toTimeline, type RawSample } from './sampler.js';
import { amountAt, checkTimeline, type Timeline } from './timeline.js';

/** What guest-nfs.sh wrote for a run (run.json): wall-clock ns on the source. */
export interface GuestRun {
	variant: string;
	pid: number;
	startNs: number;
	askedNs: number;
	endNs: number;
	/** The timed cold read of the file on the source before the run: [start, end]. */
	warmNs: [number, number];
	/** The file's pages resident on the source and the destination after the eviction (fincore). */
	coldPages: [number | null, number | null];
	outcome: string;
}

/** The two clients' samples as one timeline in seconds since `originMs` (source clock). */
export function mergedTimeline(src: RawSample[], dst: RawSample[], offsetMs: number, originMs: number): Timeline {
	const here = toTimeline(src, originMs);
	// The destination's clock minus the source's is offsetMs: its samples moved onto the source's clock.
	const there = toTimeline(dst.map((s) => ({ ...s, at: s.at - offsetMs })), originMs);
	return checkTimeline(
		here.map((s) => ({ t: s.t, bytes: s.bytes + amountAt(there, s.t, 'bytes'), ops: s.ops + amountAt(there, s.t, 'ops') })),
	);
}

export function nfsObservation(run: GuestRun, src: RawSample[], dst: RawSample[], summary: MigrationSummary | null, windowS: number): Observation {
	const originMs = run.startNs / 1e6;
	const at = (ms: number | null): number | null => (summary && ms !== null ? (summary.requestedAtMs + ms - originMs) / 1000 : null);
	return {
		timeline: mergedTimeline(src, dst, summary?.clock?.offsetMs ?? 0, originMs),
		measure: 'bytes',
		window: { from: 0, to: windowS },
		askedAt: (run.askedNs - run.startNs) / 1e9,
		freeze: summary?.outcome === 'moved' ? at(summary.timeline.freeze) : null,
		resume: summary?.outcome === 'moved' ? at(summary.timeline.resume) : null,
		prefetchedNeverRead: null,
	};
}

/** MB/s of the timed cold read of `bytes`. */
export function coldReadMBps(run: GuestRun, bytes: number): number {
	return bytes / 1e6 / ((run.warmNs[1] - run.warmNs[0]) / 1e9);
}

/** Half a second: the step of the cold-time count below. */
const STEP_S = 0.5;
/** Below this share of its own rate before the request, a run reads cold. */
const COLD_SHARE = 0.5;
/** How long after the resume the cold time is counted. */
const COLD_SPAN_S = 30;

/**
 * Seconds, in the COLD_SPAN_S after the resume (within the window), whose rate is below COLD_SHARE of the
 * run's own rate from 1 s to the request; null when it did not resume inside the window. Judged against
 * the run itself, not against the runs without migration: in emulated guests on shared cores the cached
 * re-read's rate moves by 2x from one run to the next, which buries the seconds lost, not this.
 */
export function coldSecondsAfterResume(tl: Timeline, askedAt: number, resume: number | null, windowEnd: number): number | null {
	if (resume === null || resume + STEP_S > windowEnd) return null;
	const rate = (from: number, to: number): number => (amountAt(tl, to, 'bytes') - amountAt(tl, from, 'bytes')) / (to - from);
	const own = rate(1, askedAt);
	let cold = 0;
	for (let t = resume; t + STEP_S <= Math.min(windowEnd, resume + COLD_SPAN_S) + 1e-9; t += STEP_S) if (rate(t, t + STEP_S) < COLD_SHARE * own) cold += STEP_S;
	return cold;
}
