// The root of the restored process tree, from the kernel: never from the image, nor from criu's
// command line (not there in RPC mode, and criu accepts forms a parser misses). The action script
// (post-restore, pre-resume) or the plugin (RESUME_DEVICES_LATE) writes the
// restored init's pid and start time to init-pid while CRIU still holds that process; the prefetcher
// waits for it and opens /proc/<pid>/root through a descriptor of /proc/<pid> whose start time it has
// checked first: that descriptor stays bound to that one process, so a pid reused meanwhile gives an
// error, never another process's root. Paths are then resolved inside that root; when it is the
// prefetcher's own (a restore without its own root), that is the same as resolving host paths from /.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isRunning, parseProcessId, processIdOf, type ProcessId } from './process-identity.js';
import { restoreFiles } from './state-dir.js';

/** How long to wait for the restored init pid: a restore that takes longer is not worth prefetching for. */
export const INIT_PID_WAIT_MS = 60_000;
const POLL_MS = 20;

export type RestoredRoot = { ok: true; fd: number; init: ProcessId; path: string; ours: boolean } | { ok: false; reason: string };

/** A root found after waiting `waitedMs` for the init pid. */
export type WaitedRoot = RestoredRoot & { waitedMs: number };

const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY;

/** Device, inode and mount of an open directory: the same three mean the same directory of the same mount. */
function where(fd: number): string {
	const st = fstatSync(fd);
	const mount = /^mnt_id:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
	return `${st.dev}:${st.ino}:${mount}`;
}

function isOurRoot(fd: number): boolean {
	const ours = openSync('/', DIRECTORY);
	try {
		return where(ours) === where(fd);
	} finally {
		closeSync(ours);
	}
}

/** Opens the root of `init`, or says why not (it exited, or its pid now names another process). */
export function openProcessRoot(init: ProcessId): RestoredRoot {
	const gone = `the restored init (pid ${init.pid}) has exited: its root cannot be known`;
	let proc: number;
	try {
		proc = openSync(`/proc/${init.pid}`, DIRECTORY);
	} catch {
		return { ok: false, reason: gone };
	}
	try {
		// Both through the same /proc/<pid> descriptor: the process checked is the one whose root opens.
		const base = `/proc/self/fd/${proc}`;
		const start = processIdOf(readFileSync(`${base}/stat`, 'utf8'))?.start;
		if (start !== init.start) return { ok: false, reason: `pid ${init.pid} is no longer the restored init (started at ${start}, not ${init.start}): its root cannot be known` };
		const fd = openSync(`${base}/root`, DIRECTORY);
		return { ok: true, fd, init, path: `/proc/${init.pid}/root`, ours: isOurRoot(fd) };
	} catch (err) {
		const code = (err as NodeJS.ErrnoException).code;
		if (code === 'ENOENT' || code === 'ESRCH') return { ok: false, reason: gone };
		return { ok: false, reason: `cannot open the root of the restored init (pid ${init.pid}): ${(err as Error).message}` };
	} finally {
		closeSync(proc);
	}
}

/**
 * Waits (up to INIT_PID_WAIT_MS) for the restore directory's init-pid, then opens that root. Stops
 * waiting early when the restore's criu (named by the directory) has ended without writing it.
 */
export async function waitForRestoredRoot(dir: string, signal: AbortSignal, waitMs = INIT_PID_WAIT_MS): Promise<WaitedRoot> {
	const file = path.join(dir, restoreFiles.initPid);
	const criu = parseProcessId(path.basename(dir));
	const t0 = performance.now();
	const deadline = Date.now() + waitMs;
	const waited = (root: RestoredRoot): WaitedRoot => ({ ...root, waitedMs: Math.round(performance.now() - t0) });
	for (;;) {
		// Why waiting ends, decided before the last look at the file: it may have been written just before.
		const ended = signal.aborted
			? `stopped (${String(signal.reason)}) before the restored init pid was known`
			: criu && !isRunning(criu)
				? `the restore ended (criu, pid ${criu.pid}, is gone) before the restored init pid was known`
				: Date.now() > deadline
					? `the restored init pid did not become known within ${waitMs / 1000} s`
					: null;
		let text: string | null = null;
		try {
			text = readFileSync(file, 'utf8');
		} catch {
			// not written yet
		}
		if (text?.endsWith('\n')) {
			const init = parseProcessId(text);
			return waited(init ? openProcessRoot(init) : { ok: false, reason: `${file} does not hold a pid and a start time: ${JSON.stringify(text.slice(0, 64))}` });
		}
		if (ended !== null) return waited({ ok: false, reason: ended });
		await new Promise((resolve) => setTimeout(resolve, POLL_MS));
	}
}
