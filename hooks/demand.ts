// Whether the restored process is reading from storage itself: pages of its files become resident that
// the prefetch did not bring ("foreign" pages: its reads and its own readahead). The engine samples
// the files' residency and reports the foreign pages per second it saw (each file's growth over the
// time since that file's previous sample); the process is "reading" while that rate is above a
// threshold, and for a hold time after it last was, so one quiet sample between two of its reads does
// not hand the link back to the prefetch. Pure: times come with the samples.

/** Still "reading" this long after the rate was last above the threshold (at least). */
export const HOLD_MS = 500;
/** Known quiet only after samples spanning this long. */
export const QUIET_AFTER_MS = 250;

export class Demand {
	private lastAboveMs = -Infinity;
	private lastRate = 0;
	private firstMs: number | null = null;
	private holdMs = HOLD_MS;

	/**
	 * `pagesPerSecond`: foreign pages per second in the latest samples. Slower growth than
	 * `thresholdPagesPerSecond` is not reading (a trickle does not need the link back). `holdMs`: how
	 * long a rate above it counts (longer when the samples are further apart).
	 */
	observe(tMs: number, pagesPerSecond: number, thresholdPagesPerSecond: number, holdMs: number = HOLD_MS): void {
		this.firstMs ??= tMs;
		this.lastRate = pagesPerSecond;
		this.holdMs = Math.max(HOLD_MS, holdMs);
		if (pagesPerSecond >= thresholdPagesPerSecond) this.lastAboveMs = tMs;
	}

	/** Foreign pages per second in the latest samples. */
	rate(): number {
		return this.lastRate;
	}

	reading(tMs: number): boolean {
		return tMs - this.lastAboveMs <= this.holdMs;
	}

	/** Known not to be reading: sampled for a while, and not above the threshold lately. */
	quiet(tMs: number): boolean {
		return this.firstMs !== null && tMs - this.firstMs >= QUIET_AFTER_MS && !this.reading(tMs);
	}
}
