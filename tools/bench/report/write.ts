// Writes every output of a benchmark into one directory: result.json, runs.csv, summary.csv,
// timelines.csv, summary.md, and per workload the timeline and histogram plots in SVG and PNG.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResult } from '../bench.js';
import { runsCsv, summaryCsv, timelinesCsv } from './csv.js';
import { markdownReport } from './markdown.js';
import { histogramSpec, timelineSpec } from './plots.js';
import { toPng, toSvg } from './render.js';
import type { TopLevelSpec } from 'vega-lite';

/** JSON has no Infinity: "never back to full speed" is written as the string "inf". */
export function resultJson(r: BenchResult): string {
	return JSON.stringify(r, (_key, v: unknown) => (v === Infinity ? 'inf' : v), 1) + '\n';
}

/** Writes `name`.svg and `name`.png into `dir`; returns their paths (the PNG last). */
export async function writePlot(dir: string, name: string, spec: TopLevelSpec): Promise<string[]> {
	const svg = await toSvg(spec);
	writeFileSync(path.join(dir, `${name}.svg`), svg);
	writeFileSync(path.join(dir, `${name}.png`), toPng(svg));
	return [path.join(dir, `${name}.svg`), path.join(dir, `${name}.png`)];
}

/** Returns the files written. */
export async function writeReports(r: BenchResult, dir: string): Promise<string[]> {
	mkdirSync(dir, { recursive: true });
	const files: string[] = [];
	const write = (name: string, text: string) => {
		writeFileSync(path.join(dir, name), text);
		files.push(path.join(dir, name));
	};
	write('result.json', resultJson(r));
	write('runs.csv', runsCsv(r));
	write('summary.csv', summaryCsv(r));
	write('timelines.csv', timelinesCsv(r));
	write('summary.md', markdownReport(r));
	for (const w of r.settings.workloads) {
		if (!r.runs.some((x) => x.workload === w)) continue;
		files.push(...(await writePlot(dir, `timeline-${w}`, timelineSpec(r, w))));
		files.push(...(await writePlot(dir, `histogram-${w}`, histogramSpec(r, w))));
	}
	return files;
}
