// The restore's key: <criu pid>.<criu start time>, the name of the restore's directory, as
// criu-plugin/lib/restore-key.c and hooks/restore-key.sh make it (the parity test holds the three to the
// same keys): the pid (up to the first space), a dot, then the start time, the contract's field of
// /proc/<pid>/stat counted from field 3 just after the last ") " (the command name may hold anything).
import { readFileSync } from 'node:fs';
import { RESTORE } from '../contract/out/contract.js';

/** The key from the text of /proc/<pid>/stat, or null unless both parts are numbers (at most 10 and 20 digits). */
export function restoreKey(stat: string): string | null {
	const close = stat.lastIndexOf(') ');
	if (close < 0) return null;
	const pid = stat.slice(0, stat.indexOf(' '));
	const start = stat.slice(close + 2).split(/[ \t\n]+/).filter((f) => f !== '')[RESTORE.startTimeField - 3] ?? '';
	return /^[0-9]{1,10}$/.test(pid) && /^[0-9]{1,20}$/.test(start) ? `${pid}.${start}` : null;
}

/** The key of a live process, or null when it is gone. */
export function restoreKeyOf(pid: number | string): string | null {
	try {
		return restoreKey(readFileSync(`/proc/${pid}/stat`, 'utf8'));
	} catch {
		return null;
	}
}
