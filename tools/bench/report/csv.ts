// The results for machines, as CSV: one row per run, one per variant summary, one per timeline sample.
import type { BenchResult } from '../bench.js';
import { workload } from '../workloads.js';

type Cell = string | number | null;

function cell(v: Cell): string {
	if (v === null) return '';
	if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : 'nan';
	return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csv(header: string[], rows: Cell[][]): string {
	return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

export function runsCsv(r: BenchResult): string {
	return csv(
		['workload', 'variant', 'run', 'runner', 'measure', 'amount', 'since_asked', 'after_resume', 'downtime_s', 'recovery_s', 'seconds_lost', 'prefetched_never_read_bytes', 'image_bytes', 'freeze_s', 'resume_s'],
		r.runs.map((x) => [
			x.workload, x.variant, x.index + 1, x.runner, workload(x.workload).measure, x.metrics.amount, x.metrics.sinceAsked, x.metrics.afterResume,
			x.metrics.downtime, x.metrics.recovery, x.metrics.secondsLost, x.metrics.prefetchedNeverRead, x.imageBytes, x.freeze, x.resume,
		]),
	);
}

export function summaryCsv(r: BenchResult): string {
	const metrics = ['amount', 'sinceAsked', 'afterResume', 'downtime', 'recovery', 'secondsLost', 'prefetchedNeverRead'] as const;
	const stats = ['median', 'mean', 'stddev', 'min', 'max'] as const;
	return csv(
		['workload', 'variant', 'measure', 'runs', ...metrics.flatMap((m) => stats.map((s) => `${m}_${s}`)), 'vs_criu', 'vs_none', 'since_asked_vs_criu', 'since_asked_vs_none'],
		r.summaries.map((s) => [s.workload, s.variant, s.measure, s.runs, ...metrics.flatMap((m) => stats.map((k) => s[m]?.[k] ?? null)), s.vsCriu, s.vsNone, s.sinceAskedVsCriu, s.sinceAskedVsNone]),
	);
}

export function timelinesCsv(r: BenchResult): string {
	return csv(
		['workload', 'variant', 'run', 't_s', 'bytes', 'ops'],
		r.runs.flatMap((x) => x.timeline.map((p) => [x.workload, x.variant, x.index + 1, Number(p.t.toFixed(4)), p.bytes, p.ops])),
	);
}
