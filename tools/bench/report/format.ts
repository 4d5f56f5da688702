// Numbers as people read them in the tables: decimal units like the seed study's "GB".
import type { Spread } from '../stats.js';
import type { Measure } from '../timeline.js';

export function amountText(value: number, measure: Measure): string {
	if (!Number.isFinite(value)) return 'n/a';
	if (measure === 'ops') return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(0);
	if (Math.abs(value) >= 1e9) return `${(value / 1e9).toFixed(1)} GB`;
	if (Math.abs(value) >= 1e6) return `${(value / 1e6).toFixed(0)} MB`;
	return `${(value / 1e3).toFixed(0)} kB`;
}

export function secondsText(value: number): string {
	if (value === Infinity) return '> window';
	return Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} s` : 'n/a';
}

/** "median (mean, sd)" of a spread, each value shown by `show`. */
export function spreadText(s: Spread | null, show: (v: number) => string): string {
	if (!s) return '–';
	if (s.n === 1) return show(s.median);
	return `${show(s.median)} (mean ${show(s.mean)}, sd ${Number.isFinite(s.stddev) ? show(s.stddev) : 'n/a'})`;
}

export function ratioText(r: number | null): string {
	return r === null || !Number.isFinite(r) ? '–' : `${r.toFixed(2)}x`;
}

/** Units of a workload's measure, for titles and axes. */
export function unitName(measure: Measure): { amount: string; rate: string; scale: number } {
	return measure === 'bytes' ? { amount: 'GB read', rate: 'MB/s', scale: 1e6 } : { amount: 'lookups', rate: 'lookups/s', scale: 1 };
}
