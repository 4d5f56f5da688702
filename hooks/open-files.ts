// Opens the image's files inside the root, several at once (on network storage each open is a round
// trip), each with POSIX_FADV_RANDOM (the prefetch's own reads then bring exactly their range; its
// WILLNEED is the readahead). A lookup or open that does not return within the stall timeout (FUSE,
// autofs, a dead NFS server) abandons its file; its thread stays stuck. At most half the libuv threads
// open at once, and none once half are stuck: the other half is left for the fetch (a hung lookup of
// one mount usually means every file under it hangs). Every fd stays open until the end of the run: the
// files beyond what RLIMIT_NOFILE leaves room for are skipped, so the record, the status file and Node
// itself still get fds.
import { readdirSync, readFileSync } from 'node:fs';
import type { ImageFile } from '../proto/image.js';
import { native } from './native.js';
import { LookupBudget } from './lookup-budget.js';
import { closeFd, openInRoot, type OpenOutcome } from './open-in-root.js';
import type { SharedFd, StuckCalls } from './stall-guard.js';

/** Files being opened at once, at most (and at most half the libuv threads). */
const OPENS_IN_FLIGHT = 16;
/** fds left free under RLIMIT_NOFILE: opens in flight, the record and status files, Node's own. */
const FD_RESERVE = 128;

export interface OpenOptions {
	compareInode: boolean;
	allowFuse: boolean;
	/** libuv's pool size. */
	threads: number;
	stallMs: number;
	stuck: StuckCalls;
	signal: AbortSignal;
	/** An open that did not return in time. */
	onStall(index: number): void;
}

/** How many more fds the run may hold: the soft RLIMIT_NOFILE minus the fds in use and FD_RESERVE. */
function openFileBudget(): number {
	try {
		const limit = Number(/^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
		if (!Number.isSafeInteger(limit)) return Infinity; // "unlimited"
		return Math.max(0, limit - readdirSync('/proc/self/fd').length - FD_RESERVE);
	} catch {
		return Infinity;
	}
}

async function openOne(root: SharedFd, file: ImageFile, o: OpenOptions): Promise<OpenOutcome> {
	const outcome = await root.use((rootFd) => openInRoot(rootFd, file, o.compareInode, undefined, o.allowFuse));
	if (outcome.ok) await native().fadvise(outcome.file.fd, 0, 0, native().advice.RANDOM);
	return outcome;
}

/**
 * Outcomes in image order; null for files not wanted (nothing to fetch: never opened) or not reached
 * before an abort; the lookups are bounded per image (lookup-budget.ts). The root's fd is used through
 * `root`, so the caller's release of it waits for an open stuck in a lookup. On an unexpected error
 * every fd opened so far is closed (after every open in flight has returned or was given up).
 */
export async function openAll(root: SharedFd, images: readonly ImageFile[], wanted: readonly boolean[], o: OpenOptions): Promise<(OpenOutcome | null)[]> {
	const outcomes: (OpenOutcome | null)[] = images.map(() => null);
	const lookups = new LookupBudget();
	const budget = openFileBudget();
	const overBudget: OpenOutcome = { ok: false, reason: `not opened: ${budget} files already held open, as many as the open-file limit (RLIMIT_NOFILE) leaves room for` };
	const noThreads: OpenOutcome = { ok: false, reason: 'not opened: earlier opens did not return, half the I/O threads are stuck in them' };
	const half = Math.max(1, Math.floor(o.threads / 2));
	let slots = budget;
	let next = 0;
	/** Opens in flight: any of them may be about to be stuck too. */
	let opening = 0;
	let failed = false;
	const worker = async (): Promise<void> => {
		while (!o.signal.aborted && !failed && next < images.length) {
			const i = next++;
			if (!wanted[i]) continue;
			if (slots <= 0) {
				outcomes[i] = overBudget;
				continue;
			}
			if (o.stuck.stuck + opening >= half) {
				outcomes[i] = noThreads;
				continue;
			}
			const refusal = lookups.admit(images[i]!.path);
			if (refusal !== null) {
				outcomes[i] = { ok: false, reason: refusal };
				continue;
			}
			slots--;
			const call = openOne(root, images[i]!, o);
			opening++;
			try {
				const r = await o.stuck.within(call, o.stallMs, o.signal).finally(() => opening--);
				if (r.done) {
					outcomes[i] = r.value;
					if (!r.value.ok) slots++;
					continue;
				}
			} catch (err) {
				failed = true;
				throw err;
			}
			if (o.signal.aborted) {
				outcomes[i] = null;
			} else {
				outcomes[i] = { ok: false, reason: `did not open within ${o.stallMs / 1000} s (its file system does not answer): abandoned` };
				o.onStall(i);
			}
			// Should it open after all, its fd is not ours to keep.
			call.then((late) => (late.ok ? closeFd(late.file.fd) : undefined)).catch(() => {});
		}
	};
	const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(OPENS_IN_FLIGHT, half, images.length)) }, worker));
	const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
	if (failure) {
		await Promise.all(outcomes.map((out) => (out?.ok ? closeFd(out.file.fd) : undefined)));
		throw failure.reason;
	}
	return outcomes;
}
