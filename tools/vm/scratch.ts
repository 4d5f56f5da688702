// The scratch directory of one matrix run (builds, initramfs images, disks) under the VM cache.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { vmCacheDir } from './paths.js';
import { processAlive } from '../process-alive.js';

/** A run's scratch directory, named by pid so one left by a killed run is removed by the next. */
export function makeScratchDir(): string {
	const base = vmCacheDir();
	mkdirSync(base, { recursive: true });
	for (const entry of readdirSync(base)) {
		const pid = Number(/^run-(\d+)-/.exec(entry)?.[1] ?? NaN);
		if (Number.isInteger(pid) && !processAlive(pid)) rmSync(path.join(base, entry), { recursive: true, force: true });
	}
	return mkdtempSync(path.join(base, `run-${process.pid}-`));
}
