// Known inputs for the benchmark's tests: a timeline of a known shape, and a result judged from
// records made of such timelines.
import { judge, type BenchResult } from '../tools/bench/bench.js';
import type { RunRecord } from '../tools/bench/runner.js';
import { QUICK } from '../tools/bench/settings.js';
import type { Timeline } from '../tools/bench/timeline.js';

export const MB = 1e6;

/** 100 MB/s, frozen from 4 s to 5 s, 20 MB/s until 6 s, then 100 MB/s: 820 MB in 10 s. */
export function migratedTimeline(): Timeline {
	const rate = (t: number) => (t < 4 ? 100 : t < 5 ? 0 : t < 6 ? 20 : 100);
	const tl: Timeline = [{ t: 0, bytes: 0, ops: 0 }];
	for (let i = 1; i <= 100; i++) tl.push({ t: i / 10, bytes: tl[i - 1]!.bytes + rate((i - 1) / 10) * 0.1 * MB, ops: i });
	return tl;
}

function steady(mbps: number): Timeline {
	return Array.from({ length: 101 }, (_, i) => ({ t: i / 10, bytes: (i / 10) * mbps * MB, ops: i }));
}

function record(variant: RunRecord['variant'], index: number, timeline: Timeline, migrated: boolean): RunRecord {
	return {
		workload: 'reread',
		variant,
		index,
		runner: 'known inputs',
		startedAtMs: 0,
		timeline,
		window: { from: 0, to: 10 },
		freeze: migrated ? 4 : null,
		resume: migrated ? 5 : null,
		events: {},
		imageBytes: migrated ? 1e6 : null,
		migration: null,
		prefetched: null,
		prefetchedNeverRead: migrated ? 0 : null,
	};
}

/** Two runs each of no migration (100 MB/s), CRIU alone (migratedTimeline) and freeze (never recovers). */
export function knownResult(): BenchResult {
	const settings = { ...QUICK, workloads: ['reread' as const], variants: ['none' as const, 'off' as const, 'freeze' as const, 'precopy' as const], durationS: 10, migrateAtS: 4, linkBps: 117e6 };
	const slow = steady(50);
	const records = [0, 1].flatMap((i) => [record('none', i, steady(100), false), record('off', i, migratedTimeline(), true), record('freeze', i, slow, true)]);
	return {
		tool: 'hotcache bench test',
		startedAt: '2026-12-01T00:00:00.000Z',
		finishedAt: '2026-12-01T00:01:00.000Z',
		host: { name: 'test', kernel: 'test', cpus: 2, memoryBytes: 0 },
		settings,
		settingsText: ['storage link per host: 117.0 MB/s'],
		skipped: [{ workload: 'reread', variant: 'oracle', reason: 'reread has no hot set known page by page' }],
		failures: [],
		...judge(settings, records),
	};
}
