// A process named so that a reused pid cannot pass for it: its pid and its start time (field 22 of
// /proc/<pid>/stat, clock ticks since boot), written "PID START" in the state directory's files
// (init-pid, prefetcher.pid) and in a restore directory's name (<criu pid>.<start time>).
import { readFileSync } from 'node:fs';

export interface ProcessId {
	pid: number;
	start: string;
}

/** The fields of a /proc/<pid>/stat line from the state on (field 3): the name before may hold anything. */
export function statFields(stat: string): string[] {
	return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** "PID START" (or PID.START, a restore directory's name), or null when it is not that. */
export function parseProcessId(text: string): ProcessId | null {
	const m = /^(\d{1,10})[ .](\d{1,20})\n?$/.exec(text);
	return m ? { pid: Number(m[1]), start: m[2]! } : null;
}

export function formatProcessId(id: ProcessId): string {
	return `${id.pid} ${id.start}\n`;
}

/** This process. */
export function self(): ProcessId {
	return { pid: process.pid, start: statFields(readFileSync('/proc/self/stat', 'utf8'))[19]! };
}

/** Whether the process runs: the pid exists, with that start time, and is no zombie. */
export function isRunning(id: ProcessId): boolean {
	try {
		const fields = statFields(readFileSync(`/proc/${id.pid}/stat`, 'utf8'));
		return fields[0] !== 'Z' && fields[0] !== 'X' && fields[19] === id.start;
	} catch {
		return false;
	}
}
