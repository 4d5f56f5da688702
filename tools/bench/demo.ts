// `npm run demo`'s pieces: the reference workload moved once with CRIU alone and once with
// criu-hotcache's default (`--warm precopy`), beside a run without migration (the yardstick for
// "back to full speed" and "seconds lost"), and the short table it prints. Data is counted from the
// request on, the same span for every line: precopy freezes later, after warming the destination.
import type { BenchResult } from './bench.js';
import { FULL, type BenchSettings } from './settings.js';
import { variant, type VariantId } from './variants.js';
import { amountText, secondsText } from './report/format.js';

/** CRIU alone against the default of `hotcache migrate`. */
export const DEMO_COMPARED: VariantId[] = ['off', 'precopy'];

export const DEMO: BenchSettings = {
	...FULL,
	workloads: ['reread'],
	variants: ['none', ...DEMO_COMPARED],
	runs: 1,
	otherRuns: 1,
	durationS: 30,
	migrateAtS: 5,
};

/** The demo's table: no migration (the yardstick), then one line per compared variant. */
export function demoTable(r: BenchResult): string {
	const head = ['', 'downtime', 'read after the request', 'back to full speed', 'seconds lost'];
	const rows = ['none' as const, ...DEMO_COMPARED].map((v) => {
		const run = r.runs.find((x) => x.workload === 'reread' && x.variant === v);
		if (!run) return [variant(v).label, 'not run', '', '', ''];
		const m = run.metrics;
		const s = (x: number | null) => (x === null ? '-' : secondsText(x));
		return [variant(v).label, s(m.downtime), amountText(m.sinceAsked, 'bytes'), s(m.recovery), s(m.secondsLost)];
	});
	const table = [head, ...rows];
	const widths = head.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
	return table.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n') + '\n';
}
