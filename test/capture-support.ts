// Helpers of the dump-side tests: the capture tool, scratch files on a real disk, known access patterns.
import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { native } from '../hooks/native.js';
import { builtFile, projectRoot } from '../tools/project.js';
import type { CaptureCheck } from '../tools/capture-check.js';

export const PAGE = 4096;
export const captureTool = builtFile('capture');
export const pluginFile = builtFile('plugin');
export const readerTool = path.join(projectRoot, 'test/fixtures/out/reader');

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

export type CheckResult = CaptureCheck;

/** The C decoder's verdict on an image file (`hotcache-capture --check`). */
export function checkWithC(file: string): CheckResult {
	const r = runCaptureTool(['--check', file]);
	return JSON.parse(r.stdout.toString()) as CheckResult;
}

/** Builds the test programs (static, so they also run inside the test root file system). */
export function buildFixtures(): void {
	const r = spawnSync('make', ['-s', '-C', path.join(projectRoot, 'test/fixtures')], { encoding: 'utf8' });
	if (r.status !== 0) throw new Error(`building test/fixtures failed:\n${r.stdout}${r.stderr}`);
}

/** A directory on a real disk (page-cache tests cannot use tmpfs), removed by the returned function. */
export function scratchDir(tag: string): { dir: string; remove: () => void } {
	const dir = mkdtempSync(`/var/tmp/hotcache-${tag}-`);
	return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function makeFile(file: string, pages: number): void {
	writeFileSync(file, randomBytes(pages * PAGE));
}

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

/** The resident pages of a file by mincore(2), independently of the capture code. */
export async function residentPages(file: string, pages: number): Promise<Set<number>> {
	const fd = openSync(file, 'r');
	try {
		const vec = await native().mincore(fd, 0, pages * PAGE);
		const out = new Set<number>();
		vec.forEach((v, i) => {
			if (v & 1) out.add(i);
		});
		return out;
	} finally {
		closeSync(fd);
	}
}

export function range(from: number, to: number): number[] {
	return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Every page listed in the ranges of `ranges`, expanded. */
export function pagesOf(ranges: { start: number; count: number }[]): number[] {
	return ranges.flatMap((r) => range(r.start, r.start + r.count));
}
