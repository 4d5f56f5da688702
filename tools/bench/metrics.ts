// The numbers of one run, from its timeline and its events, against the runs without migration of the
// same workload in the same benchmark (the upper bound). Pure: tested on known inputs.
import { amountAt, amountBetween, type Measure, type Timeline } from './timeline.js';

/** What a run left to judge it by. Times in seconds since the workload started. */
export interface Observation {
	timeline: Timeline;
	measure: Measure;
	/** The fixed window every variant is judged on. */
	window: { from: number; to: number };
	/** When the migration is asked for (or would be, without one): the same for every variant. */
	askedAt: number;
	/** When the process was frozen on the source and resumed on the destination; absent without migration. */
	freeze: number | null;
	resume: number | null;
	/** Bytes the prefetch brought in that the moved process never read in the window; null: not measurable. */
	prefetchedNeverRead: number | null;
}

/** No migration, over the same window: how much, at what rate. */
export interface Reference {
	amount: number;
	perSecond: number;
}

export interface RunMetrics {
	/** Bytes read (or operations done) in the window. */
	amount: number;
	/** The part of `amount` done from the migration's request on: every variant over the same time. */
	sinceAsked: number;
	/** The part of `amount` done after the resume (null without migration). */
	afterResume: number | null;
	/** Freeze to resume, seconds; null without migration. */
	downtime: number | null;
	/**
	 * Seconds from the resume until the throughput is back to RECOVERED of no migration's (held for
	 * HOLD_S); Infinity when that never happens in the window; null without migration or reference.
	 */
	recovery: number | null;
	/** Seconds of full-speed work lost: (reference amount - amount) / reference rate; null without reference. */
	secondsLost: number | null;
	prefetchedNeverRead: number | null;
}

/** "Back to full speed" means this share of no migration's rate... */
const RECOVERED = 0.9;
/** ...over at least this long, so that one lucky 100 ms sample does not count. */
const HOLD_S = 0.5;

/** The reference of a workload: the median no-migration amount over the window, and its rate. */
export function reference(amounts: number[], windowSeconds: number): Reference | null {
	if (amounts.length === 0 || !(windowSeconds > 0)) return null;
	const sorted = [...amounts].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	const amount = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
	return { amount, perSecond: amount / windowSeconds };
}

/**
 * The first time at or after `resume` from which the rate over the next HOLD_S seconds is at least
 * RECOVERED of `perSecond`, as seconds after `resume`. Candidates are the resume itself and every
 * sample after it whose hold still fits in the window; Infinity when none qualifies.
 */
export function recoveryTime(tl: Timeline, measure: Measure, resume: number, windowEnd: number, perSecond: number): number {
	const candidates = [resume, ...tl.map((s) => s.t).filter((t) => t > resume)];
	for (const t of candidates) {
		if (t + HOLD_S > windowEnd + 1e-9) break;
		if (amountBetween(tl, t, t + HOLD_S, measure) / HOLD_S >= RECOVERED * perSecond) return t - resume;
	}
	return Infinity;
}

export function runMetrics(obs: Observation, ref: Reference | null): RunMetrics {
	const { timeline: tl, measure, window } = obs;
	const amount = amountAt(tl, window.to, measure) - amountAt(tl, window.from, measure);
	const migrated = obs.freeze !== null && obs.resume !== null;
	return {
		amount,
		sinceAsked: amountBetween(tl, obs.askedAt, window.to, measure),
		afterResume: migrated ? amountBetween(tl, obs.resume!, window.to, measure) : null,
		downtime: migrated ? obs.resume! - obs.freeze! : null,
		recovery: migrated && ref && ref.perSecond > 0 ? recoveryTime(tl, measure, obs.resume!, window.to, ref.perSecond) : null,
		secondsLost: ref && ref.perSecond > 0 ? (ref.amount - amount) / ref.perSecond : null,
		prefetchedNeverRead: obs.prefetchedNeverRead,
	};
}

/** A range of pages of one file, as a prefetcher reports what it read. */
export interface PageSpan {
	path: string;
	start: number;
	count: number;
}

/**
 * Bytes of the pages in `prefetched` (each page once, however often it was asked for) that `wasRead`
 * says the process never read. Pages it cannot tell (null: a file the workload does not track, such
 * as its own program) are left out.
 */
export function neverReadBytes(prefetched: PageSpan[], wasRead: (path: string, page: number) => boolean | null, pageSize: number): number {
	const seen = new Map<string, Set<number>>();
	let pages = 0;
	for (const span of prefetched) {
		let set = seen.get(span.path);
		if (!set) seen.set(span.path, (set = new Set()));
		for (let p = span.start; p < span.start + span.count; p++) {
			if (set.has(p)) continue;
			set.add(p);
			if (wasRead(span.path, p) === false) pages++;
		}
	}
	return pages * pageSize;
}
