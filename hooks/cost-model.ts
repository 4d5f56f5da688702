// What a read from this storage costs, learned from the prefetch's own requests as they complete:
// the bandwidth (bytes per second the link delivers when kept busy), the cost of one more request
// beyond its bytes (per-request latency the depth does not hide, or the IOPS ceiling), and the depth
// (requests in flight) past which the bandwidth stops growing. The first requests are the measurement:
// the depth starts at 1 and doubles while each doubling still raises the delivered rate by a tenth;
// once settled, every REPROBE_WINDOWS windows it tries the double again (one noisy window must not
// keep the depth low for the rest of the run).
// Pure: times come in with the observations, so the decisions are unit-tested on recorded runs.

/** Before anything is measured: a modest network link. The first window of large requests alone on the link replaces it. */
export const PRIOR = { bandwidth: 100e6, requestCost: 250e-6 } as const;

/** A doubling of the depth must raise the rate by this much to be kept. */
const DEPTH_GAIN = 1.1;
/** Completions (with I/O) a depth is measured over, and the least time. */
const WINDOW_REQUESTS = 8;
/** Long enough to average a throttle's slices (blkio's are 100 ms: a slice's credit passes at once). */
const WINDOW_MS = 100;
/** Requests of this size or more (on average in a window) are dominated by their bytes on any storage. */
const LARGE_REQUEST_BYTES = 512 << 10;
/** Settled windows between two tries of the doubled depth. */
const REPROBE_WINDOWS = 8;

export interface Completion {
	/** Bytes the request brought from storage (pages that were not resident before it). */
	bytes: number;
	/** When it was sent and when it completed (ms, any monotonic clock). */
	sentMs: number;
	doneMs: number;
}

export interface CostEstimate {
	bandwidth: number;
	/** Seconds one more request costs beyond its bytes. */
	requestCost: number;
	/** Least time a request took beyond its bytes at depth 1 (s), null until seen. */
	latency: number | null;
	/** Requests in flight that reach the bandwidth. */
	depth: number;
	/** Still doubling the depth. */
	probing: boolean;
}

/**
 * Completions at one depth. The rate is taken from completion to completion (the bytes after the
 * first over the time from the first to the last): counting from the first send would charge the
 * window with the time its pipeline took to fill, more the deeper it is.
 */
interface Window {
	depth: number;
	firstDoneMs: number;
	lastDoneMs: number;
	/** Completions after the first, and their bytes. */
	requests: number;
	bytes: number;
}

export class CostModel {
	private bandwidth: number = PRIOR.bandwidth;
	private requestCost: number = PRIOR.requestCost;
	private measured = false;
	private latency: number | null = null;
	private depth = 1;
	private probing = true;
	/** The best rate seen while probing, and the depth that gave it. */
	private best: { rate: number; depth: number } | null = null;
	private window: Window | null = null;
	private settledWindows = 0;

	constructor(private readonly maxDepth: number) {
		if (maxDepth < 1) throw new RangeError('maxDepth must be at least 1');
	}

	estimate(): CostEstimate {
		return { bandwidth: this.bandwidth, requestCost: this.requestCost, latency: this.latency, depth: this.depth, probing: this.probing };
	}

	/**
	 * One completed request. `depth` is how many requests the engine kept in flight when it sent it,
	 * `alone` whether the link was known to be the prefetch's alone (the process was seen not
	 * reading): only those windows measure the depth and the request cost (a reading process adds its
	 * waits to them); every one measures the bandwidth (the prefetch's share is a lower bound).
	 */
	observe(c: Completion, depth: number, alone: boolean): void {
		if (c.bytes <= 0) return; // already resident: nothing went to storage
		const seconds = Math.max(1e-6, (c.doneMs - c.sentMs) / 1000);
		if (depth === 1 && this.measured) {
			const beyond = Math.max(0, seconds - c.bytes / this.bandwidth);
			this.latency = this.latency === null ? beyond : Math.min(this.latency, beyond);
		}
		const w = this.window;
		if (!w || w.depth !== depth) {
			this.window = { depth, firstDoneMs: c.doneMs, lastDoneMs: c.doneMs, requests: 0, bytes: 0 };
			return;
		}
		w.lastDoneMs = Math.max(w.lastDoneMs, c.doneMs);
		w.requests++;
		w.bytes += c.bytes;
		if (w.requests < WINDOW_REQUESTS || w.lastDoneMs - w.firstDoneMs < WINDOW_MS) return;
		this.window = null;
		this.learn(w, alone);
	}

	private learn(w: Window, alone: boolean): void {
		const seconds = (w.lastDoneMs - w.firstDoneMs) / 1000;
		const rate = w.bytes / seconds;
		// The link delivers at least what it just delivered. Less than the prior only counts when
		// measured alone with large requests: a reading process takes its share, and small requests
		// measure their own cost, not the bandwidth (which would then make them smaller still).
		const large = w.bytes / w.requests >= LARGE_REQUEST_BYTES;
		if ((alone && large && !this.measured) || rate > this.bandwidth) this.bandwidth = rate;
		if (alone && large) this.measured = true;
		// The request cost is the time the bytes do not explain, per request. Large requests hide it
		// in noise and a reading process adds its own waits: only small requests on an idle link,
		// once the bandwidth is known, tell.
		const small = w.bytes / w.requests < this.bandwidth * this.requestCost * 4;
		if (small && alone && this.measured) {
			const perRequest = Math.max(0, seconds - w.bytes / this.bandwidth) / w.requests;
			this.requestCost = Math.max(1e-6, 0.5 * this.requestCost + 0.5 * perRequest);
		}
		if (!alone || w.depth !== this.depth) return;
		if (!this.probing) {
			// Settled: now and then, try the double again against the rate of this window.
			if (++this.settledWindows < REPROBE_WINDOWS || this.depth * 2 > this.maxDepth) return;
			this.settledWindows = 0;
			this.best = { rate, depth: this.depth };
			this.probing = true;
			this.depth *= 2;
			return;
		}
		if (this.best && rate < this.best.rate * DEPTH_GAIN) {
			this.depth = this.best.depth;
			this.probing = false;
			return;
		}
		this.best = { rate, depth: w.depth };
		if (this.depth * 2 > this.maxDepth) {
			this.probing = false;
			return;
		}
		this.depth *= 2;
	}
}
