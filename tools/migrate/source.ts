// The source side of `hotcache migrate`: starts the destination's agent, warms the destination (per
// --warm), freezes and dumps the process with CRIU, streams the images, has the agent restore them,
// and reports. The freeze is the point of no return: before it, any failure or Ctrl-C leaves the
// process untouched; after it, a failed transfer or restore restores the process here from the same
// images (its files are on storage both hosts share).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeImage, ImageError, IMAGE_FILE } from '../../proto/image.js';
import { loadConfig } from '../../hooks/config.js';
import { MIGRATION, RESTORE } from '../../contract/out/contract.js';
import { CaptureNotice } from './capture-notice.js';
import { Channel, ChannelClosed } from './channel.js';
import { estimateOffset, now, type ClockOffset } from './clock.js';
import { criuDone, criuPieces, startCriu, type CriuOutcome } from './criu.js';
import { linkPace, sendImages } from './images.js';
import { makeMigrationDir, newMigrationId } from './migration-dir.js';
import { pageCount, plannedPages } from './plan-pages.js';
import { pidNamespaceId, waitPidFree } from './pid-namespace.js';
import { Interrupted, precopy } from './precopy.js';
import type { Scope } from './scope.js';
import { parseFromAgent, PROTOCOL_VERSION, type FromAgent, type ToAgent, type Warm } from './protocol.js';
import type { MigrationSummary, Outcome, Timeline } from './summary.js';
import { describeDestination, startAgent, type AgentProcess, type Destination } from './transport.js';
import { processAlive } from '../process-alive.js';

export interface MigrateRequest {
	pid: number;
	destination: Destination;
	warm: Warm;
	/** Where the dump goes; by default the migration's directory in the state directory. */
	imagesDir: string | null;
	/** Seconds; null = derived from the plan and the destination's rate (precopy-policy.ts). */
	precopyTimeoutS: number | null;
	/** The migration link's cap for the images, bytes per second; 0 = none. */
	linkBytesPerSecond: number;
	agent: string[];
	/** The capture's scope, before and at the freeze; null: the configuration's (HOTCACHE_SCOPE). */
	scope: Scope | null;
	criuDumpArgs: string[];
	/** Aborted by Ctrl-C: honoured up to the freeze. */
	signal: AbortSignal;
	ui: MigrateUi;
}

export type Phase = 'connect' | 'plan' | 'warm-up' | 'freeze' | 'images' | 'restore' | 'after resume';

export interface MigrateUi {
	phase(phase: Phase): void;
	/** `total` null when unknown; rate in bytes per second. */
	progress(what: 'warm-up' | 'images', done: number, total: number | null, rate: number | null): void;
	note(text: string): void;
}

/** An expected failure before anything was done to the process. */
export class MigrateError extends Error {
	override name = 'MigrateError';
	constructor(
		readonly code: string,
		message: string,
	) {
		super(message);
	}
}

const HELLO_TIMEOUT_MS = 60_000;
const PINGS = 3;
/** The agent waits up to 300 s for the warm-up after the resume (agent.ts); this covers its report. */
const RESULT_TIMEOUT_MS = 330_000;
const RESTORE_TIMEOUT_MS = 600_000;
const AGENT_EXIT_MS = 10_000;
/** How long a restore in the source's own pid namespace waits for the dumped pid to be released. */
const PID_FREE_MS = 3_000;

/** Rejects with `error` after `ms` (the timer does not keep Node alive). */
function timeout(ms: number, error: () => Error): Promise<never> {
	return new Promise((_, reject) => setTimeout(() => reject(error()), ms).unref());
}

export class Migration {
	readonly id = newMigrationId();
	private readonly t0 = now();
	private readonly timeline: Timeline = {
		agentReady: null,
		planSent: null,
		prefetchStart: null,
		warmDone: null,
		freeze: null,
		finalPlan: null,
		dumpDone: null,
		imagesDone: null,
		restoreStart: null,
		resume: null,
		prefetchEnd: null,
	};
	private readonly notes: string[] = [];
	private agent: { child: AgentProcess; stderr: () => string } | null = null;
	private channel: Channel<FromAgent, ToAgent> | null = null;
	private clock: ClockOffset = { offsetMs: 0, errorMs: 0 };
	private clockKnown = false;
	private pageSize = 4096;
	/** The agent's migration directory (its record), on the destination. */
	private destinationDir: string | null = null;
	/** The destination restores in this pid namespace (one kernel): the dumped pid must be released first. */
	private sharedPidNamespace = false;
	private readonly dumpPieces: string[];
	private readonly imagesDir: string;
	private readonly defaultImages: boolean;
	private readonly migrationDir: string;
	private seq = 0;
	/** CRIU has the process: from here on it ends up on the destination or back on the source. */
	frozen = false;
	/** Fetched bytes and when the destination's first prefetch started (agent clock), for its rate. */
	private fetched = { bytes: 0, firstWarming: null as number | null, lastTime: null as number | null };
	private planBytes: number | null = null;
	private finalPlanBeforeDumpEnd: boolean | null = null;
	private recaptures = 0;
	private precopy: MigrationSummary['precopy'] = null;
	private images = { files: 0, bytes: 0, seconds: null as number | null };
	private restored: Extract<FromAgent, { type: 'restored'; ok: true }> | null = null;
	private totals: Extract<FromAgent, { type: 'result' }>['totals'] | null = null;

