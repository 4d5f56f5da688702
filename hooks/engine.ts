// The prefetch loop: takes requests from the plan at the pace the yield policy sets from the cost model
// and the process's reading, keeps that many in flight, learns from each completion, and watches the
// process's files: every SAMPLE_MS (less often for files whose count is costly) it counts their
// resident pages that the prefetch did not bring (its reads, its readahead) and tells the demand
// tracker. A request that stalls drops its file from the
// plan; the loop stops when the plan is done, the memory budget is spent, SIGTERM came, or the libuv
// threads are all stuck in calls that do not return.
import { CostModel, type CostEstimate } from './cost-model.js';
import { Demand } from './demand.js';
import { fetchRequest, type FetchContext, type RequestResult } from './fetch.js';
import type { CostView, Phase, Plan, PlanFile, Request } from './plan.js';
import type { ModelView, PhaseTotals } from './record.js';
import { residentPages } from './residency.js';
import { SharedFd, type StuckCalls } from './stall-guard.js';
import { TokenBucket } from './token-bucket.js';
import { native } from './native.js';
import { closeFd } from './open-in-root.js';
import { decide } from './yield-policy.js';

/** How often the process's files are sampled. */
const SAMPLE_MS = 100;
/** Files watched (those with fds or mappings, largest first), and the share of time counting their pages may take. */
const WATCHED_FILES = 64;
const SAMPLE_DUTY = 0.02;
/** The process is "reading" when its files grow by at least this share of the link, or this many pages a second. */
const READING_SHARE = 0.01;
const READING_MIN_PAGES_PER_S = 32;
/** A run of requests that found everything resident doubles the request size up to 2^MAX_GROWTH times. */
const MAX_GROWTH = 6;
/** Files with an open file of their own for sequential reads, at most (the others open one per request). */
const SEQUENTIAL_FILES = 16;
/** Against the bandwidth cap, a request costs at least this much: the cap bounds requests too. */
export const REQUEST_CHARGE_BYTES = 64 << 10;
/** A request of at least half its file's readahead cap is read sequentially (large folios; fetch.ts); smaller ones exactly (WILLNEED). */
export function readsSequentially(req: Request, capPages: number): boolean {
	return req.count * 2 >= capPages;
}

export interface EngineFile {
	handle: SharedFd;
	plan: PlanFile;
	path: string;
	/** Its length in pages when opened: no readahead reaches past it. */
	sizePages: number;
}

export interface EngineEvents {
	request(seq: number, r: RequestResult): void;
	model(view: ModelView): void;
	reading(reading: boolean, pagesPerSecond: number): void;
	stall(file: number, seconds: number): void;
}

export interface EngineOptions {
	/** Most requests in flight. */
	workers: number;
	/** libuv's pool size: one thread is kept for the sampler. */
	threads: number;
	pageSize: number;
	stallMs: number;
	signal: AbortSignal;
	budgetPages: number;
	/** Caps, 0 = none: bytes per second, requests per second. */
	bandwidth: number;
	iops: number;
	/** How long the low-value pass waits, in all, for the process to stop reading. */
	spareWaitMs: number;
	stuck: StuckCalls;
	events: EngineEvents;
}

export type StopReason = 'budget' | 'threads' | 'no spare capacity' | 'aborted';

export function modelView(e: CostEstimate): ModelView {
	return { depth: e.depth, bandwidth: Math.round(e.bandwidth), requestCostMs: e.requestCost * 1000, latencyMs: e.latency === null ? null : e.latency * 1000, probing: e.probing };
}

