// Summary statistics of the per-run numbers of one variant. Infinity stands for "never within the
// window" (a run that never got back to full speed) and sorts above every finite value.

export interface Spread {
	n: number;
	median: number;
	mean: number;
	/** Sample standard deviation (n - 1); 0 for one value. */
	stddev: number;
	min: number;
	max: number;
	/** First and third quartiles (linear interpolation between order statistics). */
	q1: number;
	q3: number;
}

/** The q-quantile of sorted values, linear between the two nearest order statistics. */
function quantile(sorted: number[], q: number): number {
	if (sorted.length === 0) return NaN;
	const pos = (sorted.length - 1) * q;
	const lo = Math.floor(pos);
	const hi = Math.ceil(pos);
	const a = sorted[lo]!;
	const b = sorted[hi]!;
	if (lo === hi || a === b) return a;
	return a + (b - a) * (pos - lo);
}

export function median(values: number[]): number {
	return quantile([...values].sort((a, b) => a - b), 0.5);
}

export function mean(values: number[]): number {
	return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

export function spread(values: number[]): Spread {
	const sorted = [...values].sort((a, b) => a - b);
	const n = sorted.length;
	const m = mean(sorted);
	const variance = n > 1 ? sorted.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1) : 0;
	return {
		n,
		median: quantile(sorted, 0.5),
		mean: m,
		stddev: Number.isFinite(variance) ? Math.sqrt(variance) : NaN,
		min: n ? sorted[0]! : NaN,
		max: n ? sorted[n - 1]! : NaN,
		q1: quantile(sorted, 0.25),
		q3: quantile(sorted, 0.75),
	};
}