	constructor(private readonly req: MigrateRequest) {
		if (!processAlive(req.pid)) throw new MigrateError('no-process', `no process ${req.pid}`);
		if (req.imagesDir !== null && existsSync(req.imagesDir) && readdirSync(req.imagesDir).length > 0) {
			throw new MigrateError('images-dir', `${req.imagesDir} is not empty: CRIU's and hotcache's images of another dump must not travel with this one`);
		}
		// Before anything happens: without its pieces the dump could not capture.
		this.dumpPieces = req.warm === 'off' ? [] : criuPieces('dump').args;
		this.migrationDir = makeMigrationDir(loadConfig().stateDir, this.id);
		this.defaultImages = req.imagesDir === null;
		this.imagesDir = req.imagesDir ?? path.join(this.migrationDir, 'images');
		mkdirSync(this.imagesDir, { recursive: true, mode: 0o700 });
	}

	/** Milliseconds since the request, on our clock; `agentTime` is mapped from the agent's clock. */
	private at(agentTime?: number): number {
		return (agentTime === undefined ? now() : agentTime - this.clock.offsetMs) - this.t0;
	}

	async run(): Promise<MigrationSummary> {
		const { req } = this;
		let outcome: Outcome;
		let error: string | null = null;
		try {
			await this.connect();
			await this.warmBeforeFreeze();
			const dump = await this.freeze();
			if (!dump.ok) {
				outcome = 'not-moved';
				error = `criu dump failed (${dump.how})${dump.errors ? `:\n${dump.errors}` : ''}`;
				await this.abortAgent('the dump failed');
				if (!processAlive(req.pid)) {
					outcome = 'lost';
					error += `\nand pid ${req.pid} is gone`;
				}
			} else {
				({ outcome, error } = await this.moveImages());
			}
		} catch (err) {
			if (this.frozen) throw err; // after the freeze, failures are handled where they happen
			await this.abortAgent(err instanceof Interrupted ? 'interrupted' : (err as Error).message);
			if (!(err instanceof Interrupted)) {
				await this.closeAgent();
				rmSync(this.migrationDir, { recursive: true, force: true }); // nothing in it yet worth keeping
				throw err instanceof ChannelClosed ? new MigrateError('destination', `${err.message} (the process was not touched)`) : err;
			}
			outcome = 'not-moved';
			error = 'interrupted before the freeze: the process was not touched';
		} finally {
			await this.closeAgent();
		}
		return this.finish(outcome, error);
	}

	// ---- the destination's agent

	private async connect(): Promise<void> {
		const { req } = this;
		req.ui.phase('connect');
		this.agent = startAgent(req.destination, req.agent);
		const channel = new Channel<FromAgent, ToAgent>(this.agent.child.stdout, this.agent.child.stdin, parseFromAgent, 'the destination agent', ['progress']);
		this.channel = channel;
		this.agent.child.on('error', (err) => channel.close(new ChannelClosed(`cannot start the transport: ${err.message}`)));
		channel.watch((m) => this.onAgentMessage(m));
		const hello = await this.expect('hello', HELLO_TIMEOUT_MS, () =>
			channel.send({ type: 'hello', protocol: PROTOCOL_VERSION, migration: this.id, warm: req.warm, pid: req.pid, host: os.hostname(), time: now() }),
		);
		if (hello.protocol !== PROTOCOL_VERSION) throw new MigrateError('protocol', `the destination speaks protocol ${hello.protocol}, this hotcache ${PROTOCOL_VERSION}: use the same version on both sides`);
		this.pageSize = hello.pageSize;
		this.sharedPidNamespace = hello.pidNamespace !== null && hello.pidNamespace === pidNamespaceId();
		const samples = [];
		for (let i = 0; i < PINGS; i++) {
			const sent = now();
			const pong = await this.expect('pong', HELLO_TIMEOUT_MS, () => channel.send({ type: 'ping', time: sent }));
			samples.push({ sent, agent: pong.time, received: now() });
		}
		this.clock = estimateOffset(samples);
		this.clockKnown = true;
		this.timeline.agentReady = this.at();
		if (hello.criu === null) throw new MigrateError('destination', `the destination (${hello.host}) has no criu on its PATH: the process was not touched`);
		if (req.warm !== 'off' && hello.pieces.problem !== null) throw new MigrateError('destination', `on the destination (${hello.host}): ${hello.pieces.problem}; the process was not touched`);
		this.destinationDir = hello.dir;
	}

