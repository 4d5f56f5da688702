// The benchmark's pure pieces on known inputs: timelines, statistics, metrics, summaries, the run
// plan, the progress line, and the tables (Markdown, CSV) made from a known result.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { amountAt, amountBetween, checkTimeline, rates, timelineFromEvents, type Timeline } from '../tools/bench/timeline.js';
import { median, spread } from '../tools/bench/stats.js';
import { neverReadBytes, recoveryTime, reference, runMetrics } from '../tools/bench/metrics.js';
import { summarize } from '../tools/bench/summary.js';
import { runPlan } from '../tools/bench/plan.js';
import { progressLine, formatDuration } from '../tools/bench/progress-display.js';
import { QUICK, checkSettings, type BenchSettings } from '../tools/bench/settings.js';
import { toTimeline } from '../tools/bench/sampler.js';
import { runsCsv, summaryCsv, timelinesCsv } from '../tools/bench/report/csv.js';
import { markdownReport } from '../tools/bench/report/markdown.js';
import { resultJson } from '../tools/bench/report/write.js';
import { demoTable } from '../tools/bench/demo.js';
import { sqlite } from '../tools/bench/sqlite.js';
import { knownResult, migratedTimeline, MB } from './bench-support.js';

const close = (actual: number, expected: number, what: string, eps = 1e-6) =>
	assert.ok(Math.abs(actual - expected) <= eps * Math.max(1, Math.abs(expected)), `${what}: ${actual}, expected ${expected}`);

const t = suite('bench: timeline, statistics, metrics');

t('a timeline gives the amount at any time, linear between samples and flat outside them', () => {
	const tl: Timeline = [
		{ t: 1, bytes: 100, ops: 1 },
		{ t: 2, bytes: 300, ops: 3 },
	];
	assert.is(amountAt(tl, 0, 'bytes'), 100);
	assert.is(amountAt(tl, 1.5, 'bytes'), 200);
	assert.is(amountAt(tl, 1.25, 'ops'), 1.5);
	assert.is(amountAt(tl, 9, 'bytes'), 300);
	assert.is(amountBetween(tl, 1, 2, 'bytes'), 200);
	assert.equal(rates(tl, 'bytes'), [{ t: 2, perSecond: 200 }]);
	assert.throws(() => checkTimeline([tl[1]!, tl[0]!]), /not after/);
	assert.throws(() => checkTimeline([{ t: 0, bytes: 5, ops: 0 }, { t: 1, bytes: 4, ops: 0 }]), /go down/);
});

t('events an application stamped itself become a 100 ms timeline', () => {
	const tl = timelineFromEvents([0.05, 0.15, 0.15, 0.31, 9], 0, 0.4, 0.1, 100);
	assert.equal(tl.map((s) => s.ops), [0, 100, 300, 300, 400]);
	close(tl[4]!.t, 0.4, 'last sample');
});

t('raw samples become seconds since the start; samples at one instant merge', () => {
	const tl = toTimeline([{ at: 1000, bytes: 0, ops: 0 }, { at: 1100, bytes: 5, ops: 1 }, { at: 1100, bytes: 7, ops: 2 }, { at: 1250, bytes: 9, ops: 3 }], 1000);
	assert.equal(tl, [{ t: 0, bytes: 0, ops: 0 }, { t: 0.1, bytes: 7, ops: 2 }, { t: 0.25, bytes: 9, ops: 3 }]);
});

t('statistics: median, mean, sample standard deviation, quartiles; Infinity sorts last', () => {
	const s = spread([4, 1, 3, 2]);
	assert.is(s.n, 4);
	assert.is(s.median, 2.5);
	assert.is(s.mean, 2.5);
	close(s.stddev, Math.sqrt(5 / 3), 'stddev');
	assert.is(s.q1, 1.75);
	assert.is(s.q3, 3.25);
	assert.is(s.min, 1);
	assert.is(s.max, 4);
	assert.is(median([1, Infinity, 3]), 3);
	assert.is(spread([7]).stddev, 0);
});

t('metrics of a migrated run against no migration: amount, downtime, back to 90%, seconds lost', () => {
	// 100 MB/s, frozen from 4 s to 5 s, 20 MB/s until 6 s, 100 MB/s again; no migration reads 1000 MB in 10 s.
	const tl = migratedTimeline();
	const ref = reference([900 * MB, 1000 * MB, 1100 * MB], 10)!;
	assert.is(ref.amount, 1000 * MB);
	assert.is(ref.perSecond, 100 * MB);
	const m = runMetrics({ timeline: tl, measure: 'bytes', window: { from: 0, to: 10 }, askedAt: 3, freeze: 4, resume: 5, prefetchedNeverRead: 12 }, ref);
	close(m.amount, 820 * MB, 'amount');
	close(m.sinceAsked, 520 * MB, 'since asked');
	close(m.afterResume!, 420 * MB, 'after resume');
	close(m.downtime!, 1, 'downtime');
	close(m.recovery!, 1, 'back to 90%');
	close(m.secondsLost!, 1.8, 'seconds lost');
	assert.is(m.prefetchedNeverRead, 12);
});

