// The same-host stand-in for a migration, until `hotcache migrate` and its two emulated hosts exist:
// in the test environment (real CRIU 4.1.1), the workload runs on a file read through a throttled
// link; at the migration time it is dumped, its files are evicted (the destination's cold cache), the
// images "cross" the migration link (a sleep of image bytes / link rate), and it is restored.
// One host has one page cache, so what warms the destination before the freeze (`--warm precopy`)
// cannot be shown here; the other variants run for real, the prefetches started at the points
// `hotcache migrate` will start them.
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ChunkPaths } from '../../hooks/record.js';
import { builtFile, projectRoot } from '../project.js';
import { runInRootfs, type RunResult } from '../testenv/run.js';
import { createBlkioLink, type BlkioLink } from './blkio-link.js';
import { neverReadBytes, type PageSpan } from './metrics.js';
import { createProgressFile, ProgressReader, readInEpoch } from './progress-file.js';
import { benchRootfs } from './rootfs.js';
import type { RunRecord, RunSpec, VariantRunner } from './runner.js';
import { Sampler, toTimeline, type RawSample } from './sampler.js';
import type { BenchSettings } from './settings.js';
import type { VariantId } from './variants.js';
import type { RunPaths, Workload } from './workload.js';
import { buildWorkloads, workloadBin } from './build.js';

const PLUGIN_DIR = path.dirname(builtFile('plugin'));
const ACTION_SCRIPT = builtFile('actionScript');
const BASELINE = path.join(projectRoot, 'dist/tools/bench/baseline-prefetch.js');
const HOTCACHE = path.join(projectRoot, 'tools/hotcache.js');
/** Epoch of the progress file's touched map from the freeze on (workloads/progress.h). */
const AFTER_FREEZE = 2;

/** How a variant is played on one host: the plugin at the dump, and which prefetch starts when. */
interface Play {
	plugin: boolean;
	/** Started right after the dump and the eviction: the stand-in for "at the freeze". */
	atFreeze: string | null;
	/** Started as the restore begins, as the action script would. */
	atRestore: string | null;
	actionScript: boolean;
}

function play(variant: VariantId, run: string): Play | null {
	const baseline = (sel: string) => `node ${BASELINE} /tmp/img ${sel} ${run}/spans.jsonl`;
	const none: Play = { plugin: false, atFreeze: null, atRestore: null, actionScript: false };
	switch (variant) {
		case 'none':
			return null;
		case 'off':
			return none;
		case 'resident':
			return { ...none, plugin: true, atRestore: baseline('all') };
		case 'reference':
			return { ...none, plugin: true, atFreeze: baseline('hot') };
		case 'restore':
			return { ...none, plugin: true, actionScript: true };
		case 'freeze':
			return { ...none, plugin: true, atFreeze: `node ${HOTCACHE} prefetch /tmp/img --record ${run}/record.jsonl` };
		case 'precopy':
			return null;
	}
}

/**
 * The run as one POSIX sh script for the test environment (pid 1 of its own namespaces): it joins the
 * link's blkio group, starts the workload, and prints `@event NAME NS` (wall clock, ns) at each step.
 * The eviction (the stand-in's own step, no part of a real move) runs while the images "cross", so
 * that it adds to the downtime only what it takes beyond the transfer.
 */
