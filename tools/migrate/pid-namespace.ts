// When the source and the destination share a pid namespace (both "hosts" on one kernel: the demo, the
// benchmark's emulated hosts, a move between containers of one machine), the restore needs the dumped
// pid back, and the dumped process holds it until it has exited and been reaped by its parent.
import { readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { processAlive } from '../process-alive.js';

const POLL_MS = 5;

/**
 * This process's pid namespace, told apart across machines: the namespace's inode alone is the same
 * number on every host for the initial one, so the kernel's boot id goes with it. Null when unknown.
 */
export function pidNamespaceId(): string | null {
	try {
		return `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
	} catch {
		return null;
	}
}

/** Waits until no process (a zombie included) holds `pid`, at most `timeoutMs`; whether it is free. */
export async function waitPidFree(pid: number, timeoutMs: number): Promise<boolean> {
	for (const deadline = Date.now() + timeoutMs; processAlive(pid); await delay(POLL_MS)) if (Date.now() >= deadline) return false;
	return true;
}
