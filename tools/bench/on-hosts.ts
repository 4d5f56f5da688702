// The benchmark's runs, inside the test environment (bench.ts starts it there): the two emulated hosts
// over the shared storage bench.ts made, then the plan, run by run, with the progress on stderr; what
// every run observed goes to OUT as JSON for bench.ts to judge.
//
//   node dist/tools/bench/on-hosts.js REQUEST.json      (REQUEST: an OnHostsRequest)
import { readFileSync, writeFileSync } from 'node:fs';
import { openEmulatedHosts } from '../hosts/emulated.js';
import { HostsRunner } from './hosts-run.js';
import { runPlan, type PlannedRun } from './plan.js';
import { ProgressDisplay } from './progress-display.js';
import type { RunRecord } from './runner.js';
import type { BenchSettings } from './settings.js';
import { variant as variantOf } from './variants.js';
import { workload as workloadOf } from './workloads.js';

/** Where each host keeps hotcache's state (a tmpfs of its own on each). */
const STATE_DIR = '/run/hotcache-state';

export interface OnHostsRequest {
	settings: BenchSettings;
	/** The shared storage's ext4 image, each workload's data in a directory named after it. */
	storage: string;
	/** Unique (hotcache-...): the hosts' blkio group. */
	name: string;
	out: string;
	/** Show the progress on stderr. */
	progress: boolean;
}

export interface FailedRun extends PlannedRun {
	error: string;
}

export interface Collected {
	startedAt: string;
	finishedAt: string;
	runnerText: string[];
	records: RunRecord[];
	failures: FailedRun[];
}

async function main(requestFile: string): Promise<void> {
	const req = JSON.parse(readFileSync(requestFile, 'utf8')) as OnHostsRequest;
	const s = req.settings;
	process.env.HOTCACHE_STATE_DIR = STATE_DIR;
	const startedAt = new Date().toISOString();
	const hosts = await openEmulatedHosts({ name: req.name, storage: req.storage, link: { readBps: s.linkBps, readIops: s.linkIops }, local: [STATE_DIR] });
	const records: RunRecord[] = [];
	const failures: FailedRun[] = [];
	let runnerText: string[];
	try {
		const runner = new HostsRunner(hosts, s);
		runnerText = runner.describe();
		const plan = runPlan(s);
		const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
		const display = new ProgressDisplay(plan.length, req.progress ? process.stderr : quiet);
		for (const p of plan) {
			const label = `${p.workload} / ${variantOf(p.variant).label}, run ${p.index + 1}`;
			display.begin(label);
			try {
				records.push(await runner.run({ workload: workloadOf(p.workload), variant: p.variant, index: p.index, settings: s }));
			} catch (err) {
				failures.push({ ...p, error: err instanceof Error ? err.message : String(err) });
			}
			display.end(label);
		}
	} finally {
		await hosts.close();
	}
	const collected: Collected = { startedAt, finishedAt: new Date().toISOString(), runnerText, records, failures };
	writeFileSync(req.out, JSON.stringify(collected));
}

if (import.meta.url === `file://${process.argv[1]}`) {
	main(process.argv[2]!).catch((err: unknown) => {
		process.stderr.write(`hotcache bench: ${(err as Error).stack ?? String(err)}\n`);
		process.exitCode = 1;
	});
}
