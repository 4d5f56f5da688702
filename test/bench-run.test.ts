// The benchmark end to end with real data, small: `hotcache bench --quick` moves every workload with
// every variant between the two emulated hosts with real CRIU and `hotcache migrate`, and `npm run
// demo` does its own set-up and prints its table and its plot. Smoke tests: no assertion on any
// number's size beyond "the process made progress"; what each variant did is checked by its shape
// (where its prefetch started, what it read), and nothing may be left behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../tools/project.js';
import { processAlive } from '../tools/process-alive.js';
import { skipReason } from '../tools/testenv/index.js';
import type { BenchResult } from '../tools/bench/bench.js';
import { scratchDir, testUnless } from './support.js';

const run = suite('bench: end to end between the emulated hosts');
const hotcache = path.join(projectRoot, 'tools/hotcache.js');
/**
 * Small files and a short window: a smoke test. Long enough after the request for the moved process to
 * run a while even when precopy (which freezes only once the agent is up and the destination warm, about
 * 3 s here) meets a loaded machine: `hotcache migrate` alone took 3.4 s to start at a load of 12.
 */
const SMALL = ['--file-size', '16m', '--anon-size', '32m', '--web-files', '300', '--web-max', '16k', '--sqlite-size', '8m', '--duration', '10', '--migrate-at', '2'];

function why(): string | null {
	return skipReason() ?? (existsSync(path.join(projectRoot, 'criu-plugin/out/hotcache.so')) ? null : 'the plugin is not built (npm ci builds it)');
}

/** Scratch directories and blkio groups of benchmarks, named hotcache-bench-PID-..., whose process has ended. */
function benchLeftovers(): string[] {
	const dead = (dir: string) =>
		existsSync(dir) ? readdirSync(dir).filter((n) => { const pid = /^hotcache-bench-(\d+)-/.exec(n)?.[1]; return pid !== undefined && !processAlive(Number(pid)); }).map((n) => path.join(dir, n)) : [];
	return [...dead('/var/tmp'), ...dead('/sys/fs/cgroup/blkio')];
}

/** What a benchmark started by `fn` left behind (ignoring what others left before it). */
function leftBehindBy<T>(fn: () => T): { value: T; left: string[] } {
	const before = new Set(benchLeftovers());
	const value = fn();
	return { value, left: benchLeftovers().filter((p) => !before.has(p)) };
}

testUnless(why(), run, 'the quick benchmark, small: every workload with every variant moves for real, and gives a timeline, metrics and reports', () => {
	const out = scratchDir('bench-quick').dir;
	try {
		const { value: r, left } = leftBehindBy(() => spawnSync(process.execPath, [hotcache, 'bench', '--quick', ...SMALL, '--out', out, '--json'], { encoding: 'utf8', timeout: 1_500_000 }));
		assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
		const printed = JSON.parse(r.stdout) as { files: string[]; failures: unknown[] };
		assert.equal(printed.failures, []);
		const result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as BenchResult;
		assert.equal(result.skipped.map((s) => `${s.workload}/${s.variant}`), ['reread/oracle', 'reread-anon/oracle', 'sqlite/oracle']);
		assert.is(result.runs.length, 5 * 7 + 2);
		for (const x of result.runs) {
			const label = `${x.workload}/${x.variant}`;
			assert.ok(x.timeline.length >= 30, `${label}: ${x.timeline.length} samples`);
			assert.ok(x.metrics.amount > 0, `${label}: no progress`);
			if (x.variant === 'none') {
				assert.is(x.freeze, null);
				continue;
			}
			const m = x.migration!;
			assert.is(m.outcome, 'moved', label);
			assert.ok(x.freeze !== null && x.resume !== null && x.resume > x.freeze && x.freeze > 1, `${label}: freeze ${x.freeze}, resume ${x.resume}`);
			assert.ok(x.metrics.afterResume! > 0, `${label}: the moved process made no progress`);
			assert.ok(x.imageBytes! > 0, `${label}: no images`);
			assert.ok(x.metrics.secondsLost !== null && x.metrics.recovery !== null, `${label}: judged against no migration`);
			const expected = { off: 'off', resident: 'off', reference: 'off', oracle: 'off', restore: 'restore', freeze: 'freeze', precopy: 'precopy' }[x.variant];
			assert.is(m.warm, expected, `${label}: moved with --warm ${m.warm}`);
			// Where each prefetch started: hotcache's from the summary, the outside ones by what they read.
			if (x.variant === 'precopy') assert.ok(m.prefetchStartVsFreezeMs! < 0, `${label}: precopy's prefetch started ${m.prefetchStartVsFreezeMs} ms after the freeze`);
			if (x.variant === 'freeze') assert.ok(m.prefetchStartVsFreezeMs! >= 0, `${label}: ${m.prefetchStartVsFreezeMs}`);
			// The web server holds none of its files open between requests: a capture of the process lists
			// (next to) nothing for it, so there only the oracle, which knows the files, is sure to read.
			const listed = x.workload !== 'webtree' || x.variant === 'oracle';
			if (['resident', 'reference', 'oracle'].includes(x.variant) && listed) assert.ok(x.prefetchedSpans! > 0, `${label}: the outside prefetcher read nothing`);
			if (x.variant === 'off') assert.is(m.warmUp.prefetchers.length, 0, `${label}: CRIU alone prefetched`);
		}
		const reread = (v: string) => result.runs.find((x) => x.workload === 'reread' && x.variant === v)!;
		assert.ok(reread('precopy').migration!.plan.residentAtResume! > 0, 'precopy: the hot pages were resident at the resume');
		assert.ok(reread('precopy').metrics.prefetchedNeverRead !== null, 'precopy: prefetched and never read is measured');
		assert.is(reread('off').metrics.prefetchedNeverRead, 0);
		assert.is(result.summaries.length, 5 * 7 + 2);
		const names = readdirSync(out);
		for (const w of ['reread', 'scatter', 'reread-anon', 'webtree', 'sqlite']) for (const f of [`timeline-${w}.png`, `timeline-${w}.svg`, `histogram-${w}.png`]) assert.ok(names.includes(f), f);
		for (const f of ['runs.csv', 'summary.csv', 'timelines.csv', 'summary.md']) assert.ok(names.includes(f), f);
		assert.equal(left, [], 'scratch directory and blkio group removed');
	} finally {
		rmSync(out, { recursive: true, force: true });
	}
});