export class Engine {
	readonly model: CostModel;
	private readonly demand = new Demand();
	/** Requests in flight, each with the pages after it where its readahead may reach (span). */
	private readonly inFlight = new Map<number, { req: Request; readahead: number; sequential: boolean }>();
	private readonly ownDone: Float64Array;
	/** Per watched file: its baseline, its highest foreign count, its latest foreign rate, when it was sampled and is due again. */
	private readonly watched: { file: number; base: number; max: number; rate: number; at: number; due: number }[] = [];
	private wasReading = false;
	private seq = 0;
	private budgetLeft: number;
	private readonly bandwidthCap: TokenBucket | null;
	private readonly iopsCap: TokenBucket | null;
	private readonly phases = new Map<Phase, PhaseTotals & { from: number; to: number }>();
	/** Completed requests with hot pages, for the activation pass. */
	readonly hotDone: Request[] = [];
	stopped: StopReason | null = null;
	private waitedMs = 0;
	private residentStreak = 0;
	/** An event handler threw (the record could not be written): the run ends with it. */
	private failure: { error: unknown } | null = null;
	/** Taken from the plan, waiting for room in flight. */
	private pending: Request | null = null;
	private inFlightPages = 0;
	/** Budget pages held for what the readahead of requests in flight may bring past them. */
	private reserved = 0;
	/**
	 * Per file, what the last sequential request's readahead brought past it: pages in [from, to) the
	 * next request there finds resident, and counts as fetched (the prefetch brought them), not as
	 * resident before the prefetch.
	 */
	private readonly ahead = new Map<number, { from: number; to: number; pages: number }>();
	/**
	 * Per file, its open file in normal readahead mode for sequential requests, opened at the first:
	 * one readahead state for the file, so a request goes on where the previous one's readahead
	 * stands (a new open file starts over with a window of 4 KiB folios). Closed by close().
	 */
	private readonly seqFds = new Map<number, Promise<SharedFd | null>>();

	constructor(
		private readonly plan: Plan,
		private readonly files: readonly EngineFile[],
		private readonly o: EngineOptions,
	) {
		this.model = new CostModel(o.workers);
		this.ownDone = new Float64Array(files.length);
		this.budgetLeft = o.budgetPages;
		this.bandwidthCap = o.bandwidth > 0 ? new TokenBucket(o.bandwidth) : null;
		this.iopsCap = o.iops > 0 ? new TokenBucket(o.iops) : null;
	}

	/** Counts the watched files' resident pages before anything is fetched: the baseline of foreign pages. */
	async start(): Promise<void> {
		const candidates = this.files.map((f, file) => ({ file, f })).filter(({ f }) => f.plan.fdPages.length > 0 || f.plan.mapped);
		candidates.sort((a, b) => b.f.plan.ranges.length - a.f.plan.ranges.length);
		for (const { file } of candidates.slice(0, WATCHED_FILES)) {
			const base = await this.residentNow(file, 0, 0);
			const at = performance.now();
			if (base !== null) this.watched.push({ file, base, max: 0, rate: 0, at, due: at + SAMPLE_MS });
		}
	}

	/**
	 * Runs until the plan is done (or only low-value pages are left, when `lowValue` is false), then
	 * resolves; `stopped` says why it ended early. When an event handler throws, no request is sent
	 * any more and the run rejects with that error once every request in flight has returned (their
	 * fds must stay open until then).
	 */
	run(lowValue: boolean): Promise<void> {
		return new Promise((resolve, reject) => {
			let sampling = false;
			const tick = setInterval(() => {
				if (sampling) return;
				sampling = true;
				this.sample()
					.catch(() => {}) // a file that cannot be sampled just tells nothing this time
					.finally(() => {
						sampling = false;
						pump();
					});
			}, SAMPLE_MS);
			const onAbort = (): void => pump();
			this.o.signal.addEventListener('abort', onAbort);
			let ended = false;
			let lastWait: number | null = null;
			const finish = (): void => {
				if (ended) return;
				ended = true;
				clearInterval(tick);
				this.o.signal.removeEventListener('abort', onAbort);
				if (this.failure) reject(this.failure.error);
				else resolve();
			};
			const pump = (): void => {
				if (ended) return;
				let exhausted = false;
				let waiting = false;
				for (;;) {
					if (this.failure) break;
					const stop = this.stopReason();
					if (stop) {
						this.stopped ??= stop;
						break;
					}
					const now = performance.now();
					const reading = this.demand.reading(now);
					const estimate = this.model.estimate();
					const decision = decide(reading, reading ? this.demand.rate() * this.o.pageSize : 0, estimate, this.o.pageSize, this.o.workers);
					if (this.inFlight.size >= Math.min(decision.depth, this.threadsFree())) break;
					const grown = decision.pace.chunkPages * 2 ** Math.min(this.residentStreak, MAX_GROWTH);
					const pace = { ...decision.pace, chunkPages: grown, lowValue: lowValue && decision.pace.lowValue };
					const next = this.pending ?? this.plan.next(pace, this.costView(estimate));
					this.pending = null;
					// A request that would take the pages in flight past the bound waits for a completion; so
					// does one that meets a request in flight on the pages it reads or its readahead may
					// reach (each sequential request counts what its readahead brings: nobody else's).
					if (typeof next === 'object' && next && this.inFlight.size > 0 && (this.inFlightPages + next.count > decision.inFlightPages * 2 ** Math.min(this.residentStreak, MAX_GROWTH) || this.meetsInFlight(next))) {
						this.pending = next;
						break;
					}
					if (next === null || (next === 'wait' && !lowValue)) {
						exhausted = true;
						break;
					}
					if (next === 'wait') {
						waiting = true;
						break;
					}
					lastWait = null;
					if (this.budgetLeft - this.reserved + this.prepaid(next) <= 0) {
						// What requests in flight have reserved comes back when they complete.
						if (this.reserved > 0) this.pending = next;
						else this.stopped = 'budget';
						break;
					}
					this.dispatch(next, decision.depth, pump);
				}
				if (waiting && this.inFlight.size === 0) {
					const now = performance.now();
					if (lastWait !== null) this.waitedMs += now - lastWait;
					lastWait = now;
					if (this.waitedMs >= this.o.spareWaitMs) this.stopped ??= 'no spare capacity';
				}
				if (this.inFlight.size === 0 && (exhausted || this.stopped || this.failure)) finish();
			};
			pump();
		});
	}

