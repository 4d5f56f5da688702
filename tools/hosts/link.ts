// Each emulated host's link to the shared storage: a cgroup v1 blkio group with a read limit on the
// host's own loop device (blkio.throttle.read_bps_device / read_iops_device), so a host reading its
// device gets at most that bandwidth, the other host's device being limited on its own. Processes put
// in the group pass it on to their children. Measured here: the limit holds on direct-I/O loop
// devices (research/performance.md).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execCommand } from '../vm/exec.js';

export interface LinkLimit {
	/** Bytes per second; 0 = no limit. */
	readBps: number;
	/** Read requests per second; 0 = no limit. */
	readIops: number;
}

/** A name that is safe as a directory name and says whose it is. */
export function checkName(name: string): string {
	if (!/^hotcache-[A-Za-z0-9._-]{1,100}$/.test(name)) throw new Error(`${JSON.stringify(name)} is not a name of the form hotcache-[A-Za-z0-9._-]+`);
	return name;
}

/** Where the blkio hierarchy is mounted in this mount namespace, or null. */
export function blkioMount(): string | null {
	for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
		const [mine, theirs] = line.split(' - ');
		const [fstype, , options] = (theirs ?? '').split(' ');
		if (fstype === 'cgroup' && options?.split(',').includes('blkio')) return mine!.split(' ')[4]!;
	}
	return null;
}

export interface BlkioRoot {
	dir: string;
	/** We mounted it (inside a namespace that has no /sys/fs/cgroup): unmount it when done. */
	mounted: boolean;
}

/** The blkio hierarchy's root, mounted at `fallback` when this mount namespace has none. */
export async function blkioRoot(fallback: string): Promise<BlkioRoot> {
	const found = blkioMount();
	if (found) return { dir: found, mounted: false };
	mkdirSync(fallback, { recursive: true });
	await execCommand('mount', ['-t', 'cgroup', '-o', 'blkio', 'cgroup', fallback]);
	return { dir: fallback, mounted: true };
}

/** The device's major:minor as blkio wants it, from sysfs. */
export function deviceNumber(device: string): string {
	return readFileSync(`/sys/class/block/${path.basename(device)}/dev`, 'utf8').trim();
}

/** Creates the group `name` limiting reads from each device; returns its directory. */
export function createLink(root: string, name: string, devices: string[], limit: LinkLimit): string {
	const dir = path.join(root, checkName(name));
	mkdirSync(dir);
	for (const dev of devices) {
		if (limit.readBps > 0) writeFileSync(path.join(dir, 'blkio.throttle.read_bps_device'), `${dev} ${Math.round(limit.readBps)}`);
		if (limit.readIops > 0) writeFileSync(path.join(dir, 'blkio.throttle.read_iops_device'), `${dev} ${Math.round(limit.readIops)}`);
	}
	return dir;
}

/** Puts a process (and so its future children) in the group. */
export function joinLink(dir: string, pid: number): void {
	writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
}

/** Bytes read through the group from each device ("MAJ:MIN" -> bytes). */
export function bytesRead(dir: string): Map<string, number> {
	const out = new Map<string, number>();
	for (const m of readFileSync(path.join(dir, 'blkio.throttle.io_service_bytes'), 'utf8').matchAll(/^(\d+:\d+) Read (\d+)$/gm)) out.set(m[1]!, Number(m[2]));
	return out;
}

/**
 * Removes the group `name` under `root`: its remaining processes are moved to the root group first
 * (the caller's own, for instance), then the directory goes; a process still exiting keeps it busy
 * for a moment, so the removal is retried for up to `waitMs`.
 */
export async function removeLink(root: string, name: string, waitMs = 5000): Promise<void> {
	const dir = path.join(root, checkName(name));
	const deadline = Date.now() + waitMs;
	while (existsSync(dir)) {
		for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
			try {
				writeFileSync(path.join(root, 'cgroup.procs'), pid);
			} catch {
				// Gone meanwhile.
			}
		}
		try {
			rmdirSync(dir);
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > deadline) throw err;
			await delay(50);
		}
	}
}
