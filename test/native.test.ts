// The native addon on real files on the disk (/var/tmp, not tmpfs): eviction, residency, readahead,
// errors shaped like Node's, and the engine's chunking making a large range fully resident.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { native, isSystemError } from '../hooks/native.js';
import { runPrefetch } from '../hooks/prefetch.js';
import { Recorder } from '../hooks/record.js';
import { deviceReadaheadBytes, readaheadCapBytes } from '../hooks/readahead-cap.js';
import { decodeImage, pageCounts } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { evict, hot, image, imageFile, lostPages, mglruEnabled, ones, PAGE, residency, runCaptureTool, scratchDir, testUnless, writeFile } from './support.js';

const MiB = 1 << 20;
const base = scratchDir('native').dir;
const big = path.join(base, 'big');
const BIG_PAGES = (64 * MiB) / PAGE;
writeFile(big, 64 * MiB);

test('errors carry code, errno and syscall like Node\'s fs errors', async () => {
	try {
		await native().fadvise(987654, 0, 0, native().advice.WILLNEED);
		assert.unreachable('fadvise on a closed fd resolved');
	} catch (err) {
		assert.ok(isSystemError(err));
		if (!isSystemError(err)) return;
		assert.is(err.code, 'EBADF');
		assert.is(err.errno, -9);
		assert.is(err.syscall, 'posix_fadvise');
		assert.match(err.message, /^EBADF: Bad file descriptor, posix_fadvise$/);
	}
	assert.throws(() => native().mincore(0, 1, 4096), /offset must be a multiple of the page size/);
	assert.throws(() => native().fadvise(-1, 0, 0, 0), /fd is out of range/);
});

/** mincore counts only up-to-date pages: wait (bounded) for in-flight reads to finish. */
async function settledMincore(fd: number, length: number, want: number): Promise<Uint8Array> {
	let vec = await native().mincore(fd, 0, length);
	for (let i = 0; i < 100 && ones(vec) < want; i++) {
		await new Promise((resolve) => setTimeout(resolve, 50));
		vec = await native().mincore(fd, 0, length);
	}
	return vec;
}

test('eviction empties the cache of a file; readahead(2) brings exactly its range; mincore and cachestat agree', async () => {
	await evict(big);
	assert.is(ones(await residency(big)), 0, 'evicted');
	const fd = openSync(big, 'r');
	try {
		await native().readahead(fd, 4 * MiB, MiB);
		// cachestat counts pages in the cache at once, mincore only once their read has completed.
		assert.is((await native().cachestat(fd, 4 * MiB, MiB)).cache, MiB / PAGE, 'the range is in the cache');
		assert.is((await native().cachestat(fd, 0, 0)).cache, MiB / PAGE, 'and nothing else');
		const vec = await settledMincore(fd, 64 * MiB, MiB / PAGE);
		assert.is(ones(vec, (4 * MiB) / PAGE, (5 * MiB) / PAGE), MiB / PAGE);
		assert.is(ones(vec), MiB / PAGE);
		assert.is((await native().cachestat(fd, 0, 0)).dirty, 0);
	} finally {
		closeSync(fd);
	}
});

// The kernel's own cap, not the engine's (which is at most 16 MiB): it decides what one WILLNEED brings.
const kernelCap = deviceReadaheadBytes(statSync(big, { bigint: true }).dev);

testUnless(kernelCap >= 64 * MiB ? `the readahead cap here is ${kernelCap} bytes, not below the 64 MiB file: the truncation cannot show` : null, test, 'one WILLNEED larger than the readahead cap is cut short by the kernel (why the engine chunks)', async () => {
	const cap = kernelCap;
	await evict(big);
	const fd = openSync(big, 'r');
	try {
		await native().fadvise(fd, 0, 64 * MiB, native().advice.WILLNEED);
		const cached = (await native().cachestat(fd, 0, 0)).cache;
		assert.ok(cached > 0 && cached <= cap / PAGE, `${cached} pages in the cache after one 64 MiB WILLNEED, cap ${cap / PAGE} pages`);
	} finally {
		closeSync(fd);
	}
});

