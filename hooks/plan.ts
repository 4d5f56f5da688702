// The prefetch plan: which pages to read, in which requests, in which order. Pure: no I/O, so every
// decision is unit-tested on recorded plans and cost models.
//
//   resume: the planned pages in the window right after every saved fd offset, round robin over the
//           windows: a sequential reader resumes there. Taken first while the process is not reading.
//   main:   the other planned pages, coalesced into runs through gaps a request costs more than, each
//           run ordered by its value per cost (hot pages weigh most, then warm, then resident-only;
//           the cost is a request overhead per chunk plus its bytes over the bandwidth): dense before
//           sparse, hot before warm, a mapped file's hot pages (touched by faults) before the rest.
//           Runs of about equal worth are taken in the process's order from the front, or from the
//           back (the part it reaches last) while it is reading itself. Warm-only runs whose request costs
//           more than their bytes are "low value": fetched only with spare capacity, last.
// A request never crosses a file's readahead cap, and its gaps are never longer than the pace allows.
// An image may hold millions of ranges and fds: windows and runs are one pass over the ranges, kept
// in flat arrays; requests are made one at a time as they are asked for.
import { Hotness, type PageRange } from '../proto/image.js';

export type Phase = 'resume' | 'hot' | 'warm' | 'resident';

export interface PlanFile {
	/** Sorted, disjoint. */
	ranges: readonly PageRange[];
	/** Saved fd offsets, in pages: sorted, distinct. */
	fdPages: readonly number[];
	/** Per-call readahead cap of the file's device, in pages (>= 1). */
	capPages: number;
	/** The process maps the file: its pages are touched by faults, one at a time. */
	mapped: boolean;
}

export interface PlanOptions {
	/** Length of the window after each fd offset that goes first, in pages. */
	resumePages: number;
	/** Resident-only pages are planned (the capture could tell nothing better). */
	includeResident: boolean;
}

export interface Request {
	file: number;
	start: number;
	count: number;
	phase: Phase;
	/** Planned pages of each class inside; the rest of `count` are gaps read through. */
	hot: number;
	warm: number;
	resident: number;
}

/** How the engine wants the next request made, from what it knows now. */
export interface Pace {
	/** Gaps up to this many pages are read through rather than paid with another request. */
	gapPages: number;
	/** Requests are at most this long (and at most the file's cap). */
	chunkPages: number;
	/** Take the part of the current rank the process reaches last (it is reading itself). */
	fromBack: boolean;
	/** Low-value runs may be taken (there is spare capacity). */
	lowValue: boolean;
}

/** The storage's cost, as the runs are ranked. */
export interface CostView {
	/** Bytes per second. */
	bandwidth: number;
	/** Seconds one more request costs beyond its bytes. */
	requestCost: number;
	pageSize: number;
}

/** Value of a page of each class, relative to a hot page. */
export const PAGE_VALUE: Readonly<Record<Hotness, number>> = { [Hotness.Hot]: 1, [Hotness.Warm]: 0.25, [Hotness.Resident]: 0.05 };

const isPlanned = (r: PageRange, includeResident: boolean): boolean => r.hotness !== Hotness.Resident || includeResident;

function phaseOf(hot: number, warm: number): Phase {
	return hot > 0 ? 'hot' : warm > 0 ? 'warm' : 'resident';
}

/** First index in [lo, hi) for which `past(i)` holds (`past` is monotonic), hi when none. */
function firstIndex(lo: number, hi: number, past: (i: number) => boolean): number {
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (past(mid)) hi = mid;
		else lo = mid + 1;
	}
	return lo;
}

/** Index of the first range that ends after `page`. */
function rangeAfter(ranges: readonly PageRange[], page: number): number {
	return firstIndex(0, ranges.length, (i) => ranges[i]!.start + ranges[i]!.count > page);
}

/**
 * Where the next piece of a stretch starts (front) or ends (back): `pos` is a page, `ri` the index of
 * the range holding or following it (front) or holding or preceding it (back).
 */
interface Cursor {
	ri: number;
	pos: number;
}

interface Counts {
	hot: number;
	warm: number;
	resident: number;
}

function count(counts: Counts, hotness: Hotness, pages: number): void {
	if (hotness === Hotness.Hot) counts.hot += pages;
	else if (hotness === Hotness.Warm) counts.warm += pages;
	else counts.resident += pages;
}

