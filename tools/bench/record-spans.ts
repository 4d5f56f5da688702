// What hotcache's prefetch read in a run, from its record (JSON lines, hooks/README.md): the chunks
// that fetched pages (a chunk found wholly resident read nothing), as page spans.
import type { PageSpan } from './metrics.js';

interface ChunkLine {
	kind?: unknown;
	path?: unknown;
	start?: unknown;
	count?: unknown;
	fetched?: unknown;
}

export function recordSpans(record: string): PageSpan[] {
	const out: PageSpan[] = [];
	for (const text of record.split('\n')) {
		let line: ChunkLine;
		try {
			line = JSON.parse(text) as ChunkLine;
		} catch {
			continue; // a line cut short, or none
		}
		if (line.kind !== 'chunk' || typeof line.path !== 'string' || !(Number(line.fetched) > 0)) continue;
		out.push({ path: line.path, start: Number(line.start), count: Number(line.count) });
	}
	return out;
}
