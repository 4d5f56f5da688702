// The order in which pages are fetched, as chunks no larger than each file's readahead cap.
//   resume:   for every saved fd offset (round robin over fds), the hot pages right after it: a
//             sequential reader resumes there first;
//   hot:      the rest of the hot pages, each file starting at its first fd's offset and wrapping;
//   warm:     warm pages, in the same rotated order;
//   resident: pages that were only resident, fetched only when the capture could tell nothing
//             better (residency-only backend): otherwise they showed no sign of use.
// Pure: no I/O, so ordering and truncation are unit-tested exactly.
// An image may hold millions of ranges and thousands of fds per file: every step is a binary search
// or a linear sweep, never a pass over all spans per fd.
import { Hotness, type PageRange } from '../proto/image.js';

export type Phase = 'resume' | 'hot' | 'warm' | 'resident';

export interface PlanFile {
	ranges: readonly PageRange[];
	/** Saved fd offsets, in pages. */
	fdPages: readonly number[];
	/** Per-call readahead cap of the file's device, in pages (>= 1). */
	capPages: number;
}

export interface Chunk {
	/** Index into the PlanFile list. */
	file: number;
	start: number;
	count: number;
	phase: Phase;
}

export interface PlanOptions {
	/** Pages after each fd offset that go first. */
	resumePages: number;
	includeResident: boolean;
}

interface Span {
	start: number;
	count: number;
}

function ofClass(ranges: readonly PageRange[], hotness: Hotness): Span[] {
	return ranges.filter((r) => r.hotness === hotness).map((r) => ({ start: r.start, count: r.count }));
}

/** First index in [0, n) for which `past(i)` holds (`past` is monotonic), n when none. */
function firstIndex(n: number, past: (i: number) => boolean): number {
	let lo = 0;
	let hi = n;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (past(mid)) hi = mid;
		else lo = mid + 1;
	}
	return lo;
}

/**
 * One file's hot pages (sorted, disjoint spans), numbered 0, 1, 2, ... in page order ("ranks"), and
 * the ranks already given to a resume window as sorted, merged [from, to) intervals. A resume window
 * takes the first unclaimed ranks from some rank on, so what it claims joins everything claimed in
 * between into one interval: there are never more intervals than fds.
 */
class HotPages {
	/** rankAt[i]: how many hot pages come before spans[i]. */
	private readonly rankAt: number[];
	private readonly claimed: [number, number][] = [];
	readonly total: number;

	constructor(private readonly spans: Span[]) {
		this.rankAt = new Array<number>(spans.length);
		let rank = 0;
		spans.forEach((s, i) => {
			this.rankAt[i] = rank;
			rank += s.count;
		});
		this.total = rank;
	}

	/** Rank of the first hot page at or after `page`. */
	private rankOf(page: number): number {
		const i = firstIndex(this.spans.length, (k) => this.spans[k]!.start + this.spans[k]!.count > page);
		if (i === this.spans.length) return this.total;
		return this.rankAt[i]! + Math.max(0, page - this.spans[i]!.start);
	}

	/** Ranks [from, to) as page spans, split where the hot spans split. */
	private pagesOf(from: number, to: number, out: Span[]): void {
		let i = firstIndex(this.spans.length, (k) => this.rankAt[k]! + this.spans[k]!.count > from);
		for (let rank = from; rank < to; i++) {
			const s = this.spans[i]!;
			const offset = rank - this.rankAt[i]!;
			const count = Math.min(s.count - offset, to - rank);
			out.push({ start: s.start + offset, count });
			rank += count;
		}
	}

	/** Claims and returns up to `limit` unclaimed hot pages from page `page` on, in page order (not wrapping). */
	claimAfter(page: number, limit: number): Span[] {
		const out: Span[] = [];
		let rank = this.rankOf(page);
		// The claimed intervals that end after `rank`: the first may hold it, the next ones bound the free runs.
		const first = firstIndex(this.claimed.length, (k) => this.claimed[k]![1] > rank);
		let next = first;
		let taken: [number, number] | null = null;
		let left = limit;
		while (left > 0 && rank < this.total) {
			const gap = this.claimed[next];
			if (gap && gap[0] <= rank) {
				rank = gap[1];
				next++;
				continue;
			}
			const to = Math.min(gap ? gap[0] : this.total, rank + left);
			this.pagesOf(rank, to, out);
			taken ??= [rank, to];
			taken[1] = to;
			left -= to - rank;
			rank = to;
		}
		if (taken) this.claim(taken[0], taken[1], first, next);
		return out;
	}

