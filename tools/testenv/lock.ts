// A directory lock between processes that build the same cache entry (two test runs, two helpers).
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function holderAlive(lockDir: string): boolean {
	try {
		const pid = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
		process.kill(pid, 0);
		return true;
	} catch (err) {
		// EPERM: the pid exists but is not ours to signal. No pid file yet: the holder is starting, unless
		// the lock is old enough that it must have died between mkdir and writing its pid.
		const code = (err as NodeJS.ErrnoException).code;
		if (code === 'EPERM') return true;
		if (code !== 'ENOENT') return false;
		try {
			return Date.now() - statSync(lockDir).mtimeMs < 10_000;
		} catch {
			return false;
		}
	}
}

/** Runs `work` holding `lockDir`; a lock left by a dead process is taken over. */
export async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
	for (;;) {
		try {
			mkdirSync(lockDir);
			break;
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
			if (!holderAlive(lockDir)) rmSync(lockDir, { recursive: true, force: true });
			else await sleep(500);
		}
	}
	writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
	try {
		return await work();
	} finally {
		rmSync(lockDir, { recursive: true, force: true });
	}
}
