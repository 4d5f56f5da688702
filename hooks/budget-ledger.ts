// One memory budget for every prefetcher on the host. Each measures what the host can spare (page
// cache counts as available, so another prefetcher's pages do not lower it): two at once would each
// take all of it. So each writes its claim into a shared directory (one file per prefetcher, named by
// its pid and start time) BEFORE it reads the others', and takes what is left after every other live
// claim. Whatever the interleaving, of two prefetchers at least the later reader sees the other's
// claim; when both do, each leaves the other's share: together they never take more than the budget.
// Claims of prefetchers that are gone are removed by whoever sees them.
import { constants, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { parseProcessId, isRunning, self } from './process-identity.js';

export interface Claim {
	/** Bytes this prefetcher may use. */
	bytes: number;
	/** Other live prefetchers, and the bytes they claim. */
	others: number;
	otherBytes: number;
	/** Removes the claim (the prefetcher is done). */
	release(): void;
}

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The ledger directory: created 0700 when missing; refused unless a directory of ours that nobody else can write. */
function ledgerDir(dir: string): void {
	mkdirSync(dir, { recursive: true, mode: 0o700 });
	const st = lstatSync(dir);
	if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
	if (st.uid !== process.geteuid?.()) throw new Error(`${dir} belongs to uid ${st.uid}`);
	if (st.mode & 0o022) throw new Error(`${dir} is writable by others`);
}

/** Writes `text` to `file` atomically (a new temporary file renamed over it). */
function replaceFile(file: string, text: string): void {
	const tmp = `${file}.tmp`;
	rmSync(tmp, { force: true });
	const fd = openSync(tmp, NEW_FILE, 0o600);
	try {
		writeSync(fd, text);
	} finally {
		closeSync(fd);
	}
	renameSync(tmp, file);
}

/**
 * Claims up to `want` of `measured` bytes in `dir` for this process. Throws when the directory cannot
 * be used (the caller then goes on without sharing, and says so).
 */
export function claimBudget(dir: string, measured: number, want: number): Claim {
	ledgerDir(dir);
	const me = self();
	const name = `${me.pid}.${me.start}`;
	const own = path.join(dir, name);
	replaceFile(own, `${Math.min(want, measured)}\n`);
	let others = 0;
	let otherBytes = 0;
	for (const entry of readdirSync(dir)) {
		const id = parseProcessId(entry);
		if (!id || entry === name) continue;
		const file = path.join(dir, entry);
		if (!isRunning(id)) {
			rmSync(file, { force: true }); // its prefetcher is gone
			continue;
		}
		const bytes = Number(readFileSync(file, 'utf8').slice(0, 32).trim());
		if (!Number.isSafeInteger(bytes) || bytes < 0) continue;
		others++;
		otherBytes += bytes;
	}
	const bytes = Math.max(0, Math.min(want, measured - otherBytes));
	replaceFile(own, `${bytes}\n`);
	return { bytes, others, otherBytes, release: () => rmSync(own, { force: true }) };
}
