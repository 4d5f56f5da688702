// What a benchmark run is made of: workloads, variants, sizes, times and links. Printed with every
// result, so that a number never travels without the conditions it was measured in.
import type { VariantId } from './variants.js';
import type { WorkloadId } from './workload.js';

export interface BenchSettings {
	workloads: WorkloadId[];
	variants: VariantId[];
	/** Runs per variant of the reference workload (reread). */
	runs: number;
	/** Runs per variant of every other workload. */
	otherRuns: number;
	/** The fixed window: each run lasts this long from the workload's start, seconds. */
	durationS: number;
	/** The migration is asked for this long after the start, seconds. */
	migrateAtS: number;
	/** The re-read and the scattered readers' file. */
	fileBytes: number;
	/** Anonymous memory of reread-anon (its images cross the migration link). */
	anonBytes: number;
	webFiles: number;
	/** Largest file of the web tree; sizes are spread from 1 KiB up to it. */
	webMaxBytes: number;
	sqliteBytes: number;
	/** Each host's link to the shared storage: read bandwidth (bytes/s) and read requests per second; 0 = none. */
	linkBps: number;
	linkIops: number;
	/** The migration link the images cross, bytes/s. */
	migrationBps: number;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;
/** Gigabit Ethernet's payload rate, as the seed study's NFS link and migration link. */
const GIGABIT_BPS = 117e6;

/** The full run: at least 10 runs per variant of the reference workload, the seed's sizes. */
export const FULL: BenchSettings = {
	workloads: ['reread', 'scatter', 'reread-anon', 'webtree', 'sqlite'],
	variants: ['none', 'off', 'resident', 'reference', 'restore', 'freeze', 'precopy', 'oracle'],
	runs: 10,
	otherRuns: 3,
	// Long enough after the move for the slowest variant (precopy freezes only once the destination is
	// warm, about 10 s after the request for 1 GiB at 117 MB/s) to show its speed back.
	durationS: 40,
	migrateAtS: 10,
	fileBytes: GiB,
	anonBytes: 384 * MiB,
	webFiles: 20000,
	webMaxBytes: 64 * 1024,
	sqliteBytes: 512 * MiB,
	linkBps: GIGABIT_BPS,
	linkIops: 3000,
	migrationBps: GIGABIT_BPS,
};

/** A few minutes: every workload once per variant, small files, a short window. */
export const QUICK: BenchSettings = {
	...FULL,
	runs: 1,
	otherRuns: 1,
	durationS: 8,
	migrateAtS: 2,
	fileBytes: 128 * MiB,
	anonBytes: 128 * MiB,
	webFiles: 2000,
	webMaxBytes: 32 * 1024,
	sqliteBytes: 64 * MiB,
};

export function runsOf(s: BenchSettings, workload: WorkloadId): number {
	return workload === 'reread' ? s.runs : s.otherRuns;
}

/** Checks the settings make sense together; returns them. */
export function checkSettings(s: BenchSettings): BenchSettings {
	const fail = (why: string): never => {
		throw new Error(`settings: ${why}`);
	};
	if (s.workloads.length === 0) fail('no workload');
	if (s.variants.length === 0) fail('no variant');
	if (!Number.isInteger(s.runs) || s.runs < 1 || !Number.isInteger(s.otherRuns) || s.otherRuns < 1) fail('runs must be whole numbers of at least 1');
	if (!(s.durationS > 0) || !(s.migrateAtS > 0) || s.migrateAtS >= s.durationS) fail(`the migration (at ${s.migrateAtS} s) must fall inside the run (${s.durationS} s)`);
	if (s.fileBytes < MiB) fail('the file must be at least 1 MiB');
	if (s.webFiles < 1 || s.webMaxBytes < 1024) fail('the web tree needs files of at least 1 KiB');
	if (!(s.migrationBps > 0)) fail('the migration link needs a rate');
	if (s.linkBps < 0 || s.linkIops < 0 || s.anonBytes < 0) fail('negative size or rate');
	return s;
}

const mb = (bytes: number): string =>
	bytes >= GiB ? `${+(bytes / GiB).toFixed(2)} GiB` : bytes >= MiB ? `${+(bytes / MiB).toFixed(1)} MiB` : `${+(bytes / 1024).toFixed(1)} KiB`;
const rate = (bps: number): string => (bps > 0 ? `${+(bps / 1e6).toFixed(1)} MB/s` : 'unlimited');

/** The settings as lines a person reads. */
export function describeSettings(s: BenchSettings): string[] {
	return [
		`workloads: ${s.workloads.join(', ')}; variants: ${s.variants.join(', ')}`,
		`runs per variant: ${s.runs} (reread), ${s.otherRuns} (others); window ${s.durationS} s, migration asked at ${s.migrateAtS} s`,
		`storage link per host: ${rate(s.linkBps)}, ${s.linkIops > 0 ? `${s.linkIops} read IOPS` : 'IOPS unlimited'}; migration link: ${rate(s.migrationBps)}`,
		`sizes: file ${mb(s.fileBytes)}, anonymous memory ${mb(s.anonBytes)}, web tree ${s.webFiles} files up to ${mb(s.webMaxBytes)}, SQLite database ${mb(s.sqliteBytes)}`,
	];
}