function standInScript(spec: RunSpec, paths: RunPaths, link: string, evict: string[]): string {
	const s = spec.settings;
	const p = play(spec.variant, paths.run);
	const ns = (seconds: number) => Math.round(seconds * 1e9);
	const bg = (cmd: string | null) => (cmd ? `setsid ${cmd} </dev/null >>${paths.run}/prefetch.log 2>&1 &` : '');
	const migration = !p
		? ''
		: `
sleep_until $((start + ${ns(s.migrateAtS)}))
printf '\\${AFTER_FREEZE.toString(8).padStart(3, '0')}' | dd of=${paths.progress} bs=1 seek=24 conv=notrunc status=none
ev freeze
criu dump -t "$pid" -D /tmp/img ${p.plugin ? `-L ${PLUGIN_DIR}` : ''} -v4 -o dump.log || fail dump /tmp/img/dump.log
ev dumped
image=$(du -sb /tmp/img | cut -f1)
echo "@image $image"
sleep "$(awk "BEGIN { printf \\"%.3f\\", $image / ${s.migrationBps} }")" &
transfer=$!
${paths.bin}/evict ${evict.join(' ')}
ev evicted
${bg(p.atFreeze)}
wait "$transfer"
ev restore
${bg(p.atRestore)}
criu restore -D /tmp/img -d ${p.plugin ? `-L ${PLUGIN_DIR}` : ''} ${p.actionScript ? `--action-script ${ACTION_SCRIPT}` : ''} -v4 -o restore.log || fail restore /tmp/img/restore.log
ev resume`;
	return `set -u
ev() { echo "@event $1 $(date +%s%N)"; }
fail() { echo "criu $1 failed:"; tail -n 30 "$2"; exit 3; }
sleep_until() {
	now=$(date +%s%N)
	[ "$1" -gt "$now" ] && sleep "$(awk "BEGIN { printf \\"%.3f\\", ($1 - $now) / 1e9 }")"
	return 0
}
mkdir -p /run/blkio /tmp/img
mount -t cgroup -o blkio blkio /run/blkio
echo $$ >/run/blkio/${link}/cgroup.procs
export HOTCACHE_STATE_DIR=/run/hotcache-state HOTCACHE_RECORD=${paths.run}/record.jsonl
cd ${paths.run}
setsid sh -c '${spec.workload.command(paths, s).replace(/'/g, `'\\''`)}' </dev/null >/dev/null 2>&1 &
pid=$!
ev start
start=$(date +%s%N)
${migration}
sleep_until $((start + ${ns(s.durationS)}))
ev end
kill -9 "$pid" 2>/dev/null
exit 0
`;
}

/** Reads every file under `entry` once, so the source host starts each run with its cache warm. */
function warm(entry: string): void {
	const st = statSync(entry);
	if (st.isDirectory()) {
		for (const name of readdirSync(entry)) warm(path.join(entry, name));
		return;
	}
	const fd = openSync(entry, 'r');
	const buf = Buffer.alloc(1 << 20);
	try {
		while (readSync(fd, buf, 0, buf.length, null) > 0);
	} finally {
		closeSync(fd);
	}
}

function parseEvents(stdout: string): { events: Map<string, number>; imageBytes: number | null } {
	const events = new Map<string, number>();
	for (const m of stdout.matchAll(/^@event (\w+) (\d+)$/gm)) events.set(m[1]!, Number(BigInt(m[2]!) / 1000n) / 1000);
	const image = /^@image (\d+)$/m.exec(stdout);
	return { events, imageBytes: image ? Number(image[1]) : null };
}

/**
 * What a prefetch read: a baseline's spans, or the hotcache record's chunks that fetched pages; empty
 * when a prefetch ran and read nothing (it came after the process had read it all), null when none ran.
 */
function prefetchedSpans(run: string): PageSpan[] | null {
	const files = ['spans.jsonl', 'record.jsonl'].map((f) => path.join(run, f)).filter((f) => existsSync(f));
	if (files.length === 0) return null;
	const events = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
	// Baseline spans carry no kind and name their file; hotcache's record says, per chunk, how many
	// pages it fetched, and names the file by its index (ChunkPaths).
	const chunkPaths = new ChunkPaths();
	return events
		.map((e) => ({ e, chunkPath: chunkPaths.see(e) }))
		.filter(({ e }) => e.kind === undefined || (e.kind === 'chunk' && Number(e.fetched) > 0))
		.map(({ e, chunkPath }) => ({ path: String(e.kind === undefined ? e.path : chunkPath), start: Number(e.start), count: Number(e.count) }));
}

export class SameHostRunner implements VariantRunner {
	readonly kind = 'same host (stand-in)';
	private readonly scratch: string;
	private link: BlkioLink | null = null;
	private runs = 0;

	constructor(private readonly settings: BenchSettings) {
		this.scratch = mkdtempSync(`/var/tmp/hotcache-bench-${process.pid}-`);
	}

	describe(): string[] {
		return [
			`runner: ${this.kind}: real CRIU 4.1.1 in the test environment; the files on this machine's disk (${this.link?.device ?? 'its device'}) behind a blkio read limit`,
			'  migration: criu dump (kills the process); a sleep of image bytes / migration-link rate, during which the workload\'s files are evicted (the destination\'s cold cache); criu restore -d',
			'  "at the freeze" here means right after the dump and the eviction, during the transfer (one host has one page cache)',
		];
	}

	whyNot(variant: VariantId): string | null {
		return variant === 'precopy' ? 'waits for hotcache migrate (issue10): on one host a prefetch before the freeze finds every page already cached' : null;
	}

	private dataDir(w: Workload): string {
		return path.join(this.scratch, 'data', w.id);
	}

	async prepare(workloads: Workload[]): Promise<void> {
		buildWorkloads();
		await benchRootfs();
		this.link = createBlkioLink(this.scratch, this.settings.linkBps, this.settings.linkIops);
		for (const w of workloads) {
			mkdirSync(this.dataDir(w), { recursive: true });
			await w.fill(this.dataDir(w), this.settings);
		}
	}

	async run(spec: RunSpec): Promise<RunRecord> {
		if (!this.link) throw new Error('prepare() first');
		const w = spec.workload;
		const s = spec.settings;
		const run = path.join(this.scratch, 'runs', String(this.runs++).padStart(4, '0'));
		mkdirSync(run, { recursive: true });
		const paths: RunPaths = { data: this.dataDir(w), run, progress: path.join(run, 'progress'), bin: workloadBin };
		createProgressFile(paths.progress, w.units(s));
		w.prepareRun?.(paths, s);
		const entries = w.dataEntries(paths.data);
		for (const e of entries) warm(e);

		const reader = new ProgressReader(paths.progress);
		const sampler = new Sampler(() => reader.read());
		sampler.start();
		const rootfs = await benchRootfs();
		const script = standInScript(spec, paths, this.link.name, entries);
		let result: RunResult;
		let samples: RawSample[];
		try {
			result = await runInRootfs(rootfs, script, { binds: [this.scratch], timeoutMs: (s.durationS + 300) * 1000 });
		} finally {
			samples = sampler.stop();
			reader.close();
		}
		const { events, imageBytes } = parseEvents(result.stdout);
		const start = events.get('start');
		if (result.code !== 0 || start === undefined) {
			throw new Error(`run ${w.id}/${spec.variant} #${spec.index} failed (exit ${result.code}${result.timedOut ? ', timed out' : ''}):\n${result.stdout}\n${result.stderr}`.trim());
		}
		const rel = (name: string) => (events.has(name) ? (events.get(name)! - start) / 1000 : null);
		const timeline = w.ownTimeline ? w.ownTimeline(paths, start, s.durationS) : toTimeline(samples, start);
		const prefetched = prefetchedSpans(run);
		// CRIU alone prefetches nothing, so it wastes nothing; without migration there is nothing to say.
		let neverRead: number | null = spec.variant === 'off' ? 0 : null;
		if (prefetched && w.units(s) > 0) {
			// Only the workload's own data files are tracked; the rest (its program) is left out.
			const read = readInEpoch(paths.progress, AFTER_FREEZE);
			neverRead = neverReadBytes(prefetched, (file, page) => {
				const unit = w.unitOf(paths.data, file, page);
				return unit < 0 ? null : read(unit);
			}, 4096);
		}
		rmSync(run, { recursive: true, force: true });
		return {
			workload: w.id,
			variant: spec.variant,
			index: spec.index,
			runner: this.kind,
			startedAtMs: start,
			timeline,
			window: { from: 0, to: s.durationS },
			freeze: rel('freeze'),
			resume: rel('resume'),
			events: Object.fromEntries([...events.keys()].map((k) => [k, rel(k)!])),
			imageBytes,
			prefetched,
			prefetchedNeverRead: neverRead,
		};
	}

	async close(): Promise<void> {
		await this.link?.remove();
		rmSync(this.scratch, { recursive: true, force: true });
	}
}
