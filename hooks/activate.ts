// The second, non-successive read of the hot pages the prefetch brought: on the classic LRU a page read
// a second time (not as a continuation of the previous read on the same open file) moves to the
// active list, so the prefetched hot set is not the first thing reclaimed; on MGLRU it raises the
// pages' access tier. Only the hot pages of each request are read again (the gaps and warm pages it
// read through stay inactive), with the native fetch told to read them again: a splice to /dev/null,
// so nothing is copied, and nothing goes to storage unless a page was evicted since. Each call waits
// at most the stall timeout.
import { native } from './native.js';
import type { EngineFile } from './engine.js';
import { hotSpans, type Request } from './plan.js';
import type { StuckCalls } from './stall-guard.js';

export interface ActivateOptions {
	workers: number;
	pageSize: number;
	stallMs: number;
	stuck: StuckCalls;
	signal: AbortSignal;
}

/** Reads the hot pages of `requests` again, `workers` calls at a time; returns the pages read. */
export async function activateHot(requests: readonly Request[], files: readonly EngineFile[], o: ActivateOptions): Promise<number> {
	const spans = (function* () {
		for (const req of requests) for (const [start, count] of hotSpans(files[req.file]!.plan, req.start, req.count)) yield { file: req.file, start, count };
	})();
	let pages = 0;
	const worker = async (): Promise<void> => {
		for (let next = spans.next(); !next.done && !o.signal.aborted; next = spans.next()) {
			const { file, start, count } = next.value;
			const call = files[file]!.handle.use((fd) => native().fetch(fd, start * o.pageSize, count * o.pageSize, true));
			try {
				if ((await o.stuck.within(call, o.stallMs, o.signal)).done) pages += count;
			} catch {
				// A span that cannot be read again stays as the first pass left it; its error was recorded then.
			}
		}
	};
	await Promise.all(Array.from({ length: o.workers }, worker));
	return pages;
}
