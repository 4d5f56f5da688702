// The inside of migrate-window.ts (runs in the test environment, where CRIU is): the two emulated
// hosts, then rounds of runs, each variant once per round in a rotated order: the reference workload
// (test/fixtures/seqread re-reading one file) starts on the source, warm, and after a second the
// migration is asked for (or not, for "none"); the bytes it read in the next WINDOW seconds are its
// counter's difference. Prints one JSON line per run, then a Markdown table.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { projectRoot } from '../project.js';
import { openEmulatedHosts, type EmulatedHosts } from '../hosts/emulated.js';
import type { MigrationSummary } from '../migrate/summary.js';

const VARIANTS = ['none', 'off', 'restore', 'freeze', 'precopy'] as const;
type Variant = (typeof VARIANTS)[number];
const STATE = '/run/hotcache-state';
const STEADY_MS = 1000;

interface Run {
	round: number;
	variant: Variant;
	bytes: number;
	downtimeMs: number | null;
	prefetchStartVsFreezeMs: number | null;
	residentAtResume: number | null;
	planBytes: number | null;
	outcome: string | null;
	/** Where the downtime went, ms: the dump, the images' crossing, the restore (the agent's steps included). */
	dumpMs: number | null;
	imagesMs: number | null;
	restoreMs: number | null;
}

function counter(file: string): number {
	const fd = openSync(file, 'r');
	try {
		const buf = Buffer.alloc(8);
		readSync(fd, buf, 0, 8, 0);
		return Number(buf.readBigUInt64LE(0));
	} finally {
		closeSync(fd);
	}
}

function gone(pid: number): boolean {
	try {
		return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
	} catch {
		return true;
	}
}

async function runOnce(round: number, variant: Variant, opts: { hosts: EmulatedHosts; file: string; windowMs: number; linkMbps: number }): Promise<Run> {
	const { hosts, file } = opts;
	// The source starts warm (whatever the last run left), the destination cold.
	await hosts.runOnSource(`dd if=${file} of=/dev/null bs=1M status=none`);
	await hosts.evict([file], 'destination');
	const counterFile = path.join(hosts.scratchDir, 'counter');
	writeFileSync(counterFile, Buffer.alloc(8));
	const workload = spawn(path.join(projectRoot, 'test/fixtures/out/seqread'), [file, counterFile], { stdio: 'ignore', detached: true });
	const pid = workload.pid!;
	await delay(STEADY_MS);
	const counter0 = counter(counterFile);
	const t0 = performance.now();
	let summary: MigrationSummary | null = null;
	let migrateDone: Promise<void> = Promise.resolve();
	if (variant !== 'none') {
		const migrate = spawn(process.execPath, [
			path.join(projectRoot, 'tools/hotcache.js'), 'migrate', '--pid', String(pid), '--to', hosts.destination,
			'--warm', variant, '--link-mbps', String(opts.linkMbps), '--json',
		], { stdio: ['ignore', 'pipe', 'inherit'] });
		let out = '';
		migrate.stdout.on('data', (c: Buffer) => (out += c.toString()));
		migrateDone = new Promise((resolve) => migrate.on('close', () => {
			try {
				summary = JSON.parse(out) as MigrationSummary;
			} catch {
				process.stderr.write(`migrate printed no summary: ${out}\n`);
			}
			resolve();
		}));
	}
	await delay(Math.max(0, opts.windowMs - (performance.now() - t0)));
	const bytes = counter(counterFile) - counter0;
	await migrateDone;
	process.kill(pid, 'SIGKILL');
	while (!gone(pid)) await delay(20);
	const s = summary as MigrationSummary | null;
	return {
		round,
		variant,
		bytes,
		downtimeMs: s?.downtimeMs ?? null,
		prefetchStartVsFreezeMs: s?.prefetchStartVsFreezeMs ?? null,
		residentAtResume: s?.plan.residentAtResume ?? null,
		planBytes: s?.plan.bytes ?? null,
		outcome: s?.outcome ?? (variant === 'none' ? null : 'no summary'),
		dumpMs: between(s?.timeline.freeze, s?.timeline.dumpDone),
		imagesMs: between(s?.timeline.dumpDone, s?.timeline.imagesDone),
		restoreMs: between(s?.timeline.imagesDone, s?.timeline.resume),
	};
}

function between(from: number | null | undefined, to: number | null | undefined): number | null {
	return from == null || to == null ? null : Math.round(to - from);
}

function median(values: number[]): number | null {
	if (values.length === 0) return null;
	const v = [...values].sort((a, b) => a - b);
	const mid = Math.floor(v.length / 2);
	return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

function table(runs: Run[]): string {
	const none = median(runs.filter((r) => r.variant === 'none').map((r) => r.bytes));
	const off = median(runs.filter((r) => r.variant === 'off').map((r) => r.bytes));
	const rows = VARIANTS.map((v) => {
		const mine = runs.filter((r) => r.variant === v);
		const bytes = median(mine.map((r) => r.bytes))!;
		const down = median(mine.flatMap((r) => (r.downtimeMs === null ? [] : [r.downtimeMs])));
		const start = median(mine.flatMap((r) => (r.prefetchStartVsFreezeMs === null ? [] : [r.prefetchStartVsFreezeMs])));
		const each = mine.map((r) => (r.bytes / 1e9).toFixed(1)).join(', ');
		return `| ${v} | ${down === null ? '-' : (down / 1000).toFixed(2)} | ${(bytes / 1e9).toFixed(1)} (${each}) | ${off ? (bytes / off).toFixed(2) : '-'} | ${none ? (bytes / none).toFixed(2) : '-'} | ${start === null ? '-' : (start / 1000).toFixed(2)} |`;
	});
	return ['| --warm | downtime s (median) | GB read in the window: median (each run) | x off | x none | prefetch start vs freeze, s |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			storage: { type: 'string' },
			file: { type: 'string' },
			name: { type: 'string' },
			rounds: { type: 'string', default: '3' },
			window: { type: 'string', default: '20' },
			'read-bps': { type: 'string', default: '117000000' },
			'link-mbps': { type: 'string', default: '1000' },
		},
	});
	process.env.HOTCACHE_STATE_DIR = STATE;
	const hosts = await openEmulatedHosts({ name: values.name!, storage: values.storage!, link: { readBps: Number(values['read-bps']), readIops: 0 }, local: [STATE] });
	try {
		const file = path.join(hosts.storageDir, values.file!);
		const runs: Run[] = [];
		const rounds = Number(values.rounds);
		for (let round = 0; round < rounds; round++) {
			for (let i = 0; i < VARIANTS.length; i++) {
				const variant = VARIANTS[(i + round) % VARIANTS.length]!;
				const run = await runOnce(round, variant, { hosts, file, windowMs: Number(values.window) * 1000, linkMbps: Number(values['link-mbps']) });
				runs.push(run);
				process.stdout.write(JSON.stringify(run) + '\n');
			}
		}
		process.stdout.write(`\n${table(runs)}\n`);
	} finally {
		await hosts.close();
	}
}

main().catch((err: unknown) => {
	process.stderr.write(`migrate-window: ${(err as Error).stack ?? String(err)}\n`);
	process.exitCode = 1;
});
