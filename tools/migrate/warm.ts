// The destination's prefetch during a migration: the one place `hotcache migrate` runs the prefetch
// engine (hooks/prefetch.ts runPrefetch). Plans run one after the other in this process (the agent);
// the plan from the freeze stops the one running and runs minus what is already resident. Everything is
// recorded in the migration's directory like a restore's prefetch (record.jsonl, status), and
// prefetcher.pid tells the action script that this migration's prefetch runs (hooks/action-script).
import type { HotcacheImage } from '../../proto/image.js';
import type { Config } from '../../hooks/config.js';
import { runPrefetch } from '../../hooks/prefetch.js';
import { ChunkPaths, createExclusive, Recorder, type RecordEvent } from '../../hooks/record.js';
import { formatProcessId, self } from '../../hooks/process-identity.js';
import { normalize, pageCount, plannedPages, subtractPages, type PagesByFile, type Span } from './plan-pages.js';

export interface WarmEvents {
	started(seq: number, pages: number): void;
	progress(seq: number, donePages: number, totalPages: number, fetchedBytes: number): void;
	finished(seq: number, fetchedBytes: number, stopped: string | null): void;
}

/** The engine's record, and in memory the pages its chunks left resident and the bytes they fetched. */
class TrackingRecorder extends Recorder {
	private readonly doneSpans = new Map<string, Span[]>();
	private readonly paths = new ChunkPaths();
	fetchedBytes = 0;

	constructor(
		files: string[],
		status: string,
		private readonly pageSize: () => number,
	) {
		super(files, status);
	}

	override event(e: RecordEvent): void {
		super.event(e);
		const path = this.paths.see(e);
		if (e.kind !== 'chunk') return;
		this.fetchedBytes += e.fetched * this.pageSize();
		if (path !== undefined && !e.error && e.resident + e.fetched >= e.count) {
			const spans = this.doneSpans.get(path) ?? [];
			spans.push({ start: e.start, count: e.count });
			this.doneSpans.set(path, spans);
		}
	}

	done(): PagesByFile {
		return new Map([...this.doneSpans].map(([file, spans]) => [file, normalize(spans)]));
	}
}

interface Job {
	seq: number;
	image: HotcacheImage;
	root: string;
	/** Fetch only what earlier runs did not leave resident. */
	minusDone: boolean;
}

export interface WarmerOptions {
	recordFile: string;
	statusFile: string;
	/** Created (exclusively) before the first run: the action script's sign that this migration prefetches. */
	pidFile: string;
	config: Pick<Config, 'workers' | 'bandwidth' | 'activate'>;
	label: string;
	events: WarmEvents;
}

export class Warmer {
	private readonly queue: Job[] = [];
	private running: { seq: number; controller: AbortController; done: Promise<void> } | null = null;
	private recorder: TrackingRecorder | null = null;
	private idleWaiters: (() => void)[] = [];
	private pageSize = 4096;

	constructor(private readonly opts: WarmerOptions) {}

	/** True once a prefetch was started for this migration. */
	get started(): boolean {
		return this.recorder !== null;
	}

	/**
	 * Queues a plan. The final one (`supersede`) replaces whatever is queued and stops the run in
	 * progress: it holds the fd offsets of the freeze, so its order is the one the process resumes with.
	 */
	enqueue(seq: number, image: HotcacheImage, root: string, supersede: boolean): void {
		if (supersede) {
			this.queue.length = 0;
			this.running?.controller.abort('superseded by the plan from the freeze');
		}
		this.queue.push({ seq, image, root, minusDone: supersede });
		void this.pump();
	}

	/** Resolves when nothing is queued or running. */
	idle(): Promise<void> {
		if (!this.running && this.queue.length === 0) return Promise.resolve();
		return new Promise((resolve) => this.idleWaiters.push(resolve));
	}

	/** Stops the run in progress and drops the queue. */
	async stop(reason: string): Promise<void> {
		this.queue.length = 0;
		this.running?.controller.abort(reason);
		await this.idle();
	}

	close(): void {
		this.recorder?.close();
	}

	private ensureRecorder(): TrackingRecorder {
		if (!this.recorder) {
			createExclusive(this.opts.pidFile, formatProcessId(self()));
			this.recorder = new TrackingRecorder([this.opts.recordFile], this.opts.statusFile, () => this.pageSize);
		}
		return this.recorder;
	}

	private async pump(): Promise<void> {
		if (this.running) return;
		for (let job = this.queue.shift(); job; job = this.queue.shift()) {
			const controller = new AbortController();
			const done = this.run(job, controller);
			this.running = { seq: job.seq, controller, done };
			await done;
			this.running = null;
		}
		for (const resolve of this.idleWaiters.splice(0)) resolve();
	}

	private async run(job: Job, controller: AbortController): Promise<void> {
		const { events } = this.opts;
		let stopped: string | null = null;
		let recorder: TrackingRecorder;
		try {
			recorder = this.ensureRecorder();
		} catch (err) {
			events.finished(job.seq, 0, `cannot start: ${(err as Error).message}`);
			return;
		}
		this.pageSize = job.image.capture.pageSize;
		const image = job.minusDone ? subtractPages(job.image, recorder.done()) : job.image;
		events.started(job.seq, pageCount(plannedPages(image)));
		try {
			const summary = await runPrefetch({
				image,
				imageLabel: `${this.opts.label}, plan ${job.seq}`,
				root: job.root,
				config: this.opts.config,
				recorder,
				signal: controller.signal,
				onProgress: (done, total) => events.progress(job.seq, done, total, recorder.fetchedBytes),
			});
			stopped = summary.stopped;
		} catch (err) {
			stopped = `failed: ${(err as Error).message}`;
		}
		events.finished(job.seq, recorder.fetchedBytes, stopped);
	}
}
