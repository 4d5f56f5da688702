// The state directory's layout, shared by the action script (which creates a restore's directory)
// and the prefetcher. See hooks/README.md.
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

export const RESTORES = 'restores';
/** Restore directories kept; older ones are removed by the next prefetcher. */
export const KEEP_RESTORES = 16;

export const restoreFiles = {
	image: 'hotcache.img',
	initPid: 'init-pid',
	pid: 'prefetcher.pid',
	record: 'record.jsonl',
	status: 'status',
} as const;

/** Removes all but the newest KEEP_RESTORES restore directories (never `current`). */
export function pruneRestores(stateDir: string, current: string): string[] {
	const dir = path.join(stateDir, RESTORES);
	const entries = readdirSync(dir, { withFileTypes: true })
		.filter((e) => e.isDirectory() && /^\d+\.\d+$/.test(e.name))
		.map((e) => ({ name: e.name, mtime: statSync(path.join(dir, e.name)).mtimeMs }))
		.sort((a, b) => b.mtime - a.mtime);
	const removed: string[] = [];
	for (const e of entries.slice(KEEP_RESTORES)) {
		const full = path.join(dir, e.name);
		if (path.resolve(full) === path.resolve(current)) continue;
		rmSync(full, { recursive: true, force: true });
		removed.push(full);
	}
	return removed;
}
