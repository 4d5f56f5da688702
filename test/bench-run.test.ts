// The benchmark end to end with real data, small: the same-host stand-in runs real CRIU in the test
// environment over a throttled link, for the reference workload and SQLite; every run yields a
// timeline and its metrics, the reports are written, and nothing is left behind. A smoke test: no
// assertion on any number's size beyond "the process made progress".
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { projectRoot } from '../tools/project.js';
import { skipReason } from '../tools/testenv/index.js';
import { runBench } from '../tools/bench/bench.js';
import { whyNoBlkio } from '../tools/bench/blkio-link.js';
import { writeReports } from '../tools/bench/report/write.js';
import { SameHostRunner } from '../tools/bench/same-host.js';
import { QUICK, type BenchSettings } from '../tools/bench/settings.js';
import { scratchDir, testUnless } from './support.js';

const run = suite('bench: end to end on one host');
const MiB = 2 ** 20;

function why(): string | null {
	const env = skipReason();
	if (env) return env;
	const blkio = whyNoBlkio();
	if (blkio) return blkio;
	return existsSync(path.join(projectRoot, 'criu-plugin/out/hotcache.so')) ? null : 'the plugin is not built (npm ci builds it)';
}

const mine = (dir: string) => readdirSync(dir).filter((n) => n.startsWith(`hotcache-bench-${process.pid}-`));

testUnless(why(), run, 'the quick benchmark, small: every runnable variant of reread and SQLite gives a timeline, metrics and reports', async () => {
	const settings: BenchSettings = {
		...QUICK,
		workloads: ['reread', 'sqlite'],
		variants: ['none', 'off', 'reference', 'restore', 'precopy'],
		durationS: 4,
		migrateAtS: 1.5,
		fileBytes: 16 * MiB,
		sqliteBytes: 8 * MiB,
	};
	const progress = { isTTY: false, write: (_: string) => true } as unknown as NodeJS.WriteStream;
	const result = await runBench(settings, new SameHostRunner(settings), { display: progress });
	assert.equal(result.failures, [], JSON.stringify(result.failures, null, 1));
	assert.equal(result.skipped.map((s) => s.variant), ['precopy']);
	assert.match(result.skipped[0]!.reason, /hotcache migrate \(issue10\)/);
	assert.is(result.runs.length, 8);
	for (const r of result.runs) {
		const label = `${r.workload}/${r.variant}`;
		assert.ok(r.timeline.length >= 30, `${label}: ${r.timeline.length} samples`);
		assert.ok(r.metrics.amount > 0, `${label}: no progress`);
		if (r.variant === 'none') {
			assert.is(r.freeze, null);
			continue;
		}
		assert.ok(r.freeze !== null && r.resume !== null && r.freeze > 1 && r.resume > r.freeze, `${label}: freeze ${r.freeze}, resume ${r.resume}`);
		assert.ok(r.metrics.afterResume! > 0, `${label}: the restored process made no progress`);
		assert.ok(r.imageBytes! > 0, `${label}: no image bytes`);
		assert.ok(r.metrics.secondsLost !== null && r.metrics.recovery !== null, `${label}: judged against no migration`);
	}
	const reference = result.runs.find((r) => r.workload === 'reread' && r.variant === 'reference')!;
	assert.ok(reference.prefetchedSpans !== null, 'the reference prefetcher ran and said what it read');
	assert.is(result.runs.find((r) => r.workload === 'reread' && r.variant === 'off')!.metrics.prefetchedNeverRead, 0);
	assert.is(result.summaries.length, 8);

	const dir = scratchDir('bench-run').dir;
	try {
		const files = (await writeReports(result, dir)).map((f) => path.basename(f));
		for (const w of ['reread', 'sqlite']) for (const f of [`timeline-${w}.png`, `histogram-${w}.svg`]) assert.ok(files.includes(f), f);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	assert.equal(mine('/var/tmp'), [], 'scratch directory removed');
	assert.equal(mine('/sys/fs/cgroup/blkio'), [], 'blkio group removed');
});

run('hotcache bench refuses settings that cannot work, with its usage', () => {
	const r = spawnSync(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'bench', '--quick', '--duration', '5', '--migrate-at', '6'], { encoding: 'utf8' });
	assert.is(r.status, 2, r.stderr);
	assert.match(r.stderr, /migration \(at 6 s\) must fall inside the run \(5 s\)/);
	assert.match(r.stderr, /usage: hotcache bench/);
	const bad = spawnSync(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'bench', '--variants', 'sideways', '--json'], { encoding: 'utf8' });
	assert.is(bad.status, 2);
	assert.match(JSON.parse(bad.stdout).error.message, /unknown variant 'sideways'/);
});

testUnless(process.getuid?.() === 0 ? null : 'needs root (the benchmark checks for it first)', run, 'npm run demo says it waits for hotcache migrate, and leaves nothing behind', () => {
	const r = spawnSync(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'bench', '--demo', '--json'], { encoding: 'utf8' });
	assert.is(r.status, 1, r.stderr);
	const error = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
	assert.is(error.code, 'needs-migrate');
	assert.match(error.message, /--warm precopy|hotcache migrate \(issue10\)/);
	assert.equal(readdirSync('/var/tmp').filter((n) => n.startsWith(`hotcache-bench-${r.pid}-`)), []);
});

run.run();