run('hotcache bench refuses settings that cannot work, with its usage', () => {
	const r = spawnSync(process.execPath, [hotcache, 'bench', '--quick', '--duration', '5', '--migrate-at', '6'], { encoding: 'utf8' });
	assert.is(r.status, 2, r.stderr);
	assert.match(r.stderr, /migration \(at 6 s\) must fall inside the run \(5 s\)/);
	assert.match(r.stderr, /usage: hotcache bench/);
	const bad = spawnSync(process.execPath, [hotcache, 'bench', '--variants', 'sideways', '--json'], { encoding: 'utf8' });
	assert.is(bad.status, 2);
	assert.match(JSON.parse(bad.stdout).error.message, /unknown variant 'sideways'/);
});

testUnless(why(), run, 'npm run demo: CRIU alone and --warm precopy side by side, its table and a PNG timeline, nothing left behind', () => {
	const out = scratchDir('bench-demo').dir;
	try {
		const { value: r, left } = leftBehindBy(() => spawnSync('npm', ['run', '--silent', 'demo', '--', ...SMALL, '--out', out], { cwd: projectRoot, encoding: 'utf8', timeout: 600_000 }));
		assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
		const lines = r.stdout.trim().split('\n');
		const amount = String.raw`\d+(\.\d)? [kMG]B`;
		const seconds = String.raw`(\d+\.\d+ s|> window)`;
		assert.match(lines[0]!, /downtime +read after the request +back to full speed +seconds lost/);
		assert.match(lines[1]!, new RegExp(`^no migration +- +${amount} +- +-?\\d+\\.\\d+ s$`));
		assert.match(lines[2]!, new RegExp(`^CRIU alone +\\d+\\.\\d+ s +${amount} +${seconds} +-?\\d+\\.\\d+ s$`));
		assert.match(lines[3]!, new RegExp(`^--warm precopy +\\d+\\.\\d+ s +${amount} +${seconds} +-?\\d+\\.\\d+ s$`));
		const png = /^timeline: (\S+\.png)$/.exec(lines[4] ?? '')?.[1];
		assert.ok(png && readFileSync(png).subarray(1, 4).toString() === 'PNG', `a PNG at ${png}`);
		const result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as BenchResult;
		assert.equal(result.runs.map((x) => x.variant).sort(), ['none', 'off', 'precopy']);
		assert.equal(left, []);
	} finally {
		rmSync(out, { recursive: true, force: true });
	}
});

run.run();
