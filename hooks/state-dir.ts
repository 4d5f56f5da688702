// The state directory's layout, shared by the action script (which creates a restore's directory)
// and the prefetcher. See hooks/README.md.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

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

/** Field 22 of /proc/<pid>/stat (counted after the last ')': the name may hold anything), or null when it is gone. */
function startTime(pid: string): string | null {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
	} catch {
		return null;
	}
}

/** Its criu (the name is <criu pid>.<start time>) still runs, or its prefetcher does. */
function inUse(full: string, name: string): boolean {
	const [criuPid, start] = name.split('.');
	if (startTime(criuPid!) === start) return true;
	try {
		const pid = readFileSync(path.join(full, restoreFiles.pid), 'utf8').trim();
		// The pid's command line names this directory: not some process that got the pid since.
		const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
		return /^\d+$/.test(pid) && args.some((a) => a.replace(/\/+$/, '').endsWith(`${RESTORES}/${name}`));
	} catch {
		return false;
	}
}

/**
 * Removes all but the newest KEEP_RESTORES restore directories, never `current` nor one still in use
 * (more than KEEP_RESTORES restores at once keep theirs).
 */
export function pruneRestores(stateDir: string, current: string): string[] {
	const dir = path.join(stateDir, RESTORES);
	const entries = readdirSync(dir, { withFileTypes: true })
		.filter((e) => e.isDirectory() && /^\d+\.\d+$/.test(e.name))
		.map((e) => ({ name: e.name, mtime: statSync(path.join(dir, e.name)).mtimeMs }))
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
