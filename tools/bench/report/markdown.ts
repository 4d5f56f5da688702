// The results for people: the settings, then one table per workload (medians over the runs, with
// mean and standard deviation), the variants that could not run and why, and the failed runs.
import type { BenchResult } from '../bench.js';
import type { VariantSummary } from '../summary.js';
import { variant } from '../variants.js';
import { workload } from '../workloads.js';
import { amountText, ratioText, secondsText, spreadText } from './format.js';

export function markdownReport(r: BenchResult): string {
	const lines = [`# hotcache bench: ${r.startedAt}`, '', '```', ...r.settingsText, `host: ${r.host.name}, Linux ${r.host.kernel}, ${r.host.cpus} CPUs`, '```', ''];
	for (const w of r.settings.workloads) {
		const rows = r.summaries.filter((s) => s.workload === w);
		if (rows.length === 0) continue;
		const wl = workload(w);
		const unit = wl.measure === 'bytes' ? 'data read' : 'lookups done';
		lines.push(`## ${w}: ${wl.label}`, '', `${unit} in the ${r.settings.durationS} s window, and from the migration's request (at ${r.settings.migrateAtS} s) to its end; median (mean, sd) over the runs`, '');
		lines.push(...variantTable(rows, unit));
		lines.push('');
	}
	if (r.skipped.length) lines.push('Not run:', '', ...r.skipped.map((s) => `- ${s.workload} / ${variant(s.variant).label}: ${s.reason}`), '');
	if (r.failures.length) lines.push('Failed runs:', '', ...r.failures.map((f) => `- ${f.workload} / ${variant(f.variant).label}, run ${f.index + 1}: ${f.error.split('\n')[0]}`), '');
	lines.push(
		'Since the request: from when the move was asked for (the same instant for every variant) to the end of the window. Downtime: freeze to resume. Back to 90%: from the resume until the throughput holds 90% of no migration\'s for 0.5 s. ' +
			'Seconds lost: (no migration\'s data - data) / no migration\'s rate. Prefetched, never read: pages a prefetch brought in that the moved process did not read in the window.',
		'',
	);
	return lines.join('\n');
}

/** One workload's table: a row per variant, medians (mean, sd) over its runs. */
export function variantTable(rows: VariantSummary[], unit: string): string[] {
	const lines = [
		`| variant | runs | ${unit} | vs CRIU alone | vs no migration | since the request | vs CRIU alone | downtime | back to 90% | seconds lost | prefetched, never read |`,
		'|---|---|---|---|---|---|---|---|---|---|---|',
	];
	for (const s of rows) {
		const amount = (v: number) => amountText(v, s.measure);
		const bytes = (v: number) => amountText(v, 'bytes');
		lines.push(
			`| ${variant(s.variant).label} | ${s.runs} | ${spreadText(s.amount, amount)} | ${ratioText(s.vsCriu)} | ${ratioText(s.vsNone)} | ${spreadText(s.sinceAsked, amount)} | ${ratioText(s.sinceAskedVsCriu)} | ` +
				`${spreadText(s.downtime, secondsText)} | ${spreadText(s.recovery, secondsText)} | ${spreadText(s.secondsLost, secondsText)} | ${spreadText(s.prefetchedNeverRead, bytes)} |`,
		);
	}
	return lines;
}