	/**
	 * How many pages after a request its readahead may reach: two caps (measured: up to one and a half)
	 * for a sequential read, and for any read over pages an earlier one's readahead brought (they carry
	 * its marker, which starts another window even on a forced read); 0 otherwise.
	 */
	private span(req: Request): number {
		const f = this.files[req.file]!;
		const cap = f.plan.capPages;
		return readsSequentially(req, cap) || this.inAhead(req) ? Math.max(0, Math.min(2 * cap, f.sizePages - req.start - req.count)) : 0;
	}

	/** Pages of a request the budget has paid for already, as an earlier request's readahead (refunded when it completes). */
	private prepaid(req: Request): number {
		return this.inAhead(req) ? Math.min(req.count, this.ahead.get(req.file)!.pages) : 0;
	}

	/** Over pages the last readahead of its file brought past a request. */
	private inAhead(req: Request): boolean {
		const ahead = this.ahead.get(req.file);
		return ahead !== undefined && req.start < ahead.to && req.start + req.count > ahead.from;
	}

	private meetsInFlight(req: Request): boolean {
		const reach = (r: Request, ahead: number): number => r.start + r.count + ahead;
		const mine = this.span(req);
		// One sequential read of a file at a time: they share its open file, whose readahead state (and
		// its last read position, by which the kernel marks a large folio accessed once per pass, not
		// at every read into it) two interleaved reads would spoil.
		const sequential = readsSequentially(req, this.files[req.file]!.plan.capPages);
		for (const { req: other, readahead, sequential: both } of this.inFlight.values()) {
			if (other.file !== req.file) continue;
			if (sequential && both) return true;
			if ((mine > 0 || readahead > 0) && req.start < reach(other, readahead) && other.start < reach(req, mine)) return true;
		}
		return false;
	}

	private threadsFree(): number {
		return this.o.threads - 1 - this.o.stuck.stuck;
	}

	private stopReason(): StopReason | null {
		if (this.o.signal.aborted) return 'aborted';
		if (this.threadsFree() < 1) return 'threads';
		return null;
	}

	private costView(e: CostEstimate): CostView {
		return { bandwidth: e.bandwidth, requestCost: e.requestCost, pageSize: this.o.pageSize };
	}

