// What the destination's prefetch did during a migration, read back from its record (JSON lines, see
// hooks/README.md): written by the agent's own prefetch, or, with --warm restore, by the prefetcher the
// action script started (HOTCACHE_RECORD points its copy there). Reading the record rather than
// trusting the agent's own counters also shows who prefetched: every `start` names its process.
import type { WarmTotals } from './protocol.js';

interface Line {
	t?: unknown;
	kind?: unknown;
	pid?: unknown;
	pageSize?: unknown;
	fetched?: unknown;
	pagesAsked?: unknown;
	alreadyResident?: unknown;
	bytesRead?: unknown;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** `resumeAt`: when the restored process resumed (ms since the epoch), or null when it did not. */
export function warmTotals(record: string, resumeAt: number | null, status: string | null): WarmTotals {
	const totals: WarmTotals = { prefetchers: [], firstStart: null, lastEnd: null, askedBytes: 0, alreadyResidentBytes: 0, fetchedBytes: 0, bytesRead: 0, fetchedAfterResume: 0, status };
	let pageSize = 4096;
	for (const text of record.split('\n')) {
		let line: Line;
		try {
			line = JSON.parse(text) as Line;
		} catch {
			continue; // a line cut short by a crash, or none
		}
		const t = typeof line.t === 'string' ? Date.parse(line.t) : NaN;
		if (Number.isNaN(t)) continue;
		if (line.kind === 'start') {
			pageSize = num(line.pageSize) || pageSize;
			if (typeof line.pid === 'number' && !totals.prefetchers.includes(line.pid)) totals.prefetchers.push(line.pid);
			totals.firstStart ??= t;
		} else if (line.kind === 'chunk') {
			if (resumeAt !== null && t > resumeAt) totals.fetchedAfterResume += num(line.fetched) * pageSize;
		} else if (line.kind === 'summary') {
			totals.askedBytes += num(line.pagesAsked) * pageSize;
			totals.alreadyResidentBytes += num(line.alreadyResident) * pageSize;
			totals.fetchedBytes += num(line.fetched) * pageSize;
			totals.bytesRead += num(line.bytesRead);
			totals.lastEnd = t;
		}
	}
	return totals;
}
