// Files CRIU reads on every dump and restore are replaced, never rewritten in place: made beside
// the target under a temporary name, then renamed over it.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/** `make` creates the temporary file (or link) it is given; it then replaces `target` at once. */
export function replaceAtomically(target: string, make: (tmp: string) => void): void {
	mkdirSync(path.dirname(target), { recursive: true });
	const tmp = `${target}.hotcache-${process.pid}`;
	rmSync(tmp, { force: true });
	make(tmp);
	renameSync(tmp, target);
}
