// What the tests share: skipping with a reason, scratch files on a real disk, the built tools, the page
// cache as the kernel shows it, images of real files, and the tolerances this machine needs (each once,
// with its reason).
import type { Test } from 'uvu';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../hooks/native.js';
import { formatProcessId, processIdOf } from '../hooks/process-identity.js';
import { Hotness, type HotcacheImage, type ImageFile, type PageRange } from '../proto/image.js';
import { builtFile, projectRoot } from '../tools/project.js';

export const PAGE = 4096;

// ---- Tolerances ----

/**
 * Pages this machine's page cache drops on its own, with no reclaim counted: it runs a DAMON pageout
 * scheme (/sys/kernel/mm/damon/admin/kdamonds/0: physical-address sampling, unmapped file pages idle for
 * a minute), which samples whole regions and was seen dropping freshly read pages: 0.03-0.1% of a
 * 512 MiB prefetch, tens of pages of a 16 MiB file within seconds. A count of resident pages allows
 * 0.5% of the file, and never fewer than 32 pages: the loss comes in runs, so a small file loses as
 * many as a large one.
 */
export function lostPages(pages: number): number {
	return Math.max(32, Math.ceil(pages * 0.005));
}

/**
 * The kernel moves pages to the active list in per-CPU batches of up to 31 folios: that many pages per
 * CPU, read three times just before a capture, may still wait there and read as warm, not hot.
 */
export const PENDING_ACTIVATION = 31 * os.cpus().length;

// ---- Skipping ----

/** Registers `fn`, or skips it and says why when `reason` is not null (not root, no qemu, ...). */
export function testUnless(reason: string | null, suite: Test, name: string, fn: () => Promise<void> | void): void {
	if (reason === null) {
		suite(name, fn);
		return;
	}
	process.stdout.write(`  skip: ${name}: ${reason}\n`);
	suite.skip(name, fn);
}

/**
 * MGLRU's switch as the kernel shows it (absent on kernels without it, "0x0000" when off): the tests'
 * own reading, to check what the capture library reports against.
 */
export function mglruEnabled(): boolean {
	try {
		return Number.parseInt(readFileSync('/sys/kernel/mm/lru_gen/enabled', 'utf8').trim(), 16) !== 0;
	} catch {
		return false;
	}
}

// ---- Scratch files on a real disk (page-cache tests cannot use tmpfs) ----