	private onAgentMessage(m: FromAgent): void {
		const { ui } = this.req;
		switch (m.type) {
			case 'warming':
				this.fetched.firstWarming ??= m.time;
				this.timeline.prefetchStart ??= this.at(m.time);
				break;
			case 'progress': {
				this.fetched.bytes = m.fetchedBytes;
				this.fetched.lastTime = m.time;
				const seconds = this.fetched.firstWarming === null ? 0 : (m.time - this.fetched.firstWarming) / 1000;
				ui.progress('warm-up', m.donePages * this.pageSize, m.totalPages * this.pageSize, seconds > 0 ? m.fetchedBytes / seconds : null);
				break;
			}
			case 'note':
				this.note(`destination: ${m.text}`);
				break;
			case 'error':
				this.channel?.close(new ChannelClosed(`the destination agent failed: ${m.message}`));
				break;
		}
	}

	/** Sends (optionally) and waits for the agent's next `type`, within `ms`. */
	private async expect<T extends FromAgent['type']>(type: T, ms: number, send?: () => Promise<void>): Promise<Extract<FromAgent, { type: T }>> {
		const channel = this.channel!;
		const reply = channel.expect(type, this.frozen ? undefined : this.req.signal);
		reply.catch(() => {}); // rejected when the channel closes; the race below reports it
		try {
			await send?.();
			return await Promise.race([reply, timeout(ms, () => new ChannelClosed(`the destination agent did not answer (${type}) within ${ms / 1000} s`))]);
		} catch (err) {
			if (this.req.signal.aborted && !this.frozen) throw new Interrupted();
			if (err instanceof ChannelClosed) {
				const stderr = this.agent?.stderr();
				throw new ChannelClosed(`${err.message}${stderr ? `\n${stderr}` : ''}`);
			}
			throw err;
		}
	}

	private async abortAgent(reason: string): Promise<void> {
		if (!this.channel || this.channel.closed) return;
		try {
			await this.channel.send({ type: 'abort', reason });
		} catch {
			// Gone already: it cleans up when its input closes.
		}
	}

	/** Ends the conversation and waits for the transport to exit (killed past AGENT_EXIT_MS). */
	private async closeAgent(): Promise<void> {
		const agent = this.agent;
		if (!agent) return;
		this.channel?.close(new ChannelClosed('the migration is over'));
		if (agent.child.exitCode !== null || agent.child.signalCode !== null) {
			agent.child.stderr.destroy();
			return;
		}
		const exited = new Promise<void>((resolve) => agent.child.once('exit', () => resolve()));
		const timer = setTimeout(() => agent.child.kill('SIGKILL'), AGENT_EXIT_MS);
		await exited;
		clearTimeout(timer);
		// What the transport started may outlive it for a moment: its stderr is not worth waiting for.
		agent.child.stderr.destroy();
	}

	private note(text: string): void {
		this.notes.push(text);
		this.req.ui.note(text);
	}

	// ---- warming before the freeze

	private async sendPlan(image: Uint8Array, final: boolean): Promise<number> {
		const seq = this.seq++;
		await this.channel!.send({ type: 'plan', seq, final, image });
		this.timeline.planSent ??= this.at();
		return seq;
	}