t('a run that never gets back to 90% in the window: Infinity; no migration: no downtime, nothing lost', () => {
	const slow: Timeline = Array.from({ length: 101 }, (_, i) => ({ t: i / 10, bytes: (i / 10) * 50 * MB, ops: 0 }));
	assert.is(recoveryTime(slow, 'bytes', 2, 10, 100 * MB), Infinity);
	const flat: Timeline = Array.from({ length: 101 }, (_, i) => ({ t: i / 10, bytes: (i / 10) * 100 * MB, ops: 0 }));
	const m = runMetrics({ timeline: flat, measure: 'bytes', window: { from: 0, to: 10 }, askedAt: 3, freeze: null, resume: null, prefetchedNeverRead: 0 }, reference([1000 * MB], 10));
	close(m.sinceAsked, 700 * MB, 'since asked, without migration');
	assert.is(m.downtime, null);
	assert.is(m.recovery, null);
	assert.is(m.afterResume, null);
	close(m.secondsLost!, 0, 'seconds lost');
	assert.is(recoveryTime(flat, 'bytes', 3, 10, 100 * MB), 0, 'full speed at once');
	assert.is(reference([], 10), null);
});

t('prefetched and never read: each page once, untracked pages left out', () => {
	const read = (path: string, page: number): boolean | null => (path === '/d/file' ? page < 10 : null);
	const spans = [
		{ path: '/d/file', start: 5, count: 10 }, // 10..14 never read: 5 pages
		{ path: '/d/file', start: 12, count: 4 }, // 15 new and never read: 1 more
		{ path: '/bin/prog', start: 0, count: 100 }, // untracked
	];
	assert.is(neverReadBytes(spans, read, 4096), 6 * 4096);
});

const p = suite('bench: plan, progress, summaries, tables');

p('the plan interleaves the variants run by run and rotates their order', () => {
	const s: BenchSettings = { ...QUICK, workloads: ['reread', 'scatter'], variants: ['none', 'off', 'freeze'], runs: 3, otherRuns: 1 };
	const plan = runPlan(s);
	assert.equal(plan.slice(0, 6).map((r) => `${r.workload}:${r.variant}:${r.index}`), ['reread:none:0', 'reread:off:0', 'reread:freeze:0', 'scatter:none:0', 'scatter:off:0', 'scatter:freeze:0']);
	assert.equal(plan.slice(6, 9).map((r) => r.variant), ['off', 'freeze', 'none']);
	assert.is(plan.length, 3 * 3 + 3);
	for (const v of ['none', 'off', 'freeze']) assert.is(plan.filter((r) => r.workload === 'reread' && r.variant === v).length, 3);
});

p('settings that cannot work are refused with the reason', () => {
	assert.throws(() => checkSettings({ ...QUICK, migrateAtS: 9, durationS: 8 }), /inside the run/);
	assert.throws(() => checkSettings({ ...QUICK, runs: 0 }), /at least 1/);
	assert.throws(() => checkSettings({ ...QUICK, variants: [] }), /no variant/);
});

p('the progress line: runs done, the current run, the time left from the mean run so far', () => {
	assert.is(progressLine({ done: 2, total: 10, current: 'reread / CRIU alone, run 2', runSeconds: [10, 20] }), '[ 2/10] reread / CRIU alone, run 2 · about 2 min 00 s left');
	assert.match(progressLine({ done: 0, total: 3, current: 'x', runSeconds: [] }), /after the first run/);
	assert.match(progressLine({ done: 3, total: 3, current: 'x', runSeconds: [1, 1, 1] }), /done$/);
	assert.is(formatDuration(3725), '1 h 02 min');
});

