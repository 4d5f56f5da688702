// The destination agent (`hotcache receive`): speaks the protocol on its stdin and stdout, prefetches
// the plans it is sent (warm.ts), writes the images into its migration's directory, restores them with
// CRIU and hotcache's pieces, and reports what the prefetch did. When its input closes before the
// migration is over (the source died, the link broke) it stops its prefetch, removes what it received
// and exits: nothing of it is left running.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { decodeImage, ImageError, IMAGE_FILE, type HotcacheImage } from '../../proto/image.js';
import { loadConfig, type Config } from '../../hooks/config.js';
import { native } from '../../hooks/native.js';
import { restoreKeyOf } from '../../hooks/restore-key.js';
import { MIGRATION, RESTORE } from '../../contract/out/contract.js';
import { installedCriuVersion } from '../install/criu-version.js';
import { Channel, ChannelClosed } from './channel.js';
import { now } from './clock.js';
import { criuDone, criuPieces, PiecesError, startCriu } from './criu.js';
import { ImageWriter } from './images.js';
import { makeMigrationDir } from './migration-dir.js';
import { pageCount, plannedPages } from './plan-pages.js';
import { parseToAgent, PROTOCOL_VERSION, type FromAgent, type ToAgent } from './protocol.js';
import { warmTotals } from './record-totals.js';
import { residentBytes } from './residency.js';
import { Warmer } from './warm.js';
import { pidNamespaceId } from './pid-namespace.js';

/** How long the agent waits, after the resume, for the warm-up to end before it stops it. */
export const WARM_WAIT_MS = 300_000;
const HELLO_TIMEOUT_MS = 60_000;
const PROGRESS_INTERVAL_MS = 200;
const POLL_MS = 100;
/** Measuring the plan's residency before the restore adds to the downtime: a few ms for a few files, never more than this. */
const BEFORE_RESTORE_BUDGET_MS = 100;
/** As the restore returns (the process runs: no downtime added). */
const AT_RESUME_BUDGET_MS = 2000;

type Hello = Extract<ToAgent, { type: 'hello' }>;

/** A status line of the action script's prefetcher that says it has finished (hooks/record.ts describe). */
const FINAL_STATUS = /^hotcache: (prefetch (done|stopped)|nothing prefetched|prefetcher failed)/;

class Agent {
	private readonly dir: string;
	private readonly imagesDir: string;
	private readonly writer: ImageWriter;
	private readonly warmer: Warmer;
	private lastPlan: HotcacheImage | null = null;
	/** A plan whose paths are inside the process's own root: it waits for the restore. */
	private ownRootPlan: { seq: number; image: HotcacheImage } | null = null;
	private restoredPid: number | null = null;
	private resumeAt: number | null = null;
	/** `restores/<criu pid>.<start>` of our criu restore, where the action script's prefetcher reports. */
	private restoreDir: string | null = null;
	private lastProgress = 0;

	constructor(
		private readonly channel: Channel<ToAgent, FromAgent>,
		private readonly hello: Hello,
		private readonly config: Config,
	) {
		this.dir = makeMigrationDir(config.stateDir, hello.migration);
		this.imagesDir = path.join(this.dir, 'images');
		mkdirSync(this.imagesDir, { mode: 0o700 });
		this.writer = new ImageWriter(this.imagesDir);
		this.warmer = new Warmer({
			recordFile: path.join(this.dir, RESTORE.files.record),
			statusFile: path.join(this.dir, RESTORE.files.status),
			pidFile: path.join(this.dir, RESTORE.files.pid),
			config,
			label: `migration ${hello.migration}`,
			events: {
				started: (seq, pages) => this.tell({ type: 'warming', seq, time: now(), pages }),
				progress: (seq, donePages, totalPages, fetchedBytes) => {
					const t = performance.now();
					if (t - this.lastProgress < PROGRESS_INTERVAL_MS && donePages < totalPages) return;
					this.lastProgress = t;
					this.tell({ type: 'progress', seq, time: now(), donePages, totalPages, fetchedBytes });
				},
				finished: (seq, fetchedBytes, stopped) => this.tell({ type: 'warm-done', seq, time: now(), fetchedBytes, stopped }),
			},
		});
	}

	/** Sends without waiting; a closed channel is noticed by the message loop. */
	private tell(message: FromAgent): void {
		this.channel.send(message).catch(() => {});
	}

