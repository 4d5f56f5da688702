// The two figures of the seed study, as vega-lite specifications: the throughput over time around
// the migration (one line per variant: its median run), and the histogram of the data read per run
// (one row per variant).
import type { TopLevelSpec } from 'vega-lite';
import type { BenchResult, RunResult } from '../bench.js';
import { median } from '../stats.js';
import { rates } from '../timeline.js';
import { variant, type VariantId } from '../variants.js';
import { workload } from '../workloads.js';
import type { WorkloadId } from '../workload.js';
import { unitName } from './format.js';

const FONT = 'DejaVu Sans';
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Ticks of the log-like rate axis: a cold link (100 MB/s) and a warm cache (20 GB/s) on one plot. */
const DECADES = [0, 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7];

/** The run whose amount is the median of its variant's (the lower middle one for an even count). */
function medianRun(runs: RunResult[]): RunResult | null {
	if (runs.length === 0) return null;
	const m = median(runs.map((r) => r.metrics.amount));
	return runs.reduce((best, r) => (Math.abs(r.metrics.amount - m) < Math.abs(best.metrics.amount - m) ? r : best));
}

function labels(r: BenchResult, w: WorkloadId, only?: VariantId[]): { id: VariantId; label: string }[] {
	return r.settings.variants
		.filter((v) => (!only || only.includes(v)) && r.runs.some((x) => x.workload === w && x.variant === v))
		.map((v) => ({ id: v, label: variant(v).label }));
}

export function timelineSpec(r: BenchResult, w: WorkloadId, only?: VariantId[]): TopLevelSpec {
	const measure = workload(w).measure;
	const unit = unitName(measure);
	const shown = labels(r, w, only);
	const values = shown.flatMap(({ id, label }) => {
		const run = medianRun(r.runs.filter((x) => x.workload === w && x.variant === id));
		return run ? rates(run.timeline, measure).map((p) => ({ variant: label, t: Number((p.t - r.settings.migrateAtS).toFixed(3)), rate: p.perSecond / unit.scale })) : [];
	});
	return {
		$schema: SCHEMA,
		title: { text: `${w}: ${workload(w).label}, throughput (median run of each variant)`, font: FONT },
		width: 720,
		height: 320,
		layer: [
			{
				data: { values },
				mark: { type: 'line', interpolate: 'step-before', strokeWidth: 1.5, clip: true },
				encoding: {
					x: {
						field: 't',
						type: 'quantitative',
						title: 'seconds since the migration was asked',
						scale: { domain: [-r.settings.migrateAtS, r.settings.durationS - r.settings.migrateAtS], nice: false },
					},
					y: {
						field: 'rate',
						type: 'quantitative',
						title: `${unit.rate}, 100 ms samples (log)`,
						scale: { type: 'symlog' },
						axis: { values: DECADES, format: ',d' },
					},
					color: { field: 'variant', type: 'nominal', sort: shown.map((s) => s.label), title: null, legend: { labelLimit: 400 } },
				},
			},
			{ data: { values: [{ t: 0 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { x: { field: 't', type: 'quantitative' } } },
		],
		config: { font: FONT },
	};
}

export function histogramSpec(r: BenchResult, w: WorkloadId): TopLevelSpec {
	const measure = workload(w).measure;
	const unit = unitName(measure);
	const shown = labels(r, w);
	const scale = measure === 'bytes' ? 1e9 : 1;
	const values = r.runs.filter((x) => x.workload === w).map((x) => ({ variant: variant(x.variant).label, amount: x.metrics.amount / scale }));
	return {
		$schema: SCHEMA,
		title: { text: `${w}: ${unit.amount} in the ${r.settings.durationS} s window, per run`, font: FONT },
		data: { values },
		mark: 'bar',
		encoding: {
			x: { field: 'amount', type: 'quantitative', bin: { maxbins: 30 }, title: unit.amount },
			y: { aggregate: 'count', type: 'quantitative', title: 'runs' },
			color: { field: 'variant', type: 'nominal', sort: shown.map((s) => s.label), legend: null },
			row: { field: 'variant', type: 'nominal', sort: shown.map((s) => s.label), title: null, header: { labelAngle: 0, labelAlign: 'left' } },
		},
		width: 600,
		height: 60,
		config: { font: FONT },
	};
}