const scratchDirs = new Set<string>();
// Removed when the test process exits, however it exits short of SIGKILL: the suite's files are all
// imported (and their directories made) before any test runs, so a crash elsewhere must not leak them.
process.once('exit', () => {
	for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A directory under /var/tmp, removed by `remove` or at exit at the latest. */
export function scratchDir(tag: string): { dir: string; remove: () => void } {
	const dir = mkdtempSync(path.join('/var/tmp', `hotcache-${tag}-`));
	scratchDirs.add(dir);
	return {
		dir,
		remove: () => {
			rmSync(dir, { recursive: true, force: true });
			scratchDirs.delete(dir);
		},
	};
}

/** A file of `bytes` random bytes, synced to disk. */
export function writeFile(file: string, bytes: number): void {
	const fd = openSync(file, 'w', 0o644);
	const block = randomBytes(Math.min(bytes, 1 << 20));
	for (let done = 0; done < bytes; done += block.length) writeSync(fd, block, 0, Math.min(block.length, bytes - done));
	fsyncSync(fd);
	closeSync(fd);
}

// ---- The page cache ----

/** Drops a file's clean pages from the page cache, after writing back its dirty ones. */
export async function evict(file: string): Promise<void> {
	const fd = openSync(file, 'r');
	try {
		fsyncSync(fd);
		await native().fadvise(fd, 0, 0, native().advice.DONTNEED);
	} finally {
		closeSync(fd);
	}
}

/** Reads `pages` of `file` `times` times, one page per read, without readahead. */
export async function readPages(file: string, pages: number[], times: number): Promise<void> {
	const fd = openSync(file, 'r');
	const buf = Buffer.alloc(PAGE);
	try {
		await native().fadvise(fd, 0, 0, native().advice.RANDOM);
		for (let t = 0; t < times; t++) for (const p of pages) readSync(fd, buf, 0, PAGE, p * PAGE);
	} finally {
		closeSync(fd);
	}
}

/** One 0/1 per page of the file: resident or not, by mincore(2), independently of the capture code. */
export async function residency(file: string): Promise<Uint8Array> {
	const fd = openSync(file, 'r');
	try {
		return await native().mincore(fd, 0, statSync(file).size);
	} finally {
		closeSync(fd);
	}
}

/** The resident pages of a file, as a set of page indexes. */
export async function residentPages(file: string): Promise<Set<number>> {
	const vec = await residency(file);
	return new Set(range(0, vec.length).filter((i) => vec[i] === 1));
}

export function ones(vec: Uint8Array, from = 0, to = vec.length): number {
	let n = 0;
	for (let i = from; i < to; i++) n += vec[i]!;
	return n;
}

export function range(from: number, to: number): number[] {
	return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Every page listed in `ranges`, expanded. */
export function pagesOf(ranges: { start: number; count: number }[]): number[] {
	return ranges.flatMap((r) => range(r.start, r.start + r.count));
}

// ---- The built tools ----

export const captureTool = builtFile('capture');
export const pluginFile = builtFile('plugin');
export const readerTool = path.join(projectRoot, 'test/fixtures/out/reader');
/** Opens, reads and closes files in a loop (test/fixtures/cycler.c). */
export const cyclerTool = path.join(projectRoot, 'test/fixtures/out/cycler');
/** The runner of the capture library's unit tests and of its side of the parity tests (criu-plugin/test/). */
export const testRunner = path.join(projectRoot, 'criu-plugin/out/hotcache-test');

export interface ToolResult {
	code: number | null;
	stdout: Buffer;
	stderr: string;
}

export function runCaptureTool(args: string[], env: Record<string, string> = {}): ToolResult {
	const r = spawnSync(captureTool, args, { env: { ...process.env, ...env }, maxBuffer: 128 << 20 });
	if (r.error) throw r.error;
	return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Builds the test programs (static, so they also run inside the test root file system). */
export function buildFixtures(): void {
	const r = spawnSync('make', ['-s', '-C', path.join(projectRoot, 'test/fixtures')], { encoding: 'utf8' });
	if (r.status !== 0) throw new Error(`building test/fixtures failed:\n${r.stdout}${r.stderr}`);
}

// ---- A helper run inside the test root file systems ----

/** "Resident again": all of a file's pages but those this machine drops on its own (lostPages). */
export const residentEnough = (pages: number): number => pages - lostPages(pages);

/**
 * The helper's source (an ES module), run after a restore on whatever Node the test names (the
 * rootfs's own, or the private one where the rootfs has none) with the built addon:
 * `evict FILE...`; `wait-resident FILE PAGES ENOUGH MS`: how long until ENOUGH of the file's PAGES are
 * resident again (bounded wait; ENOUGH: residentEnough); `counter FILE`: the reader's counter.
 */
export const HELPER = `
import { closeSync, fsyncSync, openSync, readFileSync } from 'node:fs';
const { native } = await import(${JSON.stringify(path.join(projectRoot, 'dist/hooks/native.js'))});
const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'evict') {
	for (const file of args) {
		const fd = openSync(file, 'r');
		fsyncSync(fd);
		await native().fadvise(fd, 0, 0, native().advice.DONTNEED);
		console.log(file, 'resident after eviction:', (await native().cachestat(fd, 0, 0)).cache);
		closeSync(fd);
	}
} else if (cmd === 'wait-resident') {
	const fd = openSync(args[0], 'r');
	const t0 = Date.now();
	let cached = 0;
	while (Date.now() - t0 < Number(args[3])) {
		cached = (await native().cachestat(fd, 0, 0)).cache;
		if (cached >= Number(args[2])) break;
		await new Promise((r) => setTimeout(r, 20));
	}
	console.log('resident=' + cached + ' pages=' + args[1] + ' ms=' + (Date.now() - t0) + ' file=' + args[0]);
} else if (cmd === 'counter') {
	console.log(readFileSync(args[0]).readBigUInt64LE(0).toString());
}
`;

/** The helper's wait-resident line (of `file`, else the first), when it says the file is resident again. */
export function residentAgain(out: string, file?: string): { ms: number } | null {
	for (const m of out.matchAll(/resident=(\d+) pages=(\d+) ms=(\d+) file=(\S+)/g)) {
		if (file !== undefined && m[4] !== file) continue;
		return Number(m[1]) >= residentEnough(Number(m[2])) ? { ms: Number(m[3]) } : null;
	}
	return null;
}

/** A `name=NUMBER` line printed by a test script, NaN when absent. */
export const value = (text: string, name: string): number => Number(new RegExp(`^${name}=(\\d+)`, 'm').exec(text)?.[1] ?? NaN);

// ---- Images of real files ----

/** An image entry for `file` as it is on disk now; `imagePath` is how the image names it. */
export function imageFile(file: string, imagePath: string, ranges: PageRange[], fdOffsets: number[] = []): ImageFile {
	const st = statSync(file, { bigint: true });
	return {
		path: imagePath,
		identity: { size: Number(st.size), mtimeNs: st.mtimeNs, inode: st.ino, dev: st.dev, handle: new Uint8Array(), handleType: 0 },
		fds: fdOffsets.map((offset, i) => ({ pid: 1, fd: 3 + i, offset })),
		mapped: false,
		sizePages: Math.ceil(Number(st.size) / PAGE),
		dirtySynced: false,
		ranges,
	};
}

export function image(files: ImageFile[], ownRoot = false): HotcacheImage {
	return {
		version: 1,
		capture: {
			host: os.hostname(),
			kernel: os.release(),
			timeNs: 0n,
			backend: 'kpageflags',
			lru: 'classic',
			hotWarmExact: true,
			pageSize: PAGE,
			durationMs: 0,
			rootPid: 1,
			ownRoot,
			partial: false,
			partialReason: '',
			tool: 'test',
		},
		files,
	};
}

export const hot = (start: number, count: number): PageRange => ({ start, count, hotness: Hotness.Hot });
export const warm = (start: number, count: number): PageRange => ({ start, count, hotness: Hotness.Warm });
export const residentOnly = (start: number, count: number): PageRange => ({ start, count, hotness: Hotness.Resident });

/** "PID START" of a process (this one by default), as the action script writes init-pid: a test process stands in for the restored init. */
export function initPidLine(pid: number = process.pid): string {
	return formatProcessId(processIdOf(readFileSync(`/proc/${pid}/stat`, 'utf8'))!);
}
