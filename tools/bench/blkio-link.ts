// The same-host stand-in's link to the storage: a cgroup v1 blkio group limiting reads from the disk
// that holds the benchmark's files (research/environment.md: buffered reads are throttled, cached
// re-reads are not). Its name carries our pid and a random suffix; removed by that exact name.
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const ROOT = '/sys/fs/cgroup/blkio';

/** major:minor of the whole disk under `dir` (blkio throttles disks, not partitions). */
function diskOf(dir: string): string {
	const dev = statSync(dir).dev;
	let sys = `/sys/dev/block/${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`;
	if (!existsSync(sys)) throw new Error(`${dir} is not on a block device (${sys} missing): the link cannot be emulated there`);
	if (existsSync(path.join(sys, 'partition'))) sys = path.join(sys, '..');
	return readFileSync(path.join(sys, 'dev'), 'utf8').trim();
}

export interface BlkioLink {
	/** The group's name (its directory under each blkio mount). */
	name: string;
	device: string;
	remove(): Promise<void>;
}

export function whyNoBlkio(): string | null {
	return existsSync(path.join(ROOT, 'blkio.throttle.read_bps_device')) ? null : `no cgroup v1 blkio hierarchy at ${ROOT}: the storage link cannot be emulated`;
}

/** A group limiting reads from the disk of `dir` to `bps` bytes/s and `iops` requests/s (0: none). */
export function createBlkioLink(dir: string, bps: number, iops: number): BlkioLink {
	const why = whyNoBlkio();
	if (why) throw new Error(why);
	const device = diskOf(dir);
	const name = `hotcache-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
	const group = path.join(ROOT, name);
	mkdirSync(group);
	if (bps > 0) writeFileSync(path.join(group, 'blkio.throttle.read_bps_device'), `${device} ${Math.round(bps)}`);
	if (iops > 0) writeFileSync(path.join(group, 'blkio.throttle.read_iops_device'), `${device} ${Math.round(iops)}`);
	return {
		name,
		device,
		async remove() {
			// A namespace that just died may keep the group busy for a moment.
			for (let tries = 0; existsSync(group); tries++) {
				try {
					rmdirSync(group);
				} catch (err) {
					if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || tries > 100) throw err;
					await delay(50);
				}
			}
		},
	};
}
