// The order of a benchmark's runs: variants interleaved run by run (round r runs every variant once,
// starting one further along each round), so that a slow minute of a shared machine falls on all
// variants alike instead of on one.
import { runsOf, type BenchSettings } from './settings.js';
import type { VariantId } from './variants.js';
import type { WorkloadId } from './workload.js';

export interface PlannedRun {
	workload: WorkloadId;
	variant: VariantId;
	/** 0-based run number of this workload and variant. */
	index: number;
}

export function runPlan(s: BenchSettings, variants: VariantId[]): PlannedRun[] {
	const plan: PlannedRun[] = [];
	const rounds = Math.max(...s.workloads.map((w) => runsOf(s, w)));
	for (let r = 0; r < rounds; r++) {
		for (const workload of s.workloads) {
			if (r >= runsOf(s, workload)) continue;
			for (let k = 0; k < variants.length; k++) plan.push({ workload, variant: variants[(k + r) % variants.length]!, index: r });
		}
	}
	return plan;
}
