// A process named so that a reused pid cannot pass for it: its pid and its start time (the restore
// key's two numbers: hooks/restore-key.ts), written "PID START" in the state directory's files
// (init-pid, prefetcher.pid) and "PID.START" in a restore directory's name.
import { readFileSync } from 'node:fs';
import { restoreKey } from './restore-key.js';

export interface ProcessId {
	pid: number;
	start: string;
}

/** "PID START" (or PID.START, a restore directory's name), or null when it is not that. */
export function parseProcessId(text: string): ProcessId | null {
	const m = /^(\d{1,10})[ .](\d{1,20})\n?$/.exec(text);
	return m ? { pid: Number(m[1]), start: m[2]! } : null;
}

export function formatProcessId(id: ProcessId): string {
	return `${id.pid} ${id.start}\n`;
}

/** The process a /proc/<pid>/stat text describes, or null when the text is not one. */
export function processIdOf(stat: string): ProcessId | null {
	const key = restoreKey(stat);
	return key === null ? null : parseProcessId(key);
}

/** This process. */
export function self(): ProcessId {
	return processIdOf(readFileSync('/proc/self/stat', 'utf8'))!;
}

/** Whether the process runs: the pid exists, with that start time, and is no zombie. */
export function isRunning(id: ProcessId): boolean {
	try {
		const stat = readFileSync(`/proc/${id.pid}/stat`, 'utf8');
		// The state, field 3, just after the command name (which may hold anything).
		const state = stat[stat.lastIndexOf(') ') + 2];
		return state !== 'Z' && state !== 'X' && processIdOf(stat)?.start === id.start;
	} catch {
		return false;
	}
}