	private dispatch(req: Request, depth: number, pump: () => void): void {
		const free = this.budgetLeft - this.reserved + this.prepaid(req);
		if (req.count > free) req = { ...req, count: free };
		// Where its readahead may reach is reserved too; without room for it, it is read exactly (where
		// that still meets a marker, at most one window past the budget: counted, not reserved).
		const span = this.span(req);
		const fits = req.count + span <= free;
		const reserve = fits ? span : 0;
		const sequential = fits && readsSequentially(req, this.files[req.file]!.plan.capPages);
		this.budgetLeft -= req.count;
		this.reserved += reserve;
		const seq = this.seq++;
		this.inFlight.set(seq, { req, readahead: span, sequential });
		this.inFlightPages += req.count;
		const ctx: FetchContext = { pageSize: this.o.pageSize, stallMs: this.o.stallMs, stuck: this.o.stuck, signal: this.o.signal, pay: (bytes) => this.pay(bytes) };
		const fetched = (sequential ? this.sequentialFd(req.file) : Promise.resolve(null)).then((seqFd) => fetchRequest(this.files[req.file]!.handle, req, ctx, { span, sequential, seq: seqFd }));
		void fetched.then((r) => {
			this.inFlight.delete(seq);
			this.inFlightPages -= req.count;
			// A stalled call may still bring its readahead: all it reserved is spent.
			this.reserved -= reserve;
			this.budgetLeft -= r.stalled ? reserve : r.readahead;
			try {
				this.completed(seq, r, depth, span, sequential);
			} catch (error) {
				this.failure ??= { error };
			}
			pump();
		});
	}

	/** The file's open file for sequential reads (null: none to be had; each request then opens its own). */
	private sequentialFd(file: number): Promise<SharedFd | null> {
		let seq = this.seqFds.get(file);
		if (seq) return seq;
		if (this.seqFds.size >= SEQUENTIAL_FILES) return Promise.resolve(null);
		const { handle } = this.files[file]!;
		const call = handle.use((fd) => native().reopen(fd));
		seq = this.o.stuck
			.within(call, this.o.stallMs, this.o.signal)
			.then((r) => {
				if (r.done) return new SharedFd(r.value, closeFd);
				// Should it open after all, its fd is not ours to keep.
				call.then(closeFd, () => {});
				return null;
			})
			.catch(() => null);
		this.seqFds.set(file, seq);
		return seq;
	}

	/** Closes the files opened for sequential reads, each once no call uses it. */
	async close(): Promise<void> {
		const fds = await Promise.all(this.seqFds.values());
		this.seqFds.clear();
		await Promise.all(fds.map((fd) => fd?.release()));
	}

	/** Takes a request's full range from the caps; the refund gives back what it found resident. */
	private async pay(bytes: number): Promise<(bytesRead: number) => void> {
		const charge = Math.max(bytes, REQUEST_CHARGE_BYTES);
		await this.bandwidthCap?.take(charge, this.o.signal);
		await this.iopsCap?.take(1, this.o.signal);
		return (needed) => this.bandwidthCap?.refund(charge - Math.max(needed, REQUEST_CHARGE_BYTES));
	}

	private completed(seq: number, raw: RequestResult, depth: number, span: number, sequential: boolean): void {
		const { req } = raw;
		const brought = raw.fetched + raw.readahead;
		const r = this.creditAhead(raw, span);
		this.ownDone[req.file] = this.ownDone[req.file]! + brought;
		const before = this.model.estimate();
		this.model.observe({ bytes: brought * this.o.pageSize, sentMs: r.sentMs, doneMs: r.doneMs }, depth, this.demand.quiet(r.doneMs));
		const after = this.model.estimate();
		if (after.depth !== before.depth || after.probing !== before.probing) this.o.events.model(modelView(after));
		const p = this.phases.get(req.phase) ?? { phase: req.phase, requests: 0, pages: 0, fetched: 0, bytes: 0, seconds: 0, rate: 0, from: r.sentMs, to: r.doneMs };
		p.requests++;
		p.pages += req.count;
		p.fetched += r.fetched;
		p.bytes += brought * this.o.pageSize;
		p.from = Math.min(p.from, r.sentMs);
		p.to = Math.max(p.to, r.doneMs);
		this.phases.set(req.phase, p);
		if (r.stalled) {
			this.plan.drop(req.file);
			this.o.events.stall(req.file, this.o.stallMs / 1000);
		} else if (req.hot > 0 && r.fetched > 0 && !r.error) {
			// Pages the process brought, it has read itself. Pages an earlier request's readahead brought
			// into this one, found all resident by an exact request, were never read: the activation
			// reads them twice. (A sequential request reads through resident pages.)
			this.hotDone.push(req);
			if (raw.fetched === 0 && !sequential) this.hotDone.push(req);
		}
		// Requests that find everything resident (the process read there first) grow, so the plan is passed over quickly.
		this.residentStreak = r.fetched === 0 && !r.stalled && !r.error ? this.residentStreak + 1 : 0;
		this.o.events.request(seq, r);
	}

