// One request on storage: pay the caps, then one native call counts what is already resident (a
// fully resident request costs nothing more), brings the rest in and waits until it is there, and
// counts again. A sparse request is one large WILLNEED, then a splice to /dev/null that waits for every
// page without copying it: exactly its range, in 4 KiB folios. A sequential one (a long run) is read
// (pread) from the file's open file in normal readahead mode: the kernel's readahead reads it in large folios (cheaper
// to read and to re-read) and reads on past its end, up to about one and a half readahead windows,
// measured; those pages are counted (`readahead`) and paid for like the range. The call waits at most the stall timeout: past it the request is given up as stalled
// (the call keeps the fd open and its thread until it returns; see stall-guard.ts).
import type { Request } from './plan.js';
import { native } from './native.js';
import type { SharedFd, StuckCalls } from './stall-guard.js';

export interface RequestResult {
	req: Request;
	/** Pages resident before the request. */
	resident: number;
	/** Pages it made resident. */
	fetched: number;
	/** Pages its readahead made resident past its range (within its span). */
	readahead: number;
	/** Bytes it read through. */
	bytesRead: number;
	/** When its read was sent and when it completed (performance.now() ms; equal when nothing was read). */
	sentMs: number;
	doneMs: number;
	/** A call did not return within the stall timeout. */
	stalled: boolean;
	error?: string;
}

export interface FetchContext {
	pageSize: number;
	stallMs: number;
	stuck: StuckCalls;
	signal: AbortSignal;
	/** Waits until the caps allow a read of `bytes`; returns a refund for what the read does not need. */
	pay(bytes: number): Promise<(bytesRead: number) => void>;
}

/**
 * How to read: `sequential` or exactly; `span`: pages after the request where what its readahead brings
 * is counted; `seq`: the file's open file in normal readahead mode, whose readahead state carries on
 * from one sequential request to the next (without it, each opens its own).
 */
export interface ReadWay {
	sequential: boolean;
	span: number;
	seq: SharedFd | null;
}

export async function fetchRequest(handle: SharedFd, req: Request, ctx: FetchContext, way: ReadWay): Promise<RequestResult> {
	const offset = req.start * ctx.pageSize;
	const length = req.count * ctx.pageSize;
	const result: RequestResult = { req, resident: 0, fetched: 0, readahead: 0, bytesRead: 0, sentMs: 0, doneMs: 0, stalled: false };
	try {
		const settle = await ctx.pay(length);
		result.sentMs = result.doneMs = performance.now();
		if (ctx.signal.aborted) return result;
		const read = (fd: number, seqFd: number): ReturnType<ReturnType<typeof native>['fetch']> => native().fetch(fd, offset, length, false, way.span * ctx.pageSize, way.sequential, seqFd);
		const seq = way.sequential ? way.seq : null;
		const call = await ctx.stuck.within(handle.use((fd) => (seq ? seq.use((seqFd) => read(fd, seqFd)) : read(fd, -1))), ctx.stallMs, ctx.signal);
		result.doneMs = performance.now();
		if (!call.done) return { ...result, stalled: true };
		const { before, after, bytes, beyond } = call.value;
		settle((req.count - before + beyond) * ctx.pageSize);
		result.resident = before;
		// A sequential read goes through the resident pages too: they are not counted as read.
		result.bytesRead = Math.max(0, bytes - (way.sequential ? before * ctx.pageSize : 0)) + beyond * ctx.pageSize;
		result.fetched = Math.max(0, after - before);
		result.readahead = beyond;
	} catch (err) {
		result.error = (err as Error).message;
		result.doneMs = performance.now();
	}
	return result;
}
