// One benchmark: prepare the workloads' data, run the plan (variants interleaved), then judge every
// run against the runs without migration of the same workload, and summarise.
import os from 'node:os';
import { projectVersion } from '../project.js';
import { reference, runMetrics, type Reference, type RunMetrics } from './metrics.js';
import { runPlan, type PlannedRun } from './plan.js';
import { ProgressDisplay } from './progress-display.js';
import type { RunRecord, VariantRunner } from './runner.js';
import { checkSettings, describeSettings, type BenchSettings } from './settings.js';
import { summarize, type VariantSummary } from './summary.js';
import { variant as variantOf, type VariantId } from './variants.js';
import { workload as workloadOf } from './workloads.js';
import type { WorkloadId } from './workload.js';

/** A run as the results keep it: what it observed (the prefetched spans counted, not listed), and its metrics. */
export interface RunResult extends Omit<RunRecord, 'prefetched'> {
	prefetchedSpans: number | null;
	metrics: RunMetrics;
}

export interface FailedRun extends PlannedRun {
	error: string;
}

export interface BenchResult {
	tool: string;
	startedAt: string;
	finishedAt: string;
	host: { name: string; kernel: string; cpus: number; memoryBytes: number };
	settings: BenchSettings;
	/** The settings and the runner, as lines a person reads: printed with every result. */
	settingsText: string[];
	skipped: { variant: VariantId; reason: string }[];
	references: { workload: WorkloadId; reference: Reference | null }[];
	runs: RunResult[];
	failures: FailedRun[];
	summaries: VariantSummary[];
}

/** Metrics and summaries of the records, each judged against its workload's runs without migration. */
export function judge(settings: BenchSettings, records: RunRecord[]): Pick<BenchResult, 'references' | 'runs' | 'summaries'> {
	const references = settings.workloads.map((w) => {
		const none = records.filter((r) => r.workload === w && r.variant === 'none');
		const measure = workloadOf(w).measure;
		const amounts = none.map((r) => runMetrics({ ...r, measure }, null).amount);
		return { workload: w, reference: reference(amounts, settings.durationS) };
	});
	const runs: RunResult[] = records.map(({ prefetched, ...r }) => {
		const measure = workloadOf(r.workload).measure;
		const ref = references.find((x) => x.workload === r.workload)?.reference ?? null;
		return { ...r, prefetchedSpans: prefetched ? prefetched.length : null, metrics: runMetrics({ ...r, measure }, ref) };
	});
	const measured = runs.map((r) => ({ workload: r.workload, variant: r.variant, measure: workloadOf(r.workload).measure, metrics: r.metrics }));
	return { references, runs, summaries: summarize(measured, settings.workloads, settings.variants) };
}

export interface BenchOptions {
	/** Where progress goes; default stderr. */
	display?: NodeJS.WriteStream;
}

export async function runBench(settings: BenchSettings, runner: VariantRunner, opts: BenchOptions = {}): Promise<BenchResult> {
	checkSettings(settings);
	const startedAt = new Date().toISOString();
	const skipped = settings.variants.flatMap((v) => {
		const reason = runner.whyNot(v);
		return reason ? [{ variant: v, reason }] : [];
	});
	const runnable = settings.variants.filter((v) => !skipped.some((s) => s.variant === v));
	const plan = runPlan(settings, runnable);
	const display = new ProgressDisplay(plan.length, opts.display);
	const records: RunRecord[] = [];
	const failures: FailedRun[] = [];
	let runnerText: string[];
	try {
		await runner.prepare(settings.workloads.map(workloadOf));
		runnerText = runner.describe();
		for (const p of plan) {
			const label = `${p.workload} / ${variantOf(p.variant).label}, run ${p.index + 1}`;
			display.begin(label);
			try {
				records.push(await runner.run({ workload: workloadOf(p.workload), variant: p.variant, index: p.index, settings }));
			} catch (err) {
				failures.push({ ...p, error: err instanceof Error ? err.message : String(err) });
			}
			display.end(label);
		}
	} finally {
		await runner.close();
	}
	return {
		tool: `hotcache bench ${projectVersion()}`,
		startedAt,
		finishedAt: new Date().toISOString(),
		host: { name: os.hostname(), kernel: os.release(), cpus: os.cpus().length, memoryBytes: os.totalmem() },
		settings,
		settingsText: [...describeSettings(settings), ...runnerText, ...settings.workloads.map((w) => `${w}: ${workloadOf(w).describe(settings)}`)],
		skipped,
		failures,
		...judge(settings, records),
	};
}