/**
 * The next request from the front of [cur.pos, limit): it starts at the first planned page, takes
 * ranges while the gap before each is at most `gap`, and ends within `chunk` pages; the cursor moves
 * past it. With `into`, the request grows `into` (which ends before cur.pos) instead. Null when no
 * planned page is taken.
 */
/**
 * A request cut by its chunk length ends on a multiple of this many pages (2 MiB with 4 KiB pages,
 * x86's PMD size: the largest folio the page cache makes there): folios are aligned to their size, so
 * no large folio is read by two requests, which would mark it accessed twice (activated) without the
 * process ever reading it.
 */
export const CUT_ALIGN_PAGES = 512;

/** Where a chunk starting at `start` is cut: at `start + chunk`, moved back to a CUT_ALIGN_PAGES boundary when the chunk is that long. */
function cutAfter(start: number, chunk: number): number {
	const cut = start + chunk;
	const aligned = cut - (cut % CUT_ALIGN_PAGES);
	return chunk >= CUT_ALIGN_PAGES && aligned > start ? aligned : cut;
}

/** takeFront's cut mirrored: where a chunk ending at `end` starts. */
function cutBefore(end: number, chunk: number): number {
	const cut = end - chunk;
	const aligned = cut + ((CUT_ALIGN_PAGES - (cut % CUT_ALIGN_PAGES)) % CUT_ALIGN_PAGES);
	return chunk >= CUT_ALIGN_PAGES && aligned < end ? aligned : cut;
}

function takeFront(file: number, f: PlanFile, inc: boolean, cur: Cursor, limit: number, gap: number, chunk: number, into?: Request): Request | null {
	const c: Counts = into ? { hot: into.hot, warm: into.warm, resident: into.resident } : { hot: 0, warm: 0, resident: 0 };
	let start = into ? into.start : -1;
	let end = into ? into.start + into.count : -1;
	const from = end;
	let ri = cur.ri;
	for (; ri < f.ranges.length; ri++) {
		const r = f.ranges[ri]!;
		const s = Math.max(r.start, cur.pos);
		const rEnd = Math.min(r.start + r.count, limit);
		if (s >= limit) break;
		if (s >= rEnd || !isPlanned(r, inc)) continue;
		if (start < 0) start = s;
		else if (s - end > gap || s >= cutAfter(start, chunk)) break;
		const stop = Math.min(rEnd, cutAfter(start, chunk));
		count(c, r.hotness, stop - s);
		end = stop;
		if (stop < rEnd) break; // cut by the chunk: the cursor stays in this range
	}
	if (end === from) {
		if (!into) {
			cur.ri = ri;
			cur.pos = limit;
		}
		return null;
	}
	cur.ri = ri;
	cur.pos = end;
	return { file, start, count: end - start, phase: phaseOf(c.hot, c.warm), ...c };
}

/** takeFront's mirror: the next request ending at the last planned page before cur.pos, down to `limit`. */
function takeBack(file: number, f: PlanFile, inc: boolean, cur: Cursor, limit: number, gap: number, chunk: number, into?: Request): Request | null {
	const c: Counts = into ? { hot: into.hot, warm: into.warm, resident: into.resident } : { hot: 0, warm: 0, resident: 0 };
	let start = into ? into.start : -1;
	let end = into ? into.start + into.count : -1;
	const from = start;
	let ri = cur.ri;
	for (; ri >= 0; ri--) {
		const r = f.ranges[ri]!;
		const e = Math.min(r.start + r.count, cur.pos);
		const rStart = Math.max(r.start, limit);
		if (e <= limit) break;
		if (e <= rStart || !isPlanned(r, inc)) continue;
		if (end < 0) end = e;
		else if (start - e > gap || e <= cutBefore(end, chunk)) break;
		const fromPage = Math.max(rStart, cutBefore(end, chunk));
		count(c, r.hotness, e - fromPage);
		start = fromPage;
		if (fromPage > rStart) break;
	}
	if (start === from) {
		if (!into) {
			cur.ri = ri;
			cur.pos = limit;
		}
		return null;
	}
	cur.ri = ri;
	cur.pos = start;
	return { file, start, count: end - start, phase: phaseOf(c.hot, c.warm), ...c };
}

/** Each file's resume windows: [fd page, fd page + length), merged where they overlap. */
function resumeWindows(f: PlanFile, length: number): [number, number][] {
	const out: [number, number][] = [];
	for (const p of f.fdPages) {
		const last = out[out.length - 1];
		if (last && p <= last[1]) last[1] = Math.max(last[1], p + length);
		else out.push([p, p + length]);
	}
	return out;
}

