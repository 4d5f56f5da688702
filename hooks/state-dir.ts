// The state directory's layout, shared by the action script (which creates a restore's directory)
// and the prefetcher. See hooks/README.md.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { RESTORE } from '../contract/out/contract.js';
import { isRunning, parseProcessId, type ProcessId } from './process-identity.js';

const RESTORES = RESTORE.dir;
/** Restore directories kept; older ones are removed by the next prefetcher. */
const KEEP_RESTORES = 16;
/** A restore directory being removed: .pruning.<name>.<pruner pid>. */
const PRUNING = '.pruning.';

export const restoreFiles = RESTORE.files;

/** The prefetcher named by a restore directory's prefetcher.pid, or null when there is none (yet). */
export function prefetcherOf(dir: string): ProcessId | null {
	try {
		return parseProcessId(readFileSync(path.join(dir, restoreFiles.pid), 'utf8'));
	} catch {
		return null;
	}
}

/** A restore directory as its readers (post-resume in the action script, `hotcache inspect`) see it. */
export interface RestoreState {
	/** The prefetcher's last status line, if it wrote one. */
	status: string | null;
	prefetcher: ProcessId | null;
	/**
	 * finished: a final status (done, stopped, nothing prefetched, failed); running; ended: its process
	 * is gone without a final status (SIGKILL, out of memory, a crash); not started: no prefetcher named.
	 */
	state: 'finished' | 'running' | 'ended' | 'not started';
}

/** What became of a restore directory's prefetcher; null when `dir` is not a restore directory. */
export function restoreState(dir: string): RestoreState | null {
	let status: string | null = null;
	try {
		status = readFileSync(path.join(dir, restoreFiles.status), 'utf8').split('\n')[0]!;
	} catch {
		// none yet
	}
	const prefetcher = prefetcherOf(dir);
	if (status === null && prefetcher === null && !existsSync(path.join(dir, restoreFiles.claimed))) return null;
	// The same test as post-resume's: only "prefetch in progress" is not a verdict.
	if (status !== null && status !== '' && !/: prefetch in progress:/.test(status)) return { status, prefetcher, state: 'finished' };
	if (prefetcher === null) return { status, prefetcher, state: 'not started' };
	return { status, prefetcher, state: isRunning(prefetcher) ? 'running' : 'ended' };
}

/** Its criu (the name is <criu pid>.<start time>) still runs, or its prefetcher does. */
function inUse(full: string, name: string): boolean {
	const criu = parseProcessId(name);
	const prefetcher = prefetcherOf(full);
	return (criu !== null && isRunning(criu)) || (prefetcher !== null && isRunning(prefetcher));
}

/** mtime of a restore directory, or null when another prefetcher's pruning removed it meanwhile. */
function mtimeOf(dir: string): number | null {
	try {
		return statSync(dir).mtimeMs;
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
		throw err;
	}
}

/**
 * Removes all but the newest KEEP_RESTORES restore directories, never `current` nor one still in use
 * (more than KEEP_RESTORES restores at once keep theirs). Other prefetchers may prune at the same
 * time: a directory is renamed out of the way (by one of them) before it is emptied, since emptying
 * it makes it look new to the others; what a pruner that died left half-removed goes too.
 */
export function pruneRestores(stateDir: string, current: string): string[] {
	const dir = path.join(stateDir, RESTORES);
	const listed = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
	const entries = listed
		.filter((e) => /^\d+\.\d+$/.test(e.name))
		.map((e) => ({ name: e.name, mtime: mtimeOf(path.join(dir, e.name)) }))
		.filter((e): e is { name: string; mtime: number } => e.mtime !== null)
		// Newest first; ties (timestamps are coarse) by name, so that pruners at once keep the same ones.
		.sort((a, b) => b.mtime - a.mtime || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
	const removed: string[] = [];
	for (const e of entries.slice(KEEP_RESTORES)) {
		const full = path.join(dir, e.name);
		if (path.resolve(full) === path.resolve(current) || inUse(full, e.name)) continue;
		const doomed = path.join(dir, `${PRUNING}${e.name}.${process.pid}`);
		try {
			renameSync(full, doomed);
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another pruner's
			throw err;
		}
		rmSync(doomed, { recursive: true, force: true });
		removed.push(full);
	}
	for (const e of listed) {
		const pruner = e.name.startsWith(PRUNING) ? Number(e.name.slice(e.name.lastIndexOf('.') + 1)) : NaN;
		if (Number.isInteger(pruner) && pruner !== process.pid && !existsSync(`/proc/${pruner}`)) rmSync(path.join(dir, e.name), { recursive: true, force: true });
	}
	return removed;
}