	/**
	 * Records ranks [from, to) as claimed. claimed[first .. next) are the intervals claimAfter stepped
	 * over (inside the new one or touching it); the neighbours on either side may touch it too.
	 */
	private claim(from: number, to: number, first: number, next: number): void {
		let lo = first;
		let hi = next;
		if (lo > 0 && this.claimed[lo - 1]![1] >= from) lo--;
		if (hi < this.claimed.length && this.claimed[hi]![0] <= to) hi++;
		if (hi > lo) {
			from = Math.min(from, this.claimed[lo]![0]);
			to = Math.max(to, this.claimed[hi - 1]![1]);
		}
		this.claimed.splice(lo, hi - lo, [from, to]);
	}

	/** The hot pages no resume window claimed, as page spans in page order. */
	unclaimed(): Span[] {
		const out: Span[] = [];
		let rank = 0;
		for (const [from, to] of this.claimed) {
			this.pagesOf(rank, from, out);
			rank = to;
		}
		this.pagesOf(rank, this.total, out);
		return out;
	}
}

/** The spans from page `from` to the end, then those before it (a wrapped sequential order). */
function rotate(spans: Span[], from: number): Span[] {
	const after: Span[] = [];
	const before: Span[] = [];
	for (const s of spans) {
		const end = s.start + s.count;
		if (end <= from) before.push(s);
		else if (s.start >= from) after.push(s);
		else {
			before.push({ start: s.start, count: from - s.start });
			after.push({ start: from, count: end - from });
		}
	}
	return after.concat(before);
}

function* chunked(file: number, spans: Iterable<Span>, cap: number, phase: Phase): Generator<Chunk> {
	for (const s of spans) {
		for (let pos = s.start; pos < s.start + s.count; pos += cap) {
			yield { file, start: pos, count: Math.min(cap, s.start + s.count - pos), phase };
		}
	}
}

/**
 * The plan's chunks in fetch order, made as they are consumed: a hostile image can describe a file
 * of 2^40 pages in a few bytes, and its chunks must never all exist at once (see truncateToBudget).
 */
export function* chunkStream(files: readonly PlanFile[], options: PlanOptions): Generator<Chunk> {
	const hot = files.map((f) => new HotPages(ofClass(f.ranges, Hotness.Hot)));

	// resume: one list of chunks per fd (at most resumePages each), then taken round robin so every
	// resumed reader gets its next pages early.
	const perFd: Chunk[][] = [];
	files.forEach((f, i) => {
		for (const page of f.fdPages) perFd.push([...chunked(i, hot[i]!.claimAfter(page, options.resumePages), f.capPages, 'resume')]);
	});
	const rounds = perFd.reduce((most, list) => Math.max(most, list.length), 0);
	for (let round = 0; round < rounds; round++) {
		for (const list of perFd) if (round < list.length) yield list[round]!;
	}

	function* rest(phase: Phase, spansOf: (f: PlanFile, i: number) => Span[]): Generator<Chunk> {
		for (const [i, f] of files.entries()) yield* chunked(i, rotate(spansOf(f, i), f.fdPages[0] ?? 0), f.capPages, phase);
	}
	yield* rest('hot', (_f, i) => hot[i]!.unclaimed());
	yield* rest('warm', (f) => ofClass(f.ranges, Hotness.Warm));
	if (options.includeResident) yield* rest('resident', (f) => ofClass(f.ranges, Hotness.Resident));
}

export function planChunks(files: readonly PlanFile[], options: PlanOptions): Chunk[] {
	return [...chunkStream(files, options)];
}

/** How many pages the whole plan holds (every planned page once), without making its chunks. */
export function plannedPages(files: readonly PlanFile[], options: PlanOptions): number {
	let pages = 0;
	for (const f of files) {
		for (const r of f.ranges) {
			if (r.hotness !== Hotness.Resident || options.includeResident) pages += r.count;
		}
	}
	return pages;
}

/**
 * The longest prefix of `chunks` within `budgetPages` (the last chunk cut to fit). It stops taking
 * chunks once the budget is spent, so a stream is never made further than that; what is left out is
 * `plannedPages` minus what was kept.
 */
export function truncateToBudget(chunks: Iterable<Chunk>, budgetPages: number, plannedPages: number): { chunks: Chunk[]; leftOutPages: number } {
	const kept: Chunk[] = [];
	const stream = chunks[Symbol.iterator]();
	for (let left = budgetPages; left > 0; ) {
		const next = stream.next();
		if (next.done) break;
		const c = next.value;
		kept.push(left >= c.count ? c : { ...c, count: left });
		left -= Math.min(left, c.count);
	}
	return { chunks: kept, leftOutPages: plannedPages - pagesIn(kept) };
}

export function pagesIn(chunks: readonly Chunk[]): number {
	return chunks.reduce((sum, c) => sum + c.count, 0);
}
