// One benchmark run between the two emulated hosts (tools/hosts): the workload starts on the source
// (warm) reading the shared storage through the source's link, is sampled every 100 ms through its
// progress file (in the scratch directory both hosts share), and at the migration time is moved with
// `hotcache migrate` to the destination (cold), where it reads through the destination's own link.
// The outside prefetchers of the baseline variants run on the destination, their page lists made
// before the move and their go given as `hotcache migrate` enters the freeze or the restore.
// Runs inside the test environment (where CRIU is), as part of on-hosts.ts.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { decodeImage } from '../../proto/image.js';
import { runCapture } from '../capture-tool.js';
import { shellQuote } from '../shell-quote.js';
import { onDestination } from '../hosts/hosts.js';
import type { EmulatedHosts } from '../hosts/emulated.js';
import type { Phase } from '../migrate/source.js';
import type { MigrationSummary } from '../migrate/summary.js';
import { BaselinePrefetcher, spansFromCapture } from './baseline.js';
import { workloadBin } from './build.js';
import { neverReadBytes, type PageSpan } from './metrics.js';
import { migrate } from './migration.js';
import { createProgressFile, ProgressReader, readInEpoch, setEpoch } from './progress-file.js';
import { recordSpans } from './record-spans.js';
import type { RunRecord, RunSpec } from './runner.js';
import { Sampler, toTimeline, wallMs, type RawSample } from './sampler.js';
import type { BenchSettings } from './settings.js';
import { variant as variantOf } from './variants.js';
import type { RunPaths, Workload } from './workload.js';

/** Epoch of the progress file's touched map from the freeze on (workloads/progress.h). */
const AFTER_FREEZE = 2;
/** The baselines' page lists are captured this long before the migration (at most half the time before it). */
const CAPTURE_LEAD_S = 1;
const GONE_WAIT_MS = 10_000;

/** What the move leaves for the run: its outside prefetcher once started, when `hotcache migrate` was started. */
interface Outside {
	prefetcher: BaselinePrefetcher | null;
	askedAtMs: number | null;
}

function gone(pid: number): boolean {
	try {
		return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
	} catch {
		return true;
	}
}

/** Kills the workload wherever it runs (the same pid on both hosts) and waits until it is gone. */
async function stopWorkload(pid: number): Promise<void> {
	try {
		process.kill(pid, 'SIGKILL');
	} catch {
		return; // gone already
	}
	for (const deadline = Date.now() + GONE_WAIT_MS; !gone(pid) && Date.now() < deadline; ) await delay(20);
}

/** Sleeps until `seconds` after the wall-clock instant `originMs`. */
function until(originMs: number, seconds: number): Promise<void> {
	return delay(Math.max(0, originMs + seconds * 1000 - wallMs()));
}

export class HostsRunner {
	readonly kind = 'two emulated hosts, hotcache migrate';
	private runs = 0;

	constructor(
		private readonly hosts: EmulatedHosts,
		private readonly settings: BenchSettings,
	) {}

	describe(): string[] {
		const { hosts } = this.hosts;
		return [
			`runner: ${this.kind}: real CRIU 4.1.1 in the test environment (tools/testenv); the storage is one ext4 image on two read-only direct-I/O loop devices (source ${hosts.source.device}, destination ${hosts.destination.device}), so each host has its own page cache; each host's link is a blkio read limit on its own device`,
			`  migration: hotcache migrate --to exec:nsenter -t DEST -m -- --link-mbps ${+((this.settings.migrationBps * 8) / 1e6).toFixed(1)}; each run starts with the source's cache warm and the destination's cold (its data evicted there)`,
			`  outside prefetchers: one pread thread on the destination, its list captured by hotcache-capture ${CAPTURE_LEAD_S} s before the migration (or the workload's known hot set), started as hotcache migrate enters the freeze or the restore`,
		];
	}

	private async list(spec: RunSpec, pid: number, paths: RunPaths): Promise<{ pageSize: number; spans: PageSpan[] }> {
		const pages = variantOf(spec.variant).baseline!.pages;
		if (pages === 'oracle') {
			if (!spec.workload.oracle) throw new Error(`${spec.workload.id} has no known hot set`);
			return { pageSize: 4096, spans: spec.workload.oracle(paths.data, spec.settings) };
		}
		const image = decodeImage(await runCapture(['--pid', String(pid)]));
		return { pageSize: image.capture.pageSize, spans: spansFromCapture(image, pages, this.hosts.storageDir) };
	}

	/** The destination's record of hotcache's prefetch, read through its mount namespace. */
	private recordOf(summary: MigrationSummary): PageSpan[] | null {
		if (!summary.warmUp.record) return null;
		try {
			return recordSpans(readFileSync(path.join(`/proc/${this.hosts.hosts.destination.pid}/root`, summary.warmUp.record), 'utf8'));
		} catch {
			return null; // no prefetch ran (nothing was planned)
		}
	}

