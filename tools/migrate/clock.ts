// Time on both sides: milliseconds since the epoch from a monotonic clock (the wall clock at process
// start, then performance.now()), and the offset between the source's clock and the agent's.

export function now(): number {
	return performance.timeOrigin + performance.now();
}

export interface ClockOffset {
	/** Agent time minus source time at the same instant. */
	offsetMs: number;
	/** Half the round trip of the best ping: the offset is right within this. */
	errorMs: number;
}

/**
 * From pings (source time sent, agent time in the answer, source time received): the one with the
 * shortest round trip, assuming the answer was made halfway through it.
 */
export function estimateOffset(samples: { sent: number; agent: number; received: number }[]): ClockOffset {
	if (samples.length === 0) throw new Error('no ping samples');
	const best = samples.reduce((a, b) => (b.received - b.sent < a.received - a.sent ? b : a));
	return { offsetMs: best.agent - (best.sent + best.received) / 2, errorMs: (best.received - best.sent) / 2 };
}
