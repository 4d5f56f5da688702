// Plans as sets of pages, to send or fetch only what is new: the re-captures of a running process
// (precopy) are sent minus what was sent before, and the plan from the freeze is fetched minus what
// the destination already fetched. Pure; spans are sorted and disjoint after `normalize`.
import { Hotness, type HotcacheImage, type PageRange } from '../../proto/image.js';

export interface Span {
	start: number;
	count: number;
}

/** Pages per file path. */
export type PagesByFile = Map<string, Span[]>;

/** Sorts and merges overlapping or touching spans. */
export function normalize(spans: readonly Span[]): Span[] {
	const sorted = spans.filter((s) => s.count > 0).sort((a, b) => a.start - b.start);
	const out: Span[] = [];
	for (const s of sorted) {
		const last = out[out.length - 1];
		if (last && s.start <= last.start + last.count) last.count = Math.max(last.count, s.start + s.count - last.start);
		else out.push({ ...s });
	}
	return out;
}

/** The classes the prefetch engine fetches: hot and warm, and resident-only pages when the capture could tell nothing better (hooks/prefetch.ts). */
export function fetchedClass(image: HotcacheImage, hotness: Hotness): boolean {
	return hotness !== Hotness.Resident || image.capture.backend === 'mincore';
}

/** The pages the image plans to fetch, per file. */
export function plannedPages(image: HotcacheImage): PagesByFile {
	const out: PagesByFile = new Map();
	for (const f of image.files) {
		const spans = f.ranges.filter((r) => fetchedClass(image, r.hotness)).map((r) => ({ start: r.start, count: r.count }));
		out.set(f.path, normalize([...(out.get(f.path) ?? []), ...spans]));
	}
	return out;
}

export function pageCount(pages: PagesByFile): number {
	let n = 0;
	for (const spans of pages.values()) for (const s of spans) n += s.count;
	return n;
}

/** `into` gains every page of `more`. */
export function addPages(into: PagesByFile, more: PagesByFile): void {
	for (const [file, spans] of more) into.set(file, normalize([...(into.get(file) ?? []), ...spans]));
}

/** The parts of `ranges` (sorted, disjoint) outside `remove` (normalized), classes kept. */
export function subtractRanges(ranges: readonly PageRange[], remove: readonly Span[]): PageRange[] {
	const out: PageRange[] = [];
	let j = 0;
	for (const r of ranges) {
		let start = r.start;
		const end = r.start + r.count;
		while (j < remove.length && remove[j]!.start + remove[j]!.count <= start) j++;
		for (let k = j; k < remove.length && remove[k]!.start < end && start < end; k++) {
			const cut = remove[k]!;
			if (cut.start > start) out.push({ start, count: cut.start - start, hotness: r.hotness });
			start = Math.max(start, cut.start + cut.count);
		}
		if (start < end) out.push({ start, count: end - start, hotness: r.hotness });
	}
	return out;
}

/** The image without the pages in `remove`; files left with no page are dropped. */
export function subtractPages(image: HotcacheImage, remove: PagesByFile): HotcacheImage {
	const files = image.files
		.map((f) => ({ ...f, ranges: subtractRanges(f.ranges, remove.get(f.path) ?? []) }))
		.filter((f) => f.ranges.some((r) => fetchedClass(image, r.hotness)));
	return { ...image, files };
}