	async run(spec: RunSpec): Promise<RunRecord> {
		const { hosts } = this;
		const w: Workload = spec.workload;
		const s = spec.settings;
		const v = variantOf(spec.variant);
		const run = path.join(hosts.scratchDir, 'runs', String(this.runs++).padStart(4, '0'));
		mkdirSync(run, { recursive: true });
		const paths: RunPaths = { data: path.join(hosts.storageDir, w.id), run, progress: path.join(run, 'progress'), bin: workloadBin };
		createProgressFile(paths.progress, w.units(s));
		w.prepareRun?.(paths, s);
		const entries = w.dataEntries(paths.data).map(shellQuote).join(' ');
		const warm = await hosts.runOnSource(`find ${entries} -type f -exec cat {} + >/dev/null`);
		const cold = await hosts.runOnDestination(`${shellQuote(path.join(workloadBin, 'evict'))} ${entries}`);
		for (const r of [warm, cold]) if (r.code !== 0) throw new Error(`preparing the hosts failed: ${r.stderr.trim()}`);

		const reader = new ProgressReader(paths.progress);
		const sampler = new Sampler(() => reader.read());
		sampler.start();
		const startedAtMs = wallMs();
		const workload = spawn('/bin/sh', ['-c', w.command(paths, s)], { cwd: run, detached: true, stdio: 'ignore' });
		const pid = workload.pid!;
		let samples: RawSample[] = [];
		const outside: Outside = { prefetcher: null, askedAtMs: null };
		let summary: MigrationSummary | null = null;
		let prefetched: PageSpan[] | null = null;
		try {
			const moved = v.warm === null ? null : this.move(spec, pid, paths, startedAtMs, outside);
			// Its failure is reported after the window, when the run is over anyway.
			moved?.catch(() => {});
			await until(startedAtMs, s.durationS);
			samples = sampler.stop();
			summary = moved ? await moved : null;
			prefetched = outside.prefetcher ? outside.prefetcher.stop() : summary ? this.recordOf(summary) : null;
		} finally {
			if (samples.length === 0) sampler.stop();
			reader.close();
			outside.prefetcher?.kill();
			await stopWorkload(pid);
		}

		const rel = (atMs: number | null | undefined): number | null => (atMs == null ? null : (atMs - startedAtMs) / 1000);
		const fromSummary = (ms: number | null): number | null => (summary && ms !== null ? rel(summary.requestedAtMs + ms) : null);
		const events: Record<string, number> = { start: 0, end: s.durationS };
		if (summary) {
			// asked: `hotcache migrate` started; its own timeline counts from when it was up (requested).
			events.asked = rel(outside.askedAtMs)!;
			events.requested = rel(summary.requestedAtMs)!;
			for (const [k, ms] of Object.entries(summary.timeline)) if (ms !== null) events[k] = fromSummary(ms)!;
		}
		// CRIU alone prefetches nothing, so it wastes nothing; without migration there is nothing to say.
		let neverRead: number | null = spec.variant === 'off' ? 0 : null;
		if (prefetched && w.units(s) > 0) {
			// Only the workload's own data is tracked; the rest (its program) is left out.
			const read = readInEpoch(paths.progress, AFTER_FREEZE);
			neverRead = neverReadBytes(prefetched, (file, page) => {
				const unit = w.unitOf(paths.data, file, page);
				return unit < 0 ? null : read(unit);
			}, 4096);
		}
		const timeline = w.ownTimeline ? w.ownTimeline(paths, startedAtMs, s.durationS) : toTimeline(samples, startedAtMs);
		rmSync(run, { recursive: true, force: true });
		return {
			workload: w.id,
			variant: spec.variant,
			index: spec.index,
			runner: this.kind,
			startedAtMs,
			timeline,
			window: { from: 0, to: s.durationS },
			freeze: summary ? fromSummary(summary.timeline.freeze) : null,
			resume: summary ? fromSummary(summary.timeline.resume) : null,
			events,
			imageBytes: summary?.images.bytes ?? null,
			migration: summary,
			prefetched,
			prefetchedNeverRead: neverRead,
		};
	}

	/** The move at the migration time, the outside prefetcher (if any) ready before it. */
	private async move(spec: RunSpec, pid: number, paths: RunPaths, startedAtMs: number, outside: Outside): Promise<MigrationSummary> {
		const s = spec.settings;
		const v = variantOf(spec.variant);
		if (v.baseline) {
			await until(startedAtMs, s.migrateAtS - Math.min(CAPTURE_LEAD_S, s.migrateAtS / 2));
			const list = await this.list(spec, pid, paths);
			outside.prefetcher = await BaselinePrefetcher.start(onDestination(this.hosts.hosts), list, paths.run);
		}
		await until(startedAtMs, s.migrateAtS);
		const onPhase = (phase: Phase): void => {
			if (phase === 'freeze') setEpoch(paths.progress, AFTER_FREEZE);
			if (phase === v.baseline?.at) outside.prefetcher?.go();
		};
		outside.askedAtMs = wallMs();
		return migrate({ pid, destination: this.hosts.destination, warm: v.warm!, migrationBps: s.migrationBps, onPhase });
	}
}