p('summaries: spreads per variant and the medians against CRIU alone and no migration', () => {
	const m = (amount: number) => ({ amount, sinceAsked: amount / 2, afterResume: null, downtime: 1, recovery: Infinity, secondsLost: 2, prefetchedNeverRead: null });
	const runs = [
		...[10, 12, 11].map((a) => ({ workload: 'reread' as const, variant: 'off' as const, measure: 'bytes' as const, metrics: m(a) })),
		...[30, 36].map((a) => ({ workload: 'reread' as const, variant: 'freeze' as const, measure: 'bytes' as const, metrics: m(a) })),
		{ workload: 'reread' as const, variant: 'none' as const, measure: 'bytes' as const, metrics: m(100) },
	];
	const sums = summarize(runs, ['reread'], ['none', 'off', 'precopy', 'freeze']);
	assert.equal(sums.map((s) => s.variant), ['none', 'off', 'freeze'], 'variants without runs left out, order kept');
	const freeze = sums.find((s) => s.variant === 'freeze')!;
	assert.is(freeze.amount.median, 33);
	assert.is(freeze.vsCriu, 3);
	assert.is(freeze.vsNone, 0.33);
	assert.is(freeze.sinceAskedVsCriu, 3);
	assert.is(freeze.recovery!.median, Infinity);
	assert.is(freeze.prefetchedNeverRead, null);
});

p('a known result: judged against its runs without migration, and written as JSON, CSV and Markdown', () => {
	const r = knownResult();
	const reread = r.summaries.filter((s) => s.workload === 'reread');
	assert.equal(reread.map((s) => s.variant), ['none', 'off', 'freeze']);
	const off = reread.find((s) => s.variant === 'off')!;
	close(off.amount.median, 820 * MB, 'CRIU alone median');
	close(off.vsNone!, 0.82, 'vs no migration');
	close(off.secondsLost!.median, 1.8, 'seconds lost');

	const json = JSON.parse(resultJson(r)) as { runs: { metrics: { recovery: unknown } }[] };
	assert.ok(json.runs.some((x) => x.metrics.recovery === 'inf'), 'Infinity written as "inf"');
	const runs = runsCsv(r).trim().split('\n');
	assert.is(runs.length, 1 + r.runs.length);
	assert.match(runs[0]!, /^workload,variant,run,runner,measure,amount,/);
	assert.ok(runs.some((l) => l.includes(',inf,')), 'Infinity as inf in CSV');
	assert.is(summaryCsv(r).trim().split('\n').length, 1 + r.summaries.length);
	assert.is(timelinesCsv(r).trim().split('\n').length, 1 + r.runs.reduce((n, x) => n + x.timeline.length, 0));
	const md = markdownReport(r);
	assert.match(md, /\| variant \| runs \| data read \| vs CRIU alone \| vs no migration \| since the request \| vs CRIU alone \| downtime \| back to 90% \| seconds lost \| prefetched, never read \|/);
	// From the request (4 s) on: nothing while frozen, 20 MB until 6 s, 400 MB after; 600 MB without migration.
	assert.match(md, /\| CRIU alone \| 2 \| 820 MB \(mean 820 MB, sd 0 kB\) \| 1\.00x \| 0\.82x \| 420 MB \(mean 420 MB, sd 0 kB\) \| 1\.00x \| 1\.00 s/);
	assert.match(md, /\| no migration \| 2 \| 1\.0 GB \(mean 1\.0 GB, sd 0 kB\) \| 1\.22x \| 1\.00x \| 600 MB \(mean 600 MB, sd 0 kB\) \| 1\.43x \|/);
	assert.match(md, /- reread \/ oracle, at restore: reread has no hot set known page by page/);
	assert.match(md, /storage link per host: 117\.0 MB\/s/);
});

p('the demo table: downtime, data read from the request on, back to full speed, seconds lost; no migration first', () => {
	const table = demoTable(knownResult()).split('\n');
	assert.match(table[0]!, /downtime\s+read after the request\s+back to full speed\s+seconds lost/);
	assert.match(table[1]!, /^no migration\s+-\s+600 MB\s+-\s+0\.00 s$/);
	assert.match(table[2]!, /^CRIU alone\s+1\.00 s\s+420 MB\s+1\.00 s\s+1\.80 s$/);
	assert.match(table[3]!, /^--warm precopy\s+not run/);
});

p('the SQLite shell\'s own time stamps are read from its output', () => {
	assert.equal(sqlite.stamps('1796160871164.99|99\n1796160871165.5|100\ngarbage\n\n'), [1796160871164.99, 1796160871165.5]);
	const q = sqlite.queries('/r/queries.sql', 1000).split('\n');
	assert.is(q.length, 20000 + 2);
	assert.match(q[0]!, /^SELECT \(julianday\('now'\) .* % 250 .* % 1000 END \+ 1 FROM generate_series\(1, 100\)\);$/);
	assert.is(q[20000], '.read /r/queries.sql');
});

t.run();
p.run();
