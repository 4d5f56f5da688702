// The state directory's layout, shared by the action script (which creates a restore's directory)
// and the prefetcher. See hooks/README.md.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { isRunning, parseProcessId, type ProcessId } from './process-identity.js';

const RESTORES = 'restores';
/** Restore directories kept; older ones are removed by the next prefetcher. */
const KEEP_RESTORES = 16;

export const restoreFiles = {
	image: 'hotcache.img',
	initPid: 'init-pid',
	pid: 'prefetcher.pid',
	record: 'record.jsonl',
	status: 'status',
} as const;

/** The prefetcher named by a restore directory's prefetcher.pid, or null when there is none (yet). */
export function prefetcherOf(dir: string): ProcessId | null {
	try {
		return parseProcessId(readFileSync(path.join(dir, restoreFiles.pid), 'utf8'));
	} catch {
		return null;
	}
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
 * (more than KEEP_RESTORES restores at once keep theirs). Other prefetchers may prune at the same time.
 */
export function pruneRestores(stateDir: string, current: string): string[] {
	const dir = path.join(stateDir, RESTORES);
	const entries = readdirSync(dir, { withFileTypes: true })
		.filter((e) => e.isDirectory() && /^\d+\.\d+$/.test(e.name))
		.map((e) => ({ name: e.name, mtime: mtimeOf(path.join(dir, e.name)) }))
		.filter((e): e is { name: string; mtime: number } => e.mtime !== null)
		.sort((a, b) => b.mtime - a.mtime);
	const removed: string[] = [];
	for (const e of entries.slice(KEEP_RESTORES)) {
		const full = path.join(dir, e.name);
		if (path.resolve(full) === path.resolve(current) || inUse(full, e.name)) continue;
		rmSync(full, { recursive: true, force: true });
		removed.push(full);
	}
	return removed;
}