	private async warmBeforeFreeze(): Promise<void> {
		const { req } = this;
		if (req.warm !== 'precopy') return;
		req.ui.phase('plan');
		const outcome = await precopy({
			pid: req.pid,
			scope: req.scope,
			signal: req.signal,
			timeoutS: req.precopyTimeoutS,
			sendPlan: (image) => this.sendPlan(image, false),
			nextWarmDone: (signal) => this.channel!.expect('warm-done', signal),
			fetched: () => {
				const { firstWarming, lastTime, bytes } = this.fetched;
				return { bytes, seconds: firstWarming === null || lastTime === null ? 0 : (lastTime - firstWarming) / 1000 };
			},
			note: (text) => this.note(text),
			warmingUp: () => req.ui.phase('warm-up'),
		});
		if (!outcome) return;
		this.planBytes = outcome.planBytes;
		this.recaptures = outcome.recaptures;
		this.precopy = { timeoutS: outcome.timeoutS, timedOut: outcome.timedOut };
		if (outcome.warmDone !== null) this.timeline.warmDone = this.at(outcome.warmDone);
	}

	// ---- the freeze

	private async freeze(): Promise<CriuOutcome> {
		const { req } = this;
		const notice = req.warm === 'precopy' || req.warm === 'freeze' ? await CaptureNotice.listen() : null;
		try {
			if (req.signal.aborted) throw new Interrupted();
			const env: NodeJS.ProcessEnv = { ...process.env };
			if (req.warm === 'off') env.HOTCACHE_DISABLE = '1';
			if (req.scope) env.HOTCACHE_SCOPE = req.scope;
			if (notice) env[MIGRATION.env.notify] = notice.socket;
			req.ui.phase('freeze');
			// From here on the process is CRIU's: no more interruptions.
			this.frozen = true;
			this.timeline.freeze = this.at();
			const child = startCriu(['dump', '-t', String(req.pid), '-D', this.imagesDir, ...this.dumpPieces, ...req.criuDumpArgs], this.imagesDir, 'dump.log', env);
			const dump = criuDone(child, this.imagesDir, 'dump.log');
			let planSent = false;
			if (notice) {
				const first = await Promise.race([notice.notice, dump.then(() => null)]);
				if (first && first.written) {
					this.finalPlanBeforeDumpEnd = true;
					planSent = await this.sendFinalPlan();
				} else if (first) this.note(`the plugin captured nothing at the freeze: ${first.reason}`);
			}
			const outcome = await dump;
			this.timeline.dumpDone = this.at();
			if (outcome.ok && notice && !planSent && this.finalPlanBeforeDumpEnd === null && existsSync(path.join(this.imagesDir, IMAGE_FILE))) {
				// The plugin did not say so (an older plugin installed?): the plan goes now.
				this.finalPlanBeforeDumpEnd = false;
				this.note('the plugin did not notify the capture: its plan went after the dump');
				await this.sendFinalPlan();
			}
			return outcome;
		} finally {
			notice?.close();
		}
	}

	private async sendFinalPlan(): Promise<boolean> {
		let framed: Buffer;
		try {
			framed = readFileSync(path.join(this.imagesDir, IMAGE_FILE));
			const image = decodeImage(framed);
			this.planBytes = pageCount(plannedPages(image)) * image.capture.pageSize;
		} catch (err) {
			this.note(`the plan from the freeze is not usable: ${err instanceof ImageError ? err.message : (err as Error).message}`);
			return false;
		}
		try {
			await this.sendPlan(framed, true);
			this.timeline.finalPlan = this.at();
			return true;
		} catch (err) {
			this.note(`the plan from the freeze did not reach the destination: ${(err as Error).message}`);
			return false;
		}
	}

	// ---- after the dump: images, restore, report

	private async moveImages(): Promise<{ outcome: Outcome; error: string | null }> {
		const { req } = this;
		req.ui.phase('images');
		const started = now();
		try {
			const bucket = await linkPace(req.linkBytesPerSecond);
			const sent = await sendImages(this.channel!, this.imagesDir, bucket, (bytes, total) => req.ui.progress('images', bytes, total, bytes / Math.max(1e-3, (now() - started) / 1000)));
			this.images.files = sent.files;
			this.images.bytes = sent.bytes;
			const received = await this.expect('files-received', RESTORE_TIMEOUT_MS);
			this.timeline.imagesDone = this.at();
			this.images.seconds = (now() - started) / 1000;
			if (received.bytes !== sent.bytes) throw new ChannelClosed(`the destination received ${received.bytes} of ${sent.bytes} bytes`);
		} catch (err) {
			return this.restoreOnSource(`the images did not reach the destination: ${(err as Error).message}`);
		}

		req.ui.phase('restore');
		if (this.sharedPidNamespace) await this.pidReleased();
		let restored: Extract<FromAgent, { type: 'restored' }>;
		try {
			restored = await this.expect('restored', RESTORE_TIMEOUT_MS, () => this.channel!.send({ type: 'restore' }));
		} catch (err) {
			// Asked, but no answer: it may be running there. Restoring it here too could make two.
			return { outcome: 'lost', error: `no answer from the destination after the restore was asked (${(err as Error).message}): it may be running there; if not, restore it from ${this.imagesDir}` };
		}
		if (!restored.ok) return this.restoreOnSource(`criu restore failed on the destination (${restored.reason})${restored.log ? `:\n${restored.log}` : ''}`);
		this.restored = restored;
		this.timeline.restoreStart = this.at(restored.start);
		this.timeline.resume = this.at(restored.time);

		req.ui.phase('after resume');
		try {
			const result = await this.expect('result', RESULT_TIMEOUT_MS, () => this.channel!.send({ type: 'finish' }));
			this.totals = result.totals;
			if (result.totals.lastEnd !== null) this.timeline.prefetchEnd = this.at(result.totals.lastEnd);
			if (result.totals.firstStart !== null) this.timeline.prefetchStart = Math.min(this.timeline.prefetchStart ?? Infinity, this.at(result.totals.firstStart));
		} catch (err) {
			this.note(`no report of the warm-up from the destination: ${(err as Error).message}`);
		}
		return { outcome: 'moved', error: null };
	}

