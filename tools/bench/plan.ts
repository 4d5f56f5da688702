// The order of a benchmark's runs: variants interleaved run by run (round r runs every variant once,
// starting one further along each round), so that a slow minute of a shared machine falls on all
// variants alike instead of on one. A variant a workload cannot have (an oracle without a known hot
// set) is left out of its rounds, and said so.
import { runsOf, type BenchSettings } from './settings.js';
import { variant as variantOf, type VariantId } from './variants.js';
import { workload as workloadOf } from './workloads.js';
import type { WorkloadId } from './workload.js';

export interface PlannedRun {
	workload: WorkloadId;
	variant: VariantId;
	/** 0-based run number of this workload and variant. */
	index: number;
}

export interface NotRun {
	workload: WorkloadId;
	variant: VariantId;
	reason: string;
}

/** Why `workload` cannot be run with variant `v`, or null. */
function whyNot(w: WorkloadId, v: VariantId): string | null {
	return variantOf(v).baseline?.pages === 'oracle' && !workloadOf(w).oracle ? `${w} has no hot set known page by page` : null;
}

export function notRun(s: BenchSettings): NotRun[] {
	return s.workloads.flatMap((workload) => s.variants.flatMap((variant) => {
		const reason = whyNot(workload, variant);
		return reason ? [{ workload, variant, reason }] : [];
	}));
}

export function runPlan(s: BenchSettings): PlannedRun[] {
	const plan: PlannedRun[] = [];
	const rounds = Math.max(...s.workloads.map((w) => runsOf(s, w)));
	for (let r = 0; r < rounds; r++) {
		for (const workload of s.workloads) {
			if (r >= runsOf(s, workload)) continue;
			const variants = s.variants.filter((v) => whyNot(workload, v) === null);
			for (let k = 0; k < variants.length; k++) plan.push({ workload, variant: variants[(k + r) % variants.length]!, index: r });
		}
	}
	return plan;
}