interface Window {
	file: number;
	end: number;
	cur: Cursor;
}

/** The resume phase: one request per window in turn, so every resumed reader gets its next pages early. */
class ResumeQueue {
	private windows: Window[] = [];
	private turn = 0;

	constructor(files: readonly PlanFile[], options: PlanOptions) {
		if (options.resumePages <= 0) return;
		files.forEach((f, file) => {
			for (const [from, to] of resumeWindows(f, options.resumePages)) this.windows.push({ file, end: to, cur: { ri: rangeAfter(f.ranges, from), pos: from } });
		});
	}

	get done(): boolean {
		return this.windows.length === 0;
	}

	next(files: readonly PlanFile[], inc: boolean, pace: Pace, dropped: ReadonlySet<number>): Request | null {
		while (this.windows.length > 0) {
			if (this.turn >= this.windows.length) this.turn = 0;
			const w = this.windows[this.turn]!;
			const f = files[w.file]!;
			const req = dropped.has(w.file) ? null : takeFront(w.file, f, inc, w.cur, w.end, pace.gapPages, Math.min(pace.chunkPages, f.capPages));
			if (req) {
				this.turn++;
				return { ...req, phase: 'resume' };
			}
			this.windows.splice(this.turn, 1); // exhausted: the next window takes its turn
		}
		return null;
	}
}

/** Runs in flat arrays (there may be millions). */
class Runs {
	readonly file: number[] = [];
	readonly start: number[] = [];
	readonly end: number[] = [];
	/** Indexes of the first range overlapping the run and of the last one. */
	readonly firstRange: number[] = [];
	readonly lastRange: number[] = [];
	readonly hot: number[] = [];
	readonly warm: number[] = [];
	readonly resident: number[] = [];

	get length(): number {
		return this.file.length;
	}

	push(file: number, start: number, end: number, firstRange: number, lastRange: number, c: Counts): void {
		this.file.push(file);
		this.start.push(start);
		this.end.push(end);
		this.firstRange.push(firstRange);
		this.lastRange.push(lastRange);
		this.hot.push(c.hot);
		this.warm.push(c.warm);
		this.resident.push(c.resident);
	}
}

/**
 * One file's planned pages outside its resume windows, merged into runs wherever the gap is at most
 * `gap` pages. A window always ends a run: its pages are the resume phase's.
 */
function fileRuns(runs: Runs, file: number, f: PlanFile, windows: [number, number][], inc: boolean, gap: number): void {
	let w = 0;
	let open = false;
	let runStart = 0;
	let runEnd = 0;
	let first = 0;
	let last = 0;
	let c: Counts = { hot: 0, warm: 0, resident: 0 };
	const close = (): void => {
		if (open) runs.push(file, runStart, runEnd, first, last, c);
		open = false;
		c = { hot: 0, warm: 0, resident: 0 };
	};
	f.ranges.forEach((r, ri) => {
		if (!isPlanned(r, inc)) return;
		let s = r.start;
		const e = r.start + r.count;
		while (s < e) {
			while (w < windows.length && windows[w]![1] <= s) w++;
			const win = windows[w];
			if (win && win[0] <= s) {
				// Inside a window: skip to its end (and end the run there).
				close();
				s = Math.min(e, win[1]);
				continue;
			}
			const segEnd = win ? Math.min(e, win[0]) : e;
			const windowBetween = w > 0 && windows[w - 1]![1] > runEnd && open;
			if (!open || s - runEnd > gap || windowBetween) {
				close();
				open = true;
				runStart = s;
				first = ri;
			}
			count(c, r.hotness, segEnd - s);
			runEnd = segEnd;
			last = ri;
			s = segEnd;
		}
	});
	close();
}

// A run's rank: 2 for a mapped file's hot pages, 1 for the rest, 0 for low-value runs (last, and
// only with spare capacity).
const RANK_FIRST = 2;
const RANK_NORMAL = 1;
const RANK_LOW = 0;
/**
 * A run without hot pages is low value when it is worth less than warm pages read at this density
 * (one in four of the bytes read): an isolated warm page whose request costs more than three pages'
 * bytes (on any real storage), or warm pages scattered thinly over a wide region.
 */
const LOW_VALUE_DENSITY = 1 / 4;
/**
 * Runs of one rank whose scores lie within this factor of the best of their group are "equally worth
 * it": taken in file order, each file in the process's order (or from the back).
 */
const GROUP_RATIO = Math.SQRT2;

