// A lock between processes that build the same cache entry (two test runs, two developers).
//
// flock(2) through util-linux's `flock`, held by a child for as long as its stdin stays open: the
// kernel drops the lock when the holder goes away, however it goes, so there is never a stale lock
// to take over (and so no race between two processes taking over the same stale lock).
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** Runs `work` holding an exclusive lock on `lockFile` (created when missing). */
export async function withLock<T>(lockFile: string, work: () => Promise<T>): Promise<T> {
	const holder = spawn('flock', ['--exclusive', lockFile, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
		stdio: ['pipe', 'pipe', 'inherit'],
	});
	const exited = once(holder, 'close');
	try {
		const [chunk] = (await Promise.race([once(holder.stdout, 'data'), exited.then(() => [undefined])])) as [Buffer | undefined];
		if (!chunk?.toString().startsWith('locked')) throw new Error(`cannot lock ${lockFile} (flock exited)`);
		return await work();
	} finally {
		holder.stdin.end();
		await exited;
	}
}
