// Per workload and variant: the spread of every metric over its runs, and its data against CRIU
// alone and against no migration (medians, side by side in one benchmark).
import type { RunMetrics } from './metrics.js';
import { median, spread, type Spread } from './stats.js';
import type { Measure } from './timeline.js';
import type { VariantId } from './variants.js';
import type { WorkloadId } from './workload.js';

export interface MeasuredRun {
	workload: WorkloadId;
	variant: VariantId;
	measure: Measure;
	metrics: RunMetrics;
}

export interface VariantSummary {
	workload: WorkloadId;
	variant: VariantId;
	measure: Measure;
	runs: number;
	amount: Spread;
	sinceAsked: Spread;
	afterResume: Spread | null;
	downtime: Spread | null;
	recovery: Spread | null;
	secondsLost: Spread | null;
	prefetchedNeverRead: Spread | null;
	/** Median amount over CRIU alone's median amount; null without CRIU alone runs. */
	vsCriu: number | null;
	/** Median amount over no migration's median amount. */
	vsNone: number | null;
	/** The same, of the amounts since the migration was asked. */
	sinceAskedVsCriu: number | null;
	sinceAskedVsNone: number | null;
}

function spreadOf(values: (number | null)[]): Spread | null {
	const known = values.filter((v): v is number => v !== null);
	return known.length ? spread(known) : null;
}

/** Summaries in the order of `workloads` then `variants`; pairs without runs are left out. */
export function summarize(runs: MeasuredRun[], workloads: WorkloadId[], variants: VariantId[]): VariantSummary[] {
	const out: VariantSummary[] = [];
	for (const w of workloads) {
		const of = (v: VariantId) => runs.filter((r) => r.workload === w && r.variant === v);
		const medianOf = (v: VariantId, pick: (m: RunMetrics) => number): number | null => (of(v).length ? median(of(v).map((r) => pick(r.metrics))) : null);
		const criu = medianOf('off', (m) => m.amount);
		const none = medianOf('none', (m) => m.amount);
		const criuSince = medianOf('off', (m) => m.sinceAsked);
		const noneSince = medianOf('none', (m) => m.sinceAsked);
		for (const v of variants) {
			const rs = of(v);
			if (rs.length === 0) continue;
			const m = rs.map((r) => r.metrics);
			const amount = spread(m.map((x) => x.amount));
			const sinceAsked = spread(m.map((x) => x.sinceAsked));
			out.push({
				workload: w,
				variant: v,
				measure: rs[0]!.measure,
				runs: rs.length,
				amount,
				sinceAsked,
				afterResume: spreadOf(m.map((x) => x.afterResume)),
				downtime: spreadOf(m.map((x) => x.downtime)),
				recovery: spreadOf(m.map((x) => x.recovery)),
				secondsLost: spreadOf(m.map((x) => x.secondsLost)),
				prefetchedNeverRead: spreadOf(m.map((x) => x.prefetchedNeverRead)),
				vsCriu: criu ? amount.median / criu : null,
				vsNone: none ? amount.median / none : null,
				sinceAskedVsCriu: criuSince ? sinceAsked.median / criuSince : null,
				sinceAskedVsNone: noneSince ? sinceAsked.median / noneSince : null,
			});
		}
	}
	return out;
}
