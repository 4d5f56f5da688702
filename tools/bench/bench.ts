// One benchmark: the workloads' programs and data (the shared storage, an ext4 image made here on the
// machine), the runs between the two emulated hosts inside the test environment (on-hosts.ts), then
// every run judged against the runs without migration of the same workload, and summarised.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot, projectVersion } from '../project.js';
import { removeLink } from '../hosts/link.js';
import { makeStorage } from '../hosts/storage.js';
import { killRunningCommands } from '../vm/exec.js';
import { runInRootfs } from '../testenv/run.js';
import { buildWorkloads } from './build.js';
import { reference, runMetrics, type Reference, type RunMetrics } from './metrics.js';
import type { Collected, FailedRun, OnHostsRequest } from './on-hosts.js';
import { notRun, runPlan, type NotRun } from './plan.js';
import { benchRootfs } from './rootfs.js';
import type { RunRecord } from './runner.js';
import { checkSettings, describeSettings, type BenchSettings } from './settings.js';
import { summarize, type VariantSummary } from './summary.js';
import { workload as workloadOf } from './workloads.js';
import type { WorkloadId } from './workload.js';

/** A run as the results keep it: what it observed (the prefetched spans counted, not listed), and its metrics. */
export interface RunResult extends Omit<RunRecord, 'prefetched'> {
	prefetchedSpans: number | null;
	metrics: RunMetrics;
}

export interface BenchResult {
	tool: string;
	startedAt: string;
	finishedAt: string;
	host: { name: string; kernel: string; cpus: number; memoryBytes: number };
	settings: BenchSettings;
	/** The settings and the runner, as lines a person reads: printed with every result. */
	settingsText: string[];
	skipped: NotRun[];
	references: { workload: WorkloadId; reference: Reference | null }[];
	runs: RunResult[];
	failures: FailedRun[];
	summaries: VariantSummary[];
}

/** Metrics and summaries of the records, each judged against its workload's runs without migration. */
export function judge(settings: BenchSettings, records: RunRecord[]): Pick<BenchResult, 'references' | 'runs' | 'summaries'> {
	const references = settings.workloads.map((w) => {
		const none = records.filter((r) => r.workload === w && r.variant === 'none');
		const measure = workloadOf(w).measure;
		const amounts = none.map((r) => runMetrics({ ...r, measure, askedAt: settings.migrateAtS }, null).amount);
		return { workload: w, reference: reference(amounts, settings.durationS) };
	});
	const runs: RunResult[] = records.map(({ prefetched, ...r }) => {
		const measure = workloadOf(r.workload).measure;
		const ref = references.find((x) => x.workload === r.workload)?.reference ?? null;
		return { ...r, prefetchedSpans: prefetched ? prefetched.length : null, metrics: runMetrics({ ...r, measure, askedAt: settings.migrateAtS }, ref) };
	});
	const measured = runs.map((r) => ({ workload: r.workload, variant: r.variant, measure: workloadOf(r.workload).measure, metrics: r.metrics }));
	return { references, runs, summaries: summarize(measured, settings.workloads, settings.variants) };
}

export interface BenchOptions {
	/** Show the progress on stderr (default true). */
	progress?: boolean;
}

/** The blkio hierarchy the hosts' link group is made in, as the machine sees it. */
const HOST_BLKIO = '/sys/fs/cgroup/blkio';
/** What a run takes beyond its window at most (the hosts' set-up, the warm-up's end, the clean-up). */
const RUN_SLACK_S = 400;

/** Fills the shared storage: each workload's data in a directory named after it. */
async function makeBenchStorage(image: string, s: BenchSettings): Promise<void> {
	await makeStorage(image, async (dir) => {
		for (const w of s.workloads) {
			mkdirSync(path.join(dir, w), { recursive: true });
			await workloadOf(w).fill(path.join(dir, w), s);
		}
	});
}

export async function runBench(settings: BenchSettings, opts: BenchOptions = {}): Promise<BenchResult> {
	checkSettings(settings);
	buildWorkloads();
	const rootfs = await benchRootfs(settings.workloads);
	const work = mkdtempSync(`/var/tmp/hotcache-bench-${process.pid}-`);
	const name = `hotcache-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
	// Ctrl-C: the runs die with their namespace; what was made outside it goes here, then we stop.
	const cleanUp = async (): Promise<void> => {
		if (existsSync(path.join(HOST_BLKIO, name))) await removeLink(HOST_BLKIO, name);
		rmSync(work, { recursive: true, force: true });
	};
	const interrupted = (): void => {
		killRunningCommands(); // mke2fs filling the storage, when the Ctrl-C reached this process alone
		void cleanUp().finally(() => process.exit(130));
	};
	process.once('SIGINT', interrupted);
	try {
		const storage = path.join(work, 'storage.img');
		await makeBenchStorage(storage, settings);
		const request: OnHostsRequest = { settings, storage, name, out: path.join(work, 'collected.json'), progress: opts.progress ?? true };
		writeFileSync(path.join(work, 'request.json'), JSON.stringify(request));
		const plan = runPlan(settings);
		const timeoutMs = plan.length * (settings.durationS + RUN_SLACK_S) * 1000;
		// Not `exec`: the shell stays pid 1 of the namespace and reaps the restored processes it adopts.
		const script = `node ${path.join(projectRoot, 'dist/tools/bench/on-hosts.js')} ${path.join(work, 'request.json')}; exit $?`;
		const r = await runInRootfs(rootfs, script, { binds: [work], timeoutMs, passStderr: true });
		if (r.code !== 0 || !existsSync(request.out)) throw new Error(`the benchmark's runs failed (exit ${r.code}${r.timedOut ? ', timed out' : ''})${r.stdout ? `:\n${r.stdout}` : ''}`);
		const c = JSON.parse(readFileSync(request.out, 'utf8')) as Collected;
		return {
			tool: `hotcache bench ${projectVersion()}`,
			startedAt: c.startedAt,
			finishedAt: c.finishedAt,
			host: { name: os.hostname(), kernel: os.release(), cpus: os.cpus().length, memoryBytes: os.totalmem() },
			settings,
			settingsText: [...describeSettings(settings), ...c.runnerText, ...settings.workloads.map((w) => `${w}: ${workloadOf(w).describe(settings)}`)],
			skipped: notRun(settings),
			failures: c.failures,
			...judge(settings, c.records),
		};
	} finally {
		process.off('SIGINT', interrupted);
		await cleanUp();
	}
}