	/**
	 * A request's result with the pages an earlier request's readahead brought into it counted as
	 * fetched; the budget, which paid for them as that readahead, gets back what this request paid again.
	 */
	private creditAhead(r: RequestResult, span: number): RequestResult {
		const { req } = r;
		const prior = this.ahead.get(req.file);
		let out = r;
		if (prior && req.start < prior.to && req.start + req.count > prior.from) {
			const claimed = Math.min(prior.pages, r.resident);
			prior.pages -= claimed;
			this.budgetLeft += claimed; // spent once already, as that readahead
			if (prior.pages <= 0) this.ahead.delete(req.file);
			out = { ...r, resident: r.resident - claimed, fetched: r.fetched + claimed };
		}
		if (r.readahead > 0) {
			// What is left of the earlier readahead's pages lies after this request, as its own do.
			const end = req.start + req.count;
			const left = this.ahead.get(req.file);
			this.ahead.set(req.file, { from: end, to: Math.max(end + span, left?.to ?? 0), pages: r.readahead + (left && left.to > end ? left.pages : 0) });
		}
		return out;
	}

	/** Per phase: requests, pages, bytes brought and the rate over the phase's span. */
	phaseTotals(): PhaseTotals[] {
		return [...this.phases.values()].map(({ from, to, ...p }) => {
			const seconds = Math.max(0, to - from) / 1000;
			return { ...p, seconds, rate: seconds > 0 ? p.bytes / seconds : 0 };
		});
	}

	private async residentNow(file: number, offset: number, length: number): Promise<number | null> {
		const r = await this.o.stuck.within(this.files[file]!.handle.use((fd) => residentPages(fd, offset, length)), this.o.stallMs, this.o.signal);
		return r.done ? r.value : null;
	}

	/**
	 * One sample of the watched files that are due: resident pages now, minus the baseline, minus what
	 * the prefetch's completed requests brought, minus what its requests in flight cover. Growth beyond
	 * the file's highest count so far is foreign (a drop, such as an eviction, is not counted back),
	 * and its rate is that growth over the time since the file's previous sample. Counting a file's
	 * resident pages costs time in proportion to them (45 ms for a cached GiB here), so a file is
	 * sampled again only after SAMPLE_DUTY's worth of what its last count took: the sampler's CPU
	 * stays small however much is cached.
	 */
	private async sample(): Promise<void> {
		let sampled = false;
		let longest = SAMPLE_MS;
		for (const w of this.watched) {
			const t0 = performance.now();
			if (t0 < w.due) continue;
			const total = await this.residentNow(w.file, 0, 0);
			const took = performance.now() - t0;
			w.due = t0 + Math.max(SAMPLE_MS, took / SAMPLE_DUTY);
			longest = Math.max(longest, w.due - t0);
			if (total === null) continue;
			// Taken after the count: a request sent since is then in both (never in the count alone).
			const flying = [...this.inFlight.entries()].filter(([, f]) => f.req.file === w.file);
			let ownFlying = 0;
			for (const [seq, { req, readahead }] of flying) {
				// All a request's range (and where its readahead may reach) counts as the prefetch's while
				// it is in flight (what was resident before it is not known yet): a sample then errs
				// toward "not reading".
				const now = await this.residentNow(w.file, req.start * this.o.pageSize, (req.count + readahead) * this.o.pageSize);
				// Completed meanwhile: its pages are in ownDone now.
				if (now !== null && this.inFlight.has(seq)) ownFlying += now;
			}
			const foreign = total - w.base - this.ownDone[w.file]! - ownFlying;
			const at = performance.now();
			w.rate = Math.max(0, foreign - w.max) / Math.max(1e-3, (at - w.at) / 1000);
			w.max = Math.max(w.max, foreign);
			w.at = at;
			sampled = true;
		}
		if (!sampled) return;
		const now = performance.now();
		const { bandwidth } = this.model.estimate();
		const rate = this.watched.reduce((sum, w) => sum + w.rate, 0);
		this.demand.observe(now, rate, Math.max(READING_MIN_PAGES_PER_S, (READING_SHARE * bandwidth) / this.o.pageSize), 1.5 * longest);
		const reading = this.demand.reading(now);
		if (reading !== this.wasReading) {
			this.wasReading = reading;
			this.o.events.reading(reading, Math.round(this.demand.rate()));
		}
	}
}