/** The main phase: runs ranked once, then taken rank by rank from the front or the back. */
class MainQueue {
	private readonly runs = new Runs();
	private readonly order: Uint32Array;
	/** [from, to, rank] spans of `order` whose runs are taken as one group. */
	private readonly groups: [number, number, number][] = [];
	private group = 0;
	private lo = 0;
	private hi = 0;
	private front: { run: number; cur: Cursor } | null = null;
	private back: { run: number; cur: Cursor } | null = null;

	constructor(files: readonly PlanFile[], options: PlanOptions, cost: CostView, gap: number) {
		const inc = options.includeResident;
		files.forEach((f, file) => fileRuns(this.runs, file, f, resumeWindows(f, options.resumePages), inc, gap));
		const n = this.runs.length;
		const rank = new Uint8Array(n);
		const score = new Float64Array(n);
		const position = new Float64Array(n);
		const r = this.runs;
		const pageSeconds = cost.pageSize / cost.bandwidth;
		const lowValueBelow = (LOW_VALUE_DENSITY * PAGE_VALUE[Hotness.Warm]) / pageSeconds;
		for (let i = 0; i < n; i++) {
			const f = files[r.file[i]!]!;
			const span = r.end[i]! - r.start[i]!;
			const value = r.hot[i]! * PAGE_VALUE[Hotness.Hot] + r.warm[i]! * PAGE_VALUE[Hotness.Warm] + r.resident[i]! * PAGE_VALUE[Hotness.Resident];
			const seconds = Math.ceil(span / f.capPages) * cost.requestCost + span * pageSeconds;
			score[i] = value / seconds;
			const lowValue = r.hot[i] === 0 && score[i]! < lowValueBelow;
			rank[i] = lowValue ? RANK_LOW : f.mapped && r.hot[i]! > 0 ? RANK_FIRST : RANK_NORMAL;
			// The process's order: from its first fd's offset to the end, then the pages before it.
			const from = f.fdPages[0] ?? 0;
			position[i] = r.start[i]! >= from ? r.start[i]! - from : r.start[i]! + 2 ** 41;
		}
		this.order = new Uint32Array(n);
		for (let i = 0; i < n; i++) this.order[i] = i;
		this.order.sort((a, b) => rank[b]! - rank[a]! || score[b]! - score[a]!);
		for (let i = 0; i < n; ) {
			const top = this.order[i]!;
			let j = i + 1;
			while (j < n && rank[this.order[j]!] === rank[top] && score[this.order[j]!]! * GROUP_RATIO >= score[top]!) j++;
			this.order.subarray(i, j).sort((a, b) => r.file[a]! - r.file[b]! || position[a]! - position[b]!);
			this.groups.push([i, j, rank[top]!]);
			i = j;
		}
		this.enter(0);
	}

	private enter(group: number): void {
		this.group = group;
		const g = this.groups[group];
		this.lo = g ? g[0] : 0;
		this.hi = g ? g[1] : 0;
		this.front = null;
		this.back = null;
	}

	next(files: readonly PlanFile[], inc: boolean, pace: Pace, dropped: ReadonlySet<number>): Request | 'wait' | null {
		const r = this.runs;
		for (;;) {
			const g = this.groups[this.group];
			if (!g) return null;
			if (this.lo >= this.hi) {
				this.enter(this.group + 1);
				continue;
			}
			if (g[2] === RANK_LOW && !pace.lowValue) return 'wait';
			const run = pace.fromBack ? this.order[this.hi - 1]! : this.order[this.lo]!;
			const file = r.file[run]!;
			const f = files[file]!;
			const chunk = Math.min(pace.chunkPages, f.capPages);
			const req = dropped.has(file) ? null : pace.fromBack ? this.fromBack(f, inc, run, pace.gapPages, chunk) : this.fromFront(f, inc, run, pace.gapPages, chunk);
			if (req) return req;
			// The run is used up (from this side, up to the other side's cursor).
			if (pace.fromBack) this.hi--;
			else this.lo++;
		}
	}

