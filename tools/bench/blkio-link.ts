// A link to this machine's own disk for the benchmarks that run on one host (engine.ts,
// restore-rounds.ts): the blkio group of tools/hosts/link.ts (the one throttle module) limiting reads
// from the disk that holds a directory (research/environment.md: buffered reads are throttled, cached
// re-reads are not). Its name carries our pid and a random suffix; removed by that exact name.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { blkioMount, createLink, removeLink } from '../hosts/link.js';

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

const NO_BLKIO = 'no cgroup v1 blkio hierarchy is mounted: the storage link cannot be emulated';

export function whyNoBlkio(): string | null {
	return blkioMount() ? null : NO_BLKIO;
}

/** A group limiting reads from the disk of `dir` to `bps` bytes/s and `iops` requests/s (0: none). */
export function createBlkioLink(dir: string, bps: number, iops: number): BlkioLink {
	const root = blkioMount();
	if (!root) throw new Error(NO_BLKIO);
	const device = diskOf(dir);
	const name = `hotcache-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
	createLink(root, name, [device], { readBps: bps, readIops: iops });
	return { name, device, remove: () => removeLink(root, name) };
}