	/** The dump killed the process; until it is reaped here its pid cannot be restored in this pid namespace. */
	private async pidReleased(): Promise<void> {
		if (!(await waitPidFree(this.req.pid, PID_FREE_MS))) this.note(`pid ${this.req.pid} was still taken ${PID_FREE_MS / 1000} s after the dump (its parent has not reaped it): the restore may fail`);
	}

	/** After the freeze: the process is restored here, from the images it was dumped to. */
	private async restoreOnSource(reason: string): Promise<{ outcome: Outcome; error: string | null }> {
		await this.abortAgent(reason);
		await this.closeAgent();
		await this.pidReleased();
		const env: NodeJS.ProcessEnv = { ...process.env, HOTCACHE_DISABLE: '1' }; // the source's cache is still warm
		const child = startCriu(['restore', '-D', this.imagesDir, '-d'], this.imagesDir, 'restore-source.log', env);
		const back = await criuDone(child, this.imagesDir, 'restore-source.log');
		if (back.ok) return { outcome: 'restored-on-source', error: reason };
		return { outcome: 'lost', error: `${reason}\nand the restore on the source failed too (${back.how}): ${back.errors}` };
	}

	private finish(outcome: Outcome, error: string | null): MigrationSummary {
		const t = this.timeline;
		const kept = !(this.defaultImages && (outcome === 'moved' || outcome === 'restored-on-source' || outcome === 'not-moved'));
		if (!kept) rmSync(this.imagesDir, { recursive: true, force: true });
		const r = this.restored;
		const summary: MigrationSummary = {
			pid: this.req.pid,
			destination: describeDestination(this.req.destination),
			warm: this.req.warm,
			migration: this.id,
			outcome,
			error,
			requestedAt: new Date(this.t0).toISOString(),
			requestedAtMs: this.t0,
			timeline: t,
			downtimeMs: t.freeze !== null && t.resume !== null ? t.resume - t.freeze : null,
			prefetchStartVsFreezeMs: t.freeze !== null && t.prefetchStart !== null ? t.prefetchStart - t.freeze : null,
			finalPlanBeforeDumpEnd: this.finalPlanBeforeDumpEnd,
			images: { dir: this.imagesDir, ...this.images, kept },
			plan: { bytes: r?.planBytes ?? this.planBytes, residentBeforeRestore: r?.residentBeforeRestore ?? null, residentAtResume: r?.residentAtResume ?? null },
			warmUp: {
				seconds: this.totals?.firstStart != null && this.totals.lastEnd != null ? (this.totals.lastEnd - this.totals.firstStart) / 1000 : null,
				fetchedBytes: this.totals?.fetchedBytes ?? null,
				fetchedAfterResume: this.totals?.fetchedAfterResume ?? null,
				prefetchers: this.totals?.prefetchers ?? [],
				recaptures: this.recaptures,
				status: this.totals?.status ?? null,
				record: this.destinationDir && this.totals ? path.join(this.destinationDir, RESTORE.files.record) : null,
			},
			precopy: this.precopy,
			clock: this.clockKnown ? this.clock : null,
			notes: this.notes,
		};
		writeFileSync(path.join(this.migrationDir, 'summary.json'), JSON.stringify(summary, null, 1) + '\n', { mode: 0o600 });
		return summary;
	}
}
