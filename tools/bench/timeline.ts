// A run's progress over time: cumulative counts sampled every 100 ms, on one clock (seconds since the
// workload started). Everything here is pure, so that the metrics can be tested on known inputs.

/** The cumulative amount done at time `t` (seconds since the run's start). */
export interface Sample {
	t: number;
	/** Bytes read so far (0 for a workload that counts only operations). */
	bytes: number;
	/** Reads, files or queries done so far. */
	ops: number;
}

/** Samples in increasing time, counts never decreasing. */
export type Timeline = Sample[];

/** Which count a workload is judged by: bytes read, or operations (an application's queries). */
export type Measure = 'bytes' | 'ops';

/** Checks the shape the metrics rely on; returns the timeline. */
export function checkTimeline(tl: Timeline): Timeline {
	for (let i = 1; i < tl.length; i++) {
		const [a, b] = [tl[i - 1]!, tl[i]!];
		if (!(b.t > a.t)) throw new Error(`timeline: sample ${i} at ${b.t} s is not after ${a.t} s`);
		if (b.bytes < a.bytes || b.ops < a.ops) throw new Error(`timeline: counts go down at ${b.t} s`);
	}
	return tl;
}

/**
 * The cumulative count at `t`, linear between samples; before the first sample it is the first's
 * count, after the last the last's (a counter does not move when nobody looks).
 */
export function amountAt(tl: Timeline, t: number, measure: Measure): number {
	if (tl.length === 0) return 0;
	const first = tl[0]!;
	const last = tl[tl.length - 1]!;
	if (t <= first.t) return first[measure];
	if (t >= last.t) return last[measure];
	let lo = 0;
	let hi = tl.length - 1;
	while (hi - lo > 1) {
		const mid = (lo + hi) >> 1;
		if (tl[mid]!.t <= t) lo = mid;
		else hi = mid;
	}
	const a = tl[lo]!;
	const b = tl[hi]!;
	return a[measure] + ((b[measure] - a[measure]) * (t - a.t)) / (b.t - a.t);
}

/** The amount done between `from` and `to`. */
export function amountBetween(tl: Timeline, from: number, to: number, measure: Measure): number {
	return amountAt(tl, to, measure) - amountAt(tl, from, measure);
}

/** One point of a throughput curve: the rate over the interval that ends at `t`. */
export interface RatePoint {
	t: number;
	perSecond: number;
}

/** The rate of each interval between consecutive samples, stamped with the interval's end. */
export function rates(tl: Timeline, measure: Measure): RatePoint[] {
	const out: RatePoint[] = [];
	for (let i = 1; i < tl.length; i++) {
		const [a, b] = [tl[i - 1]!, tl[i]!];
		out.push({ t: b.t, perSecond: (b[measure] - a[measure]) / (b.t - a.t) });
	}
	return out;
}

/**
 * A timeline from events an application stamped itself (for example one line per query with its
 * wall-clock time): every `step` seconds from `from` to `to`, the events at or before that time.
 * Times are seconds since the run's start; each event counts `opsEach` operations.
 */
export function timelineFromEvents(times: number[], from: number, to: number, step: number, opsEach = 1): Timeline {
	if (!(step > 0) || !(to >= from)) throw new Error(`timeline: bad range ${from}..${to} step ${step}`);
	const sorted = [...times].sort((a, b) => a - b);
	const out: Timeline = [];
	let seen = 0;
	const count = Math.floor((to - from) / step + 1e-9);
	for (let k = 0; k <= count; k++) {
		const t = from + k * step;
		while (seen < sorted.length && sorted[seen]! <= t) seen++;
		out.push({ t, bytes: 0, ops: seen * opsEach });
	}
	return out;
}
