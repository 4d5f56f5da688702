// Entries that name the same file become one before anything is opened or planned: an image may hold
// the same path thousands of times (or padded with "//" and "/./", which name the same file), each with
// its own fds, and every copy would otherwise be opened, planned and recorded again. Paths are
// compared in canonical form; the merged entry keeps every range (the hottest class where they
// overlap) and one fd per distinct offset. Pure.
import { Hotness, type ImageFile, type OpenFd, type PageRange } from '../proto/image.js';

/** The path without empty and "." components and without a trailing "/"; null when not absolute or with "..". */
export function canonicalPath(p: string): string | null {
	if (!p.startsWith('/')) return null;
	const parts = p.split('/').filter((c) => c !== '' && c !== '.');
	if (parts.includes('..')) return null;
	return `/${parts.join('/')}`;
}

/** The union of sorted range lists: every page once, with the hottest class any list gives it. */
export function unionRanges(lists: readonly (readonly PageRange[])[]): PageRange[] {
	if (lists.length === 1) return [...lists[0]!];
	const items = lists.flat().sort((a, b) => a.start - b.start);
	const out: PageRange[] = [];
	// The furthest end of the ranges started so far, per class: a page is of the hottest class whose end lies beyond it.
	const ends = new Map<Hotness, number>([[Hotness.Hot, -1], [Hotness.Warm, -1], [Hotness.Resident, -1]]);
	const classes = [Hotness.Hot, Hotness.Warm, Hotness.Resident];
	let i = 0;
	let pos = items[0]?.start ?? 0;
	while (i < items.length || classes.some((c) => ends.get(c)! > pos)) {
		for (; i < items.length && items[i]!.start <= pos; i++) {
			const r = items[i]!;
			ends.set(r.hotness, Math.max(ends.get(r.hotness)!, r.start + r.count));
		}
		const cls = classes.find((c) => ends.get(c)! > pos);
		if (cls === undefined) {
			pos = items[i]!.start;
			continue;
		}
		const next = Math.min(ends.get(cls)!, i < items.length ? items[i]!.start : Infinity);
		const last = out[out.length - 1];
		if (last && last.hotness === cls && last.start + last.count === pos) last.count += next - pos;
		else out.push({ start: pos, count: next - pos, hotness: cls });
		pos = next;
	}
	return out;
}

/** One fd per distinct offset, in offset order. */
function distinctFds(fds: readonly OpenFd[]): OpenFd[] {
	const byOffset = new Map<number, OpenFd>();
	for (const fd of fds) if (!byOffset.has(fd.offset)) byOffset.set(fd.offset, fd);
	return [...byOffset.values()].sort((a, b) => a.offset - b.offset);
}

/** Entries of one file as one: the first entry's identity, every range and fd. */
export function mergeEntries(entries: readonly ImageFile[]): ImageFile {
	const first = entries[0]!;
	if (entries.length === 1) return { ...first, fds: distinctFds(first.fds) };
	return {
		...first,
		fds: distinctFds(entries.flatMap((e) => e.fds)),
		mapped: entries.some((e) => e.mapped),
		ranges: unionRanges(entries.map((e) => e.ranges)),
	};
}

function sameIdentity(a: ImageFile, b: ImageFile): boolean {
	return a.identity.size === b.identity.size && a.identity.mtimeNs === b.identity.mtimeNs && a.identity.inode === b.identity.inode && a.identity.dev === b.identity.dev;
}

/** Distinct identities one path may come with: each is opened and checked; past this, entries are left out. */
export const IDENTITIES_PER_PATH = 4;

export interface Collapsed {
	/** One entry per file (per path and identity), in the order each was first named, with its canonical path. */
	files: ImageFile[];
	/** For each of `files`, how many image entries it stands for. */
	entries: number[];
	/** Entries left out: one path with more identities than IDENTITIES_PER_PATH. */
	conflicts: { path: string; reason: string }[];
}

/** Merges the entries that name the same canonical path with the same identity. */
export function collapseByPath(files: readonly ImageFile[]): Collapsed {
	const groups = new Map<string, ImageFile[][]>();
	const conflicts: Collapsed['conflicts'] = [];
	for (const f of files) {
		const key = canonicalPath(f.path);
		if (key === null) continue; // the decoder refuses such paths; nothing to plan
		const byIdentity = groups.get(key) ?? [];
		groups.set(key, byIdentity);
		const same = byIdentity.find((g) => sameIdentity(g[0]!, f));
		if (same) same.push(f);
		else if (byIdentity.length < IDENTITIES_PER_PATH) byIdentity.push([{ ...f, path: key }]);
		else conflicts.push({ path: key, reason: `more than ${IDENTITIES_PER_PATH} entries name this path with different sizes, mtimes or inodes: left out` });
	}
	const merged = [...groups.values()].flat();
	return { files: merged.map(mergeEntries), entries: merged.map((g) => g.length), conflicts };
}