	/**
	 * A request from the front of `run`; when it reaches the run's end with room left, it goes on into
	 * the group's next run if that one follows in the file within the gap (runs were cut at the gap of
	 * the moment the plan was ranked; the pace's gap may have grown since).
	 */
	private fromFront(f: PlanFile, inc: boolean, run: number, gap: number, chunk: number): Request | null {
		const r = this.runs;
		const file = r.file[run]!;
		if (this.front?.run !== run) this.front = { run, cur: { ri: r.firstRange[run]!, pos: r.start[run]! } };
		let req = takeFront(file, f, inc, this.front.cur, this.back?.run === run ? this.back.cur.pos : r.end[run]!, gap, chunk);
		while (req && req.count < chunk && this.front.cur.pos >= r.end[this.front.run]! && this.lo + 1 < this.hi) {
			const next = this.order[this.lo + 1]!;
			const gapTo = r.start[next]! - (req.start + req.count);
			if (r.file[next] !== file || gapTo < 0 || gapTo > gap) break;
			this.lo++;
			this.front = { run: next, cur: { ri: r.firstRange[next]!, pos: r.start[next]! } };
			req = takeFront(file, f, inc, this.front.cur, this.back?.run === next ? this.back.cur.pos : r.end[next]!, gap, chunk, req) ?? req;
		}
		return req;
	}

	/** fromFront's mirror, from the back, going on into the group's previous run. */
	private fromBack(f: PlanFile, inc: boolean, run: number, gap: number, chunk: number): Request | null {
		const r = this.runs;
		const file = r.file[run]!;
		if (this.back?.run !== run) this.back = { run, cur: { ri: r.lastRange[run]!, pos: r.end[run]! } };
		let req = takeBack(file, f, inc, this.back.cur, this.front?.run === run ? this.front.cur.pos : r.start[run]!, gap, chunk);
		while (req && req.count < chunk && this.back.cur.pos <= r.start[this.back.run]! && this.hi - 2 >= this.lo) {
			const prev = this.order[this.hi - 2]!;
			const gapTo = req.start - r.end[prev]!;
			if (r.file[prev] !== file || gapTo < 0 || gapTo > gap) break;
			this.hi--;
			this.back = { run: prev, cur: { ri: r.lastRange[prev]!, pos: r.end[prev]! } };
			req = takeBack(file, f, inc, this.back.cur, this.front?.run === prev ? this.front.cur.pos : r.start[prev]!, gap, chunk, req) ?? req;
		}
		return req;
	}
}

/** The whole plan, made as it is consumed. */
export class Plan {
	private readonly resume: ResumeQueue;
	private main: MainQueue | null = null;
	private readonly dropped = new Set<number>();

	constructor(
		private readonly files: readonly PlanFile[],
		private readonly options: PlanOptions,
	) {
		this.resume = new ResumeQueue(files, options);
	}

	/**
	 * The next request: resume windows first unless the process is reading (then the main phase
	 * from the back, the windows after it); 'wait' when only low-value runs are left and the pace
	 * forbids them; null when nothing is left. The runs are ranked with `cost` as it is when the main
	 * phase is first reached (the resume requests are the first measurement).
	 */
	next(pace: Pace, cost: CostView): Request | 'wait' | null {
		const inc = this.options.includeResident;
		if (!pace.fromBack && !this.resume.done) {
			const req = this.resume.next(this.files, inc, pace, this.dropped);
			if (req) return req;
		}
		this.main ??= new MainQueue(this.files, this.options, cost, pace.gapPages);
		const req = this.main.next(this.files, inc, pace, this.dropped);
		if (req === null || req === 'wait') return this.resume.next(this.files, inc, pace, this.dropped) ?? req;
		return req;
	}

	/** Nothing more of `file` (it stalled). */
	drop(file: number): void {
		this.dropped.add(file);
	}
}

/** How many pages the whole plan holds (every planned page once), without making its requests. */
export function plannedPages(files: readonly PlanFile[], options: PlanOptions): number {
	let pages = 0;
	for (const f of files) for (const r of f.ranges) if (isPlanned(r, options.includeResident)) pages += r.count;
	return pages;
}

/** The most the plan's requests may read: from each file's first planned page to its last (gaps read through included). */
export function spannedPages(files: readonly PlanFile[]): number {
	let pages = 0;
	for (const f of files) {
		const first = f.ranges[0];
		const last = f.ranges[f.ranges.length - 1];
		if (first && last) pages += last.start + last.count - first.start;
	}
	return pages;
}

/** The hot pages of `file` inside [start, start + count), as [start, count] spans. */
export function* hotSpans(f: PlanFile, start: number, count: number): Generator<[number, number]> {
	const end = start + count;
	for (let i = rangeAfter(f.ranges, start); i < f.ranges.length; i++) {
		const r = f.ranges[i]!;
		if (r.start >= end) break;
		if (r.hotness !== Hotness.Hot) continue;
		const s = Math.max(r.start, start);
		yield [s, Math.min(r.start + r.count, end) - s];
	}
}
