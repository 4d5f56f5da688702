// Optional caps for shared links: a token bucket refilled at `rate` units (bytes, or requests) per
// second, holding at most one second's worth. The clock and sleep are injectable so the arithmetic is
// testable.
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
	now(): number; // milliseconds
	/** Resolves after `ms`, or at once when `signal` aborts. */
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
	now: () => performance.now(),
	// timers/promises removes its abort listener when the timer fires: one signal serves every sleep.
	sleep: async (ms, signal) => {
		try {
			await delay(ms, undefined, { signal });
		} catch (err) {
			if (!signal?.aborted) throw err;
		}
	},
};

export class TokenBucket {
	private tokens: number;
	private last: number;

	constructor(
		readonly rate: number,
		private readonly clock: Clock = realClock,
	) {
		this.tokens = rate;
		this.last = clock.now();
	}

	/** Waits until `amount` may be spent (or `signal` aborts); concurrent callers queue behind each other's debt. */
	async take(amount: number, signal?: AbortSignal): Promise<void> {
		const now = this.clock.now();
		this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) * this.rate) / 1000);
		this.last = now;
		this.tokens -= amount;
		if (this.tokens < 0) await this.clock.sleep((-this.tokens * 1000) / this.rate, signal);
	}

	/** Gives back `amount` taken but not spent (a request found part of its range resident). */
	refund(amount: number): void {
		this.tokens = Math.min(this.rate, this.tokens + amount);
	}
}
