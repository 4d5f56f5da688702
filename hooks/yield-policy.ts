// How the prefetch shares the link with the restored process. A process's read queues behind whatever
// the prefetch has in flight, so the prefetch bounds that in link time. While the process is not
// reading from storage, the prefetch has the link: the depth the cost model found, requests up to the
// readahead cap but at most IDLE_DELAY_S of link time in flight (the process's first read, before the
// prefetch notices it, waits no longer), the process's order, low-value pages too. While it is
// reading, the prefetch keeps at most YIELD_DELAY_S in flight (at least two requests, so the link
// never idles between them; more when they are small), takes the part of each rank the process
// reaches last, and leaves low-value pages for later. When the process's own reads already take most
// of the link (a sequential reader and its readahead), the prefetch sends nothing: it could only take
// bandwidth from the process, and the files cannot be resident sooner than the link allows. Pure.
import type { CostEstimate } from './cost-model.js';
import type { Pace } from './plan.js';

/** Link time a reading process may wait behind the prefetch's requests. */
export const YIELD_DELAY_S = 0.008;
/** Link time in flight while the process is not reading (yet). */
export const IDLE_DELAY_S = 0.05;
/** The process's reads take the link when they bring this share of its bandwidth or more. */
export const SATURATED_SHARE = 0.8;
/** Requests the in-flight time is split into while the process reads: one on the link, the next queued behind it. */
const YIELD_DEPTH = 2;
/**
 * The least in flight, whatever the bandwidth estimate: below it requests become so small that an
 * IOPS-bound link spends its requests on the prefetch's small reads (and the bandwidth, learned from
 * large requests, would never be measured again).
 */
const MIN_IN_FLIGHT_BYTES = 1 << 20;

export interface Decision {
	/** Most requests in flight (0: none now). */
	depth: number;
	/** Most pages in flight (one request may exceed it alone). */
	inFlightPages: number;
	pace: Pace;
}

/** `processBytesPerSecond`: what the process's own reads bring from storage (0 when it does not read). */
export function decide(reading: boolean, processBytesPerSecond: number, estimate: CostEstimate, pageSize: number, workers: number): Decision {
	const gapPages = Math.floor((estimate.bandwidth * estimate.requestCost) / pageSize);
	const inFlightPages = Math.floor(Math.max(MIN_IN_FLIGHT_BYTES, estimate.bandwidth * (reading ? YIELD_DELAY_S : IDLE_DELAY_S)) / pageSize);
	const saturated = reading && processBytesPerSecond >= SATURATED_SHARE * estimate.bandwidth;
	const depth = saturated ? 0 : reading ? workers : Math.min(workers, estimate.depth);
	const chunkPages = Math.max(1, Math.floor(inFlightPages / Math.max(1, Math.min(depth, reading ? YIELD_DEPTH : depth))));
	return { depth, inFlightPages, pace: { gapPages, chunkPages, fromBack: reading, lowValue: !reading } };
}
