// When precopy stops waiting for the destination and freezes the process, and when the working set
// moved enough during the warm-up to send it again. Pure.

/** The rate assumed for the destination's storage link until its own reports measure it (a Gigabit link). */
export const ASSUMED_BYTES_PER_SECOND = 117e6;
/** Measured rates count once this much has been fetched (the first chunks are start-up). */
const MEASURE_AFTER_BYTES = 8 << 20;
export const MIN_TIMEOUT_S = 5;
export const MAX_TIMEOUT_S = 300;
/** Re-captures after the warm-up, each sent only when the working set moved. */
export const MAX_RECAPTURES = 3;
/** A re-capture is sent when it holds at least this share of the plan, or this many bytes, in new pages. */
const MOVED_SHARE = 0.01;
const MOVED_BYTES = 16 << 20;

/**
 * The default --precopy-timeout: half again the time the plan takes at the destination's measured rate
 * (the assumed one until it reports), plus two seconds, within [MIN_TIMEOUT_S, MAX_TIMEOUT_S].
 */
export function precopyTimeoutS(planBytes: number, fetchedBytes: number, fetchingSeconds: number): number {
	const rate = fetchedBytes >= MEASURE_AFTER_BYTES && fetchingSeconds > 0 ? fetchedBytes / fetchingSeconds : ASSUMED_BYTES_PER_SECOND;
	return Math.min(MAX_TIMEOUT_S, Math.max(MIN_TIMEOUT_S, 2 + (1.5 * planBytes) / rate));
}

/** Whether a re-capture's new pages are worth another round. */
export function workingSetMoved(newBytes: number, planBytes: number): boolean {
	return newBytes > 0 && (newBytes >= MOVED_BYTES || newBytes >= MOVED_SHARE * planBytes);
}