	/** Serves the source until it finishes or aborts the migration; returns the exit code. */
	async serve(): Promise<number> {
		await this.channel.send({
			type: 'hello',
			protocol: PROTOCOL_VERSION,
			host: os.hostname(),
			pid: process.pid,
			time: now(),
			pageSize: native().pageSize(),
			criu: installedCriuVersion()?.text ?? null,
			pieces: pieces(),
			dir: this.dir,
			pidNamespace: pidNamespaceId(),
		});
		try {
			for (;;) {
				const m = await this.channel.next();
				switch (m.type) {
					case 'ping':
						await this.channel.send({ type: 'pong', time: now() });
						break;
					case 'plan':
						this.plan(m);
						break;
					case 'file':
						this.writer.write(m);
						break;
					case 'files-done': {
						const got = this.writer.finish(m.files, m.bytes);
						await this.channel.send({ type: 'files-received', ...got, time: now() });
						break;
					}
					case 'restore':
						await this.restore();
						break;
					case 'finish':
						await this.channel.send({ type: 'result', totals: await this.finish() });
						return 0;
					case 'abort':
						await this.abandon();
						return 0;
					case 'hello':
						throw new Error('a second hello');
				}
			}
		} catch (err) {
			await this.abandon();
			if (err instanceof ChannelClosed) return 1;
			await this.channel.send({ type: 'error', message: (err as Error).message }).catch(() => {});
			return 1;
		} finally {
			this.warmer.close();
		}
	}

	private plan(m: Extract<ToAgent, { type: 'plan' }>): void {
		let image: HotcacheImage;
		try {
			image = decodeImage(m.image);
		} catch (err) {
			if (!(err instanceof ImageError)) throw err;
			this.tell({ type: 'note', text: `plan ${m.seq} refused: ${err.message}` });
			this.tell({ type: 'warm-done', seq: m.seq, time: now(), fetchedBytes: 0, stopped: `refused: ${err.message}` });
			return;
		}
		this.lastPlan = image;
		if (image.capture.ownRoot && this.restoredPid === null) {
			this.ownRootPlan = { seq: m.seq, image };
			this.tell({ type: 'warm-done', seq: m.seq, time: now(), fetchedBytes: 0, stopped: 'waits for the restore: its paths are inside the process\'s own root' });
			return;
		}
		this.warmer.enqueue(m.seq, image, this.rootOf(image), m.final);
	}

	private rootOf(image: HotcacheImage): string {
		return image.capture.ownRoot && this.restoredPid !== null ? `/proc/${this.restoredPid}/root` : '/';
	}

	/** The plan to measure residency with: the last one sent, or the image's own (--warm restore). */
	private measuredPlan(): HotcacheImage | null {
		if (this.lastPlan) return this.lastPlan;
		const file = path.join(this.imagesDir, IMAGE_FILE);
		if (!existsSync(file)) return null;
		try {
			return decodeImage(readFileSync(file));
		} catch {
			return null;
		}
	}

	private async measure(plan: HotcacheImage | null, budgetMs: number): Promise<number | null> {
		if (!plan || (plan.capture.ownRoot && this.restoredPid === null)) return null;
		try {
			return await residentBytes(plan, this.rootOf(plan), budgetMs);
		} catch {
			return null;
		}
	}

	private async restore(): Promise<void> {
		const { warm, migration } = this.hello;
		const env: NodeJS.ProcessEnv = { ...process.env };
		// off: CRIU alone. restore: the action script's prefetcher, its record copied here.
		// precopy, freeze: this agent prefetches; the action script finds it and starts none.
		if (warm === 'off') env.HOTCACHE_DISABLE = '1';
		if (warm === 'restore') env.HOTCACHE_RECORD = path.join(this.dir, RESTORE.files.record);
		if (this.warmer.started) env[MIGRATION.env.migration] = migration;
		let pieces: string[] = [];
		try {
			if (warm !== 'off') pieces = criuPieces('restore').args;
		} catch (err) {
			if (!(err instanceof PiecesError)) throw err;
			await this.channel.send({ type: 'restored', ok: false, reason: err.message, log: '' });
			return;
		}
		const plan = this.measuredPlan();
		const residentBeforeRestore = await this.measure(plan, BEFORE_RESTORE_BUDGET_MS);
		const start = now();
		const child = startCriu(['restore', '-D', this.imagesDir, '-d', ...pieces], this.imagesDir, 'restore.log', env);
		this.restoreDir = child.pid ? restoreDirOf(this.config.stateDir, child.pid) : null;
		const outcome = await criuDone(child, this.imagesDir, 'restore.log');
		const time = now();
		if (!outcome.ok) {
			await this.warmer.stop('the restore failed');
			await this.channel.send({ type: 'restored', ok: false, reason: `criu restore ${outcome.how}`, log: outcome.errors });
			return;
		}
		this.restoredPid = this.hello.pid;
		this.resumeAt = time;
		const residentAtResume = await this.measure(plan, AT_RESUME_BUDGET_MS);
		if (this.ownRootPlan) {
			this.warmer.enqueue(this.ownRootPlan.seq, this.ownRootPlan.image, this.rootOf(this.ownRootPlan.image), true);
			this.ownRootPlan = null;
		}
		const planBytes = plan ? pageCount(plannedPages(plan)) * plan.capture.pageSize : null;
		await this.channel.send({ type: 'restored', ok: true, pid: this.hello.pid, start, time, planBytes, residentBeforeRestore, residentAtResume });
	}

