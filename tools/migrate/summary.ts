// What `hotcache migrate` reports: one object (--json prints it as is), and its text for people.
import type { Warm } from './protocol.js';

export type Outcome =
	/** Running on the destination. */
	| 'moved'
	/** Never frozen, or the dump failed and CRIU resumed it: running on the source as before. */
	| 'not-moved'
	/** The transfer or the destination's restore failed: restored on the source from the same images. */
	| 'restored-on-source'
	/** Neither: the images are kept (`images.dir`) for a restore by hand; `error` says what happened. */
	| 'lost';

/** Milliseconds since the migration was asked for, on the source's clock (the agent's mapped onto it). */
export interface Timeline {
	agentReady: number | null;
	planSent: number | null;
	prefetchStart: number | null;
	warmDone: number | null;
	freeze: number | null;
	finalPlan: number | null;
	dumpDone: number | null;
	imagesDone: number | null;
	restoreStart: number | null;
	resume: number | null;
	prefetchEnd: number | null;
}

export interface MigrationSummary {
	pid: number;
	destination: string;
	warm: Warm;
	migration: string;
	outcome: Outcome;
	error: string | null;
	requestedAt: string;
	/** The same, in milliseconds since the epoch: add a timeline entry for its wall-clock time. */
	requestedAtMs: number;
	timeline: Timeline;
	/** Freeze (criu dump starts) to resume (criu restore has returned on the destination). */
	downtimeMs: number | null;
	/** Where the destination's prefetch started relative to the freeze (negative: before it). */
	prefetchStartVsFreezeMs: number | null;
	/** The plugin's plan reached the source while CRIU was still dumping (--warm freeze, precopy). */
	finalPlanBeforeDumpEnd: boolean | null;
	images: { dir: string; files: number; bytes: number; seconds: number | null; kept: boolean };
	plan: {
		/** The pages the prefetch fetches (hot, warm) of the last plan, in bytes. */
		bytes: number | null;
		residentBeforeRestore: number | null;
		residentAtResume: number | null;
	};
	warmUp: {
		/** First prefetch start to last prefetch end. */
		seconds: number | null;
		fetchedBytes: number | null;
		fetchedAfterResume: number | null;
		/** Processes that prefetched on the destination (one). */
		prefetchers: number[];
		recaptures: number;
		status: string | null;
		/** The destination's record of it (JSON lines, hooks/README.md), a path on the destination. */
		record: string | null;
	};
	precopy: { timeoutS: number; timedOut: boolean } | null;
	clock: { offsetMs: number; errorMs: number } | null;
	notes: string[];
}

const MB = 1e6;
const s = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
const mb = (bytes: number | null): string => (bytes === null ? '-' : `${(bytes / MB).toFixed(1)} MB`);

export function describeOutcome(summary: MigrationSummary): string {
	switch (summary.outcome) {
		case 'moved':
			return `pid ${summary.pid} moved to ${summary.destination}`;
		case 'not-moved':
			return `pid ${summary.pid} not moved: it runs on the source as before`;
		case 'restored-on-source':
			return `pid ${summary.pid} not moved: restored on the source from ${summary.images.dir}`;
		case 'lost':
			return `pid ${summary.pid} is not running on the source; the images are kept in ${summary.images.dir}`;
	}
}

export function summaryText(m: MigrationSummary): string {
	const t = m.timeline;
	const lines = [`hotcache migrate: ${describeOutcome(m)} (--warm ${m.warm})`];
	if (m.error) lines.push(`  error          ${m.error}`);
	lines.push(`  downtime       ${s(m.downtimeMs)} (freeze at ${s(t.freeze)}, resume at ${s(t.resume)} after the request)`);
	if (m.prefetchStartVsFreezeMs !== null) {
		const rel = m.prefetchStartVsFreezeMs;
		lines.push(`  prefetch       started at ${s(t.prefetchStart)}, ${s(Math.abs(rel))} ${rel < 0 ? 'before' : 'after'} the freeze; warm-up ${m.warmUp.seconds === null ? '-' : `${m.warmUp.seconds.toFixed(2)} s`}`);
	}
	if (m.plan.bytes !== null) {
		const share = m.plan.residentAtResume !== null && m.plan.bytes > 0 ? ` (${((100 * m.plan.residentAtResume) / m.plan.bytes).toFixed(0)}%)` : '';
		lines.push(`  hot pages      ${mb(m.plan.bytes)} planned, ${mb(m.plan.residentAtResume)} resident at resume${share}, ${mb(m.plan.residentBeforeRestore)} before the restore`);
	}
	lines.push(`  after resume   ${mb(m.warmUp.fetchedAfterResume)} prefetched`);
	lines.push(`  images         ${m.images.files} files, ${mb(m.images.bytes)} in ${m.images.seconds === null ? '-' : `${m.images.seconds.toFixed(2)} s`}`);
	if (m.warmUp.prefetchers.length) lines.push(`  prefetchers    ${m.warmUp.prefetchers.length} (pid ${m.warmUp.prefetchers.join(', ')} on the destination)`);
	if (m.precopy) lines.push(`  precopy        ${m.warmUp.recaptures} re-captures, timeout ${m.precopy.timeoutS.toFixed(1)} s${m.precopy.timedOut ? ' (reached)' : ''}`);
	for (const note of m.notes) lines.push(`  note           ${note}`);
	return lines.join('\n');
}
