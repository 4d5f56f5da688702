// The host side of the progress mapping the workloads publish (workloads/progress.h): create it,
// read its counters, move its epoch, read which units were read in an epoch.
import { closeSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';

export const HEADER_BYTES = 64;
/** "HCBENCH1" as the workload stores it (little endian). */
const MAGIC = 0x3148434e45424348n;
const OFFSET = { magic: 0, bytes: 8, ops: 16, epoch: 24, units: 32 } as const;

export interface Counts {
	bytes: number;
	ops: number;
}

/**
 * A zeroed progress file with room for `units` touched entries; the epoch starts at 1. `counting`: with
 * the magic and `units` already set, for a host a running workload is restored onto (its counts there
 * start from zero; it never writes the magic again).
 */
export function createProgressFile(file: string, units: number, opts: { counting?: boolean } = {}): void {
	const buf = Buffer.alloc(HEADER_BYTES + units);
	buf.writeBigUInt64LE(1n, OFFSET.epoch);
	if (opts.counting) {
		buf.writeBigUInt64LE(MAGIC, OFFSET.magic);
		buf.writeBigUInt64LE(BigInt(units), OFFSET.units);
	}
	writeFileSync(file, buf, { mode: 0o644 });
}

/** Reads the counters through one open fd, cheaply enough to do every 100 ms. */
export class ProgressReader {
	private readonly fd: number;
	private readonly buf = Buffer.alloc(24);

	constructor(file: string) {
		this.fd = openSync(file, 'r');
	}

	/** The counters, or null until the workload has mapped the file. */
	read(): Counts | null {
		readSync(this.fd, this.buf, 0, 24, 0);
		if (this.buf.readBigUInt64LE(OFFSET.magic) !== MAGIC) return null;
		return { bytes: Number(this.buf.readBigUInt64LE(OFFSET.bytes)), ops: Number(this.buf.readBigUInt64LE(OFFSET.ops)) };
	}

	close(): void {
		closeSync(this.fd);
	}
}

/** Sets the epoch that the workload stamps on every unit it reads from now on. */
export function setEpoch(file: string, epoch: number): void {
	const fd = openSync(file, 'r+');
	try {
		const buf = Buffer.alloc(8);
		buf.writeBigUInt64LE(BigInt(epoch));
		writeSync(fd, buf, 0, 8, OFFSET.epoch);
	} finally {
		closeSync(fd);
	}
}

/** Which units (pages, or files) were read while `epoch` was in force, as a predicate. */
export function readInEpoch(file: string, epoch: number): (unit: number) => boolean {
	const fd = openSync(file, 'r');
	try {
		const head = Buffer.alloc(HEADER_BYTES);
		readSync(fd, head, 0, HEADER_BYTES, 0);
		const units = Number(head.readBigUInt64LE(OFFSET.units));
		const touched = Buffer.alloc(units);
		readSync(fd, touched, 0, units, HEADER_BYTES);
		const mark = epoch & 0xff;
		return (unit) => unit >= 0 && unit < units && touched[unit] === mark;
	} finally {
		closeSync(fd);
	}
}