	/** Waits (bounded) for the prefetch to end, then reads its record. */
	private async finish(): Promise<ReturnType<typeof warmTotals>> {
		const deadline = Date.now() + WARM_WAIT_MS;
		let status: string | null;
		if (this.hello.warm === 'restore') {
			status = await this.actionScriptStatus(deadline);
		} else {
			const idle = await within(this.warmer.idle(), WARM_WAIT_MS);
			if (!idle) await this.warmer.stop(`still warming up ${WARM_WAIT_MS / 1000} s after the resume`);
			status = readText(path.join(this.dir, RESTORE.files.status));
		}
		rmSync(this.imagesDir, { recursive: true, force: true });
		return warmTotals(readText(path.join(this.dir, RESTORE.files.record)) ?? '', this.resumeAt, status);
	}

	/** The final status of the prefetcher the action script started, or what it says at the deadline. */
	private async actionScriptStatus(deadline: number): Promise<string | null> {
		const dir = this.restoreDir;
		if (!dir || !existsSync(path.join(dir, RESTORE.files.claimed))) return null; // no prefetcher was started
		let status: string | null = null;
		while (Date.now() < deadline) {
			status = readText(path.join(dir, RESTORE.files.status));
			if (status && FINAL_STATUS.test(status)) break;
			await delay(POLL_MS);
		}
		return status;
	}

	/**
	 * Removes what was received, then stops the prefetch (the record and status stay, for the operator).
	 * The images go first: the prefetch's last reads may take seconds on a slow link, and the source
	 * kills an agent that outlives its wait.
	 */
	private async abandon(): Promise<void> {
		this.writer.abort();
		rmSync(this.imagesDir, { recursive: true, force: true });
		await this.warmer.stop('the migration was abandoned');
	}
}

/** True when `promise` settles within `ms`; the timer never outlives it (it would keep Node running). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)))]);
	} finally {
		clearTimeout(timer);
	}
}

/** Where this host's CRIU gets hotcache from for a restore, or why it cannot. */
function pieces(): Extract<FromAgent, { type: 'hello' }>['pieces'] {
	try {
		return { from: criuPieces('restore').from, problem: null };
	} catch (err) {
		if (!(err instanceof PiecesError)) throw err;
		return { from: null, problem: err.message };
	}
}

function readText(file: string): string | null {
	try {
		return readFileSync(file, 'utf8').trim();
	} catch {
		return null;
	}
}

/** The restore's directory as the action script names it (hooks/restore-key.ts). */
function restoreDirOf(stateDir: string, criuPid: number): string | null {
	const key = restoreKeyOf(criuPid);
	return key ? path.join(stateDir, RESTORE.dir, key) : null;
}

/** `hotcache receive` on `input`/`output`; returns the exit code. */
export async function receive(input: Readable, output: Writable): Promise<number> {
	const channel = new Channel<ToAgent, FromAgent>(input, output, parseToAgent, 'the source');
	let hello: Hello;
	try {
		const timer = new AbortController();
		const t = setTimeout(() => timer.abort(new ChannelClosed('no hello from the source')), HELLO_TIMEOUT_MS);
		hello = await channel.expect('hello', timer.signal);
		clearTimeout(t);
	} catch {
		channel.close();
		return 1;
	}
	if (hello.protocol !== PROTOCOL_VERSION) {
		await channel.send({ type: 'error', message: `this agent speaks protocol ${PROTOCOL_VERSION}, the source ${hello.protocol}` }).catch(() => {});
		channel.close();
		return 1;
	}
	let agent: Agent;
	try {
		agent = new Agent(channel, hello, loadConfig());
	} catch (err) {
		await channel.send({ type: 'error', message: (err as Error).message }).catch(() => {});
		channel.close();
		return 1;
	}
	const code = await agent.serve();
	channel.close();
	return code;
}