test('the engine makes a 64 MiB hot range fully resident, in chunks no larger than the cap', async () => {
	await evict(big);
	const rec = path.join(base, 'record.jsonl');
	const recorder = new Recorder([rec], null);
	const summary = await runPrefetch({
		image: image([imageFile(big, big, [hot(0, BIG_PAGES)], [10 * MiB])]),
		imageLabel: 'test',
		root: '/',
		config: { workers: 4, bandwidth: 0, activate: true },
		recorder,
		signal: new AbortController().signal,
	});
	recorder.close();
	// Nearly every page, not all (lostPages). One unchunked WILLNEED would leave 7/8 out.
	const resident = ones(await residency(big));
	assert.ok(resident >= BIG_PAGES - lostPages(BIG_PAGES), `${resident} of ${BIG_PAGES} pages resident`);
	assert.is(summary.pagesAsked, BIG_PAGES);
	assert.is(summary.fetched + summary.alreadyResident + summary.missing, BIG_PAGES, 'every page accounted for');
	assert.ok(summary.missing <= lostPages(BIG_PAGES), `${summary.missing} pages missing`);
	const cap = readaheadCapBytes(statSync(big, { bigint: true }).dev, PAGE) / PAGE;
	const chunks = readFileSync(rec, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; count: number; start: number; seq: number }).filter((e) => e.kind === 'chunk');
	assert.ok(chunks.every((c) => c.count <= cap), 'no chunk above the cap');
	assert.is(chunks.find((c) => c.seq === 0)?.start, (10 * MiB) / PAGE, 'the first chunk starts at the fd offset');
});

test('more files than the open-file limit allows: the excess is skipped, the run and its status file still work', async () => {
	const dir = path.join(base, 'many');
	mkdirSync(dir);
	const FILES = 300;
	for (let i = 0; i < FILES; i++) writeFileSync(path.join(dir, String(i)), Buffer.alloc(PAGE, i));
	const dist = path.join(projectRoot, 'dist');
	// A child with RLIMIT_NOFILE 256: the engine must keep fds back for its record and status file.
	const script = `
		import { runPrefetch } from '${dist}/hooks/prefetch.js';
		import { Recorder } from '${dist}/hooks/record.js';
		import { image, imageFile, hot } from '${dist}/test/support.js';
		const dir = process.env.DIR;
		const files = Array.from({ length: ${FILES} }, (_, i) => imageFile(dir + '/' + i, dir + '/' + i, [hot(0, 1)]));
		const recorder = new Recorder([dir + '.jsonl'], dir + '.status');
		const s = await runPrefetch({ image: image(files), imageLabel: 'test', root: '/', config: { workers: 2, bandwidth: 0, activate: false }, recorder, signal: new AbortController().signal });
		recorder.close();
		console.log(JSON.stringify({ planned: s.filesPlanned, skipped: s.skipped.map((k) => k.reason) }));`;
	const child = spawnSync('sh', ['-c', 'ulimit -n 256 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { env: { ...process.env, DIR: dir }, encoding: 'utf8' });
	assert.is(child.status, 0, child.stderr);
	const out = JSON.parse(child.stdout) as { planned: number; skipped: string[] };
	assert.ok(out.planned >= 64 && out.planned < 256, `${out.planned} files planned under a limit of 256 fds`);
	assert.is(out.planned + out.skipped.length, FILES);
	assert.ok(out.skipped.every((r) => /open-file limit \(RLIMIT_NOFILE\)/.test(r)), out.skipped[0]);
	assert.match(readFileSync(`${dir}.status`, 'utf8'), new RegExp(`^hotcache: prefetch done: .* ${out.planned} files, ${out.skipped.length} skipped`));
});

/**
 * Pages of `file` on the active list, read by the capture tool's kpageflags backend (PG_active = hot
 * on the classic LRU): the file's own pages, so nothing else the machine reads meanwhile counts.
 */
function activePages(file: string): number {
	const r = runCaptureTool(['--backend', 'kpageflags', file]);
	assert.is(r.code, 0, r.stderr);
	return decodeImage(r.stdout).files.reduce((sum, f) => sum + pageCounts(f).hot, 0);
}

testUnless(mglruEnabled() ? 'MGLRU is on: there is no active list to land on' : null, test, 'activation puts the prefetched hot pages on the active list; without it they stay inactive', async () => {
	const run = async (activate: boolean): Promise<number> => {
		await evict(big);
		const recorder = new Recorder([], null);
		await runPrefetch({ image: image([imageFile(big, big, [hot(0, BIG_PAGES)])]), imageLabel: 'test', root: '/', config: { workers: 4, bandwidth: 0, activate }, recorder, signal: new AbortController().signal });
		recorder.close();
		return activePages(big);
	};
	// The kernel moves pages to the active list in per-CPU batches: a few may still be on their way.
	const withActivation = await run(true);
	const without = await run(false);
	assert.ok(withActivation >= BIG_PAGES * 0.9, `${withActivation} of ${BIG_PAGES} pages active with activation`);
	assert.ok(without < BIG_PAGES * 0.1, `${without} of ${BIG_PAGES} pages active without activation`);
});

test.run();
