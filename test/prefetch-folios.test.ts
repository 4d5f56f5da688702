// How the engine's reads fill the page cache, checked on the kernel itself (/proc/kpageflags): a long
// run read sequentially lands in large folios, as a plain sequential read does; the readahead that
// reads on past it stays inside the memory budget and is counted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../hooks/engine.js';
import { native } from '../hooks/native.js';
import { Plan } from '../hooks/plan.js';
import { runPrefetch } from '../hooks/prefetch.js';
import { readaheadCapBytes } from '../hooks/readahead-cap.js';
import { Recorder } from '../hooks/record.js';
import { SharedFd, StuckCalls } from '../hooks/stall-guard.js';
import { Hotness } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { buildFixtures, evict, hot, image, imageFile, lostPages, PAGE, scratchDir, testUnless, writeFile } from './support.js';

const MiB = 1 << 20;
const base = scratchDir('folios').dir;
const file = path.join(base, 'data');
const FILE_BYTES = 64 * MiB;
writeFile(file, FILE_BYTES);
buildFixtures();
const foliosTool = path.join(projectRoot, 'test/fixtures/out/folios');

/** Pages of [offset, offset + length) in the cache, and how many of them are in large folios. */
function folios(offset: number, length: number): { resident: number; large: number } | string {
	const r = spawnSync(foliosTool, [file, String(offset), String(length)], { encoding: 'utf8' });
	if (r.status === 3) return 'the kernel hides page frame numbers from this process (not CAP_SYS_ADMIN): /proc/kpageflags cannot be read for its pages';
	if (r.status !== 0) throw new Error(`folios exited ${r.status}: ${r.stderr}`);
	const [resident, large] = r.stdout.trim().split(' ').map(Number) as [number, number];
	return { resident, large };
}

/** What a plain sequential read (1 MiB reads, like `cat`) leaves: the kernel's own readahead on this file system. */
async function plainRead(): Promise<{ resident: number; large: number } | string> {
	await evict(file);
	const fd = openSync(file, 'r');
	try {
		const buf = Buffer.alloc(MiB);
		while (readSync(fd, buf, 0, buf.length, null) > 0);
	} finally {
		closeSync(fd);
	}
	return folios(0, FILE_BYTES);
}

const reference = await plainRead();
const fs = spawnSync('stat', ['-f', '-c', '%T', file], { encoding: 'utf8' }).stdout.trim();
const noLargeFolios =
	typeof reference === 'string'
		? reference
		: reference.large < reference.resident / 2
			? `this file system (${fs}) caches even a plain sequential read in 4 KiB folios (${reference.large} of ${reference.resident} pages in large ones): nothing to compare with`
			: null;

testUnless(noLargeFolios, test, 'a long hot run is fetched in large folios, as a plain sequential read leaves it', async () => {
	await evict(file);
	const recorder = new Recorder([], null);
	const summary = await runPrefetch({ image: image([imageFile(file, file, [hot(0, FILE_BYTES / PAGE)])]), imageLabel: 'test', root: '/', config: { workers: 4, bandwidth: 0, activate: false }, recorder, signal: new AbortController().signal });
	recorder.close();
	const got = folios(0, FILE_BYTES);
	assert.type(got, 'object');
	if (typeof got === 'string' || typeof reference === 'string') return;
	assert.ok(got.resident >= FILE_BYTES / PAGE - lostPages(FILE_BYTES / PAGE), `${got.resident} pages resident`);
	// The sparse way (WILLNEED) leaves none in large folios (mm/readahead.c force_page_cache_ra); the
	// first readahead window and the last ones before the end of the file come in 4 KiB folios.
	assert.ok(got.large >= got.resident * 0.9, `${got.large} of ${got.resident} pages in large folios (a plain read: ${reference.large} of ${reference.resident})`);
	assert.is(summary.fetched + summary.alreadyResident + summary.missing, summary.pagesAsked, 'every page accounted for once');
	assert.ok(summary.alreadyResident <= lostPages(FILE_BYTES / PAGE), `${summary.alreadyResident} pages counted as resident before the prefetch: the readahead's are the prefetch's`);
});

testUnless(noLargeFolios, test, 'the readahead past a run stays inside the memory budget, is counted; a budget of the run alone leaves nothing past it', async () => {
	const cap = readaheadCapBytes(statSync(file, { bigint: true }).dev, PAGE) / PAGE;
	const hotPages = 4 * cap; // one run at the start of the file, the rest of it not planned
	assert.ok(hotPages * 2 <= FILE_BYTES / PAGE, `the readahead cap (${cap} pages) leaves room after the run`);
	const run = async (budgetPages: number): Promise<{ resident: number; readahead: number }> => {
		await evict(file);
		const fd = openSync(file, 'r');
		const handle = new SharedFd(fd, async (n) => closeSync(n));
		const planFile = { ranges: [{ start: 0, count: hotPages, hotness: Hotness.Hot }], fdPages: [], capPages: cap, mapped: false };
		let readahead = 0;
		const engine = new Engine(new Plan([planFile], { resumePages: 0, includeResident: false }), [{ handle, plan: planFile, path: file, sizePages: FILE_BYTES / PAGE }], {
			workers: 2,
			threads: 4,
			pageSize: PAGE,
			stallMs: 5000,
			signal: new AbortController().signal,
			budgetPages,
			bandwidth: 0,
			iops: 0,
			spareWaitMs: 0,
			stuck: new StuckCalls(),
			events: { request: (_seq, r) => (readahead += r.readahead), model: () => {}, reading: () => {}, stall: () => {} },
		});
		await engine.run(false);
		// cachestat counts pages whose reads are still in flight: all the kernel took on is there.
		const resident = (await native().cachestat(fd, 0, 0)).cache;
		await handle.release();
		return { resident, readahead };
	};
	// Room for the run and two caps after it: its requests are read sequentially, their readahead counted.
	const roomy = await run(hotPages + 2 * cap);
	assert.ok(roomy.readahead > 0, 'the readahead past the run was counted');
	assert.ok(roomy.resident <= hotPages + 2 * cap, `${roomy.resident} pages resident, budget ${hotPages + 2 * cap}`);
	// The budget the run alone: requests whose readahead could pass the run are read exactly.
	const tight = await run(hotPages);
	assert.ok(tight.resident <= hotPages, `${tight.resident} pages resident, budget ${hotPages}`);
	assert.ok(tight.resident >= hotPages - lostPages(hotPages), `${tight.resident} of ${hotPages} run pages resident`);
});

test.run();
