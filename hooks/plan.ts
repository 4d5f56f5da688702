// The order in which pages are fetched, as chunks no larger than each file's readahead cap.
//   resume:   for every saved fd offset (round robin over fds), the hot pages right after it: a
//             sequential reader resumes there first;
//   hot:      the rest of the hot pages, each file starting at its first fd's offset and wrapping;
//   warm:     warm pages, in the same rotated order;
//   resident: pages that were only resident, fetched only when the capture could tell nothing
//             better (residency-only backend): otherwise they showed no sign of use.
// Pure: no I/O, so ordering and truncation are unit-tested exactly.
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

/** `spans` (sorted, disjoint) minus `taken` (any order, may overlap). */
function subtract(spans: Span[], taken: Span[]): Span[] {
	const cut = [...taken].sort((a, b) => a.start - b.start);
	const out: Span[] = [];
	for (const s of spans) {
		let pos = s.start;
		const end = s.start + s.count;
		for (const t of cut) {
			const tEnd = t.start + t.count;
			if (tEnd <= pos || t.start >= end) continue;
			if (t.start > pos) out.push({ start: pos, count: t.start - pos });
			pos = Math.max(pos, tEnd);
		}
		if (pos < end) out.push({ start: pos, count: end - pos });
	}
	return out;
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
	return [...after, ...before];
}

/** Up to `limit` pages of `spans` starting at page `from` (not wrapping). */
function headAfter(spans: Span[], from: number, limit: number): Span[] {
	const out: Span[] = [];
	let left = limit;
	for (const s of rotate(spans, from)) {
		if (left === 0 || s.start < from) break;
		const count = Math.min(s.count, left);
		out.push({ start: s.start, count });
		left -= count;
	}
	return out;
}

function chunked(file: number, spans: Span[], cap: number, phase: Phase): Chunk[] {
	const out: Chunk[] = [];
	for (const s of spans) {
		for (let pos = s.start; pos < s.start + s.count; pos += cap) {
			out.push({ file, start: pos, count: Math.min(cap, s.start + s.count - pos), phase });
		}
	}
	return out;
}

export function planChunks(files: readonly PlanFile[], options: PlanOptions): Chunk[] {
	const hot = files.map((f) => ofClass(f.ranges, Hotness.Hot));

	// resume: one list of chunks per fd, then taken round robin so every resumed reader gets its next pages early.
	const perFd: Chunk[][] = [];
	const claimed: Span[][] = files.map(() => []);
	files.forEach((f, i) => {
		for (const page of f.fdPages) {
			const head = headAfter(subtract(hot[i]!, claimed[i]!), page, options.resumePages);
			claimed[i]!.push(...head);
			perFd.push(chunked(i, head, f.capPages, 'resume'));
		}
	});
	const resume: Chunk[] = [];
	for (let round = 0; perFd.some((list) => round < list.length); round++) {
		for (const list of perFd) if (round < list.length) resume.push(list[round]!);
	}

	const rest = (hotness: Hotness, phase: Phase): Chunk[] =>
		files.flatMap((f, i) => {
			const spans = hotness === Hotness.Hot ? subtract(hot[i]!, claimed[i]!) : ofClass(f.ranges, hotness);
			return chunked(i, rotate(spans, f.fdPages[0] ?? 0), f.capPages, phase);
		});

	return [
		...resume,
		...rest(Hotness.Hot, 'hot'),
		...rest(Hotness.Warm, 'warm'),
		...(options.includeResident ? rest(Hotness.Resident, 'resident') : []),
	];
}

/** The longest prefix of `chunks` within `budgetPages` (the last chunk cut to fit). */
export function truncateToBudget(chunks: readonly Chunk[], budgetPages: number): { chunks: Chunk[]; leftOutPages: number } {
	const kept: Chunk[] = [];
	let left = budgetPages;
	let leftOutPages = 0;
	for (const c of chunks) {
		if (left >= c.count) {
			kept.push(c);
			left -= c.count;
		} else {
			if (left > 0) kept.push({ ...c, count: left });
			leftOutPages += c.count - left;
			left = 0;
		}
	}
	return { chunks: kept, leftOutPages };
}

export function pagesIn(chunks: readonly Chunk[]): number {
	return chunks.reduce((sum, c) => sum + c.count, 0);
}
