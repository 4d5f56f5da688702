// `hotcache bench`: the benchmark (tools/bench/). Its settings, the variants that could not run and
// why, and the results go to one directory; the summary table is printed. What runs the benchmark and
// draws its plots (vega, resvg) is loaded only here, so that every other command starts without it.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, UsageError, type Command } from '../command.js';
import { DEMO, DEMO_COMPARED, demoTable } from '../../bench/demo.js';
import { markdownReport } from '../../bench/report/markdown.js';
import { checkSettings, FULL, QUICK, type BenchSettings } from '../../bench/settings.js';
import { parseVariants } from '../../bench/variants.js';
import { parseWorkloads } from '../../bench/workloads.js';

const USAGE =
	'hotcache bench [--quick | --demo] [--out DIR] [--json] [--workloads LIST] [--variants LIST] [--runs N] [--other-runs N]\n' +
	'               [--duration S] [--migrate-at S] [--file-size SIZE] [--anon-size SIZE] [--web-files N] [--web-max SIZE]\n' +
	'               [--sqlite-size SIZE] [--link-mbps MB/s] [--link-iops N] [--migration-mbps MB/s]';

function size(text: string, flag: string): number {
	const m = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text);
	if (!m) throw new UsageError(`${flag} ${text}: not a size like 512m or 1g`);
	return Math.round(Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()));
}

function number(text: string, flag: string): number {
	const n = Number(text);
	if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} ${text}: not a number`);
	return n;
}

function integer(text: string, flag: string): number {
	const n = number(text, flag);
	if (!Number.isInteger(n)) throw new UsageError(`${flag} ${text}: not a whole number`);
	return n;
}

export const benchCommand: Command = {
	name: 'bench',
	summary: 'benchmark migrations: data read, downtime, time back to full speed, per variant',
	usage: USAGE,
	async run(args) {
		const { values: o } = parseArgs({
			args,
			strict: true,
			options: {
				quick: { type: 'boolean' },
				demo: { type: 'boolean' },
				json: { type: 'boolean' },
				out: { type: 'string' },
				workloads: { type: 'string' },
				variants: { type: 'string' },
				runs: { type: 'string' },
				'other-runs': { type: 'string' },
				duration: { type: 'string' },
				'migrate-at': { type: 'string' },
				'file-size': { type: 'string' },
				'anon-size': { type: 'string' },
				'web-files': { type: 'string' },
				'web-max': { type: 'string' },
				'sqlite-size': { type: 'string' },
				'link-mbps': { type: 'string' },
				'link-iops': { type: 'string' },
				'migration-mbps': { type: 'string' },
			},
		});
		if (o.quick && o.demo) throw new UsageError('--quick and --demo are two different runs: give one');
		const s: BenchSettings = { ...(o.demo ? DEMO : o.quick ? QUICK : FULL) };
		try {
			if (o.workloads !== undefined) s.workloads = parseWorkloads(o.workloads);
			if (o.variants !== undefined) s.variants = parseVariants(o.variants);
		} catch (err) {
			throw new UsageError((err as Error).message);
		}
		if (o.runs !== undefined) s.runs = integer(o.runs, '--runs');
		if (o['other-runs'] !== undefined) s.otherRuns = integer(o['other-runs'], '--other-runs');
		if (o.duration !== undefined) s.durationS = number(o.duration, '--duration');
		if (o['migrate-at'] !== undefined) s.migrateAtS = number(o['migrate-at'], '--migrate-at');
		if (o['file-size'] !== undefined) s.fileBytes = size(o['file-size'], '--file-size');
		if (o['anon-size'] !== undefined) s.anonBytes = size(o['anon-size'], '--anon-size');
		if (o['web-files'] !== undefined) s.webFiles = integer(o['web-files'], '--web-files');
		if (o['web-max'] !== undefined) s.webMaxBytes = size(o['web-max'], '--web-max');
		if (o['sqlite-size'] !== undefined) s.sqliteBytes = size(o['sqlite-size'], '--sqlite-size');
		if (o['link-mbps'] !== undefined) s.linkBps = number(o['link-mbps'], '--link-mbps') * 1e6;
		if (o['link-iops'] !== undefined) s.linkIops = integer(o['link-iops'], '--link-iops');
		if (o['migration-mbps'] !== undefined) s.migrationBps = number(o['migration-mbps'], '--migration-mbps') * 1e6;
		try {
			checkSettings(s);
		} catch (err) {
			throw new UsageError((err as Error).message);
		}
		if (process.getuid?.() !== 0) throw new CliError('not-root', 'the benchmark needs root: namespaces, mounts, blkio cgroups and CRIU');

		const out = path.resolve(o.out ?? path.join('/var/tmp/hotcache-bench-results', new Date().toISOString().replace(/[:.]/g, '-')));
		const { runBench } = await import('../../bench/bench.js');
		const { writePlot, writeReports } = await import('../../bench/report/write.js');
		const { timelineSpec } = await import('../../bench/report/plots.js');
		const result = await runBench(s);
		const files = await writeReports(result, out);
		// The demo's own plot: its two moves beside the run without migration.
		if (o.demo) files.push(...(await writePlot(out, 'demo-timeline', timelineSpec(result, 'reread', ['none', ...DEMO_COMPARED]))));
		if (o.json) {
			const { settingsText, skipped, failures, summaries } = result;
			process.stdout.write(JSON.stringify({ out, files, settingsText, skipped, failures, summaries }, (_k, v: unknown) => (v === Infinity ? 'inf' : v)) + '\n');
		} else {
			process.stdout.write(o.demo ? demoTable(result) + `timeline: ${files[files.length - 1]}\n` : markdownReport(result));
			process.stderr.write(`results in ${out}\n`);
		}
		return result.failures.length ? 1 : 0;
	},
};
