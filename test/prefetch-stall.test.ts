// Files on FUSE are prefetched, and a daemon that never answers cannot hold the prefetcher: a real FUSE
// file system (test/fixtures/fusefs.c, the kernel's protocol on /dev/fuse) serves a file, a file whose
// reads are never answered, and names whose lookups are never answered. Also: when the run fails
// midway, no read outlives its file descriptor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { native } from '../hooks/native.js';
import { runPrefetch } from '../hooks/prefetch.js';
import { Recorder, type RecordEvent } from '../hooks/record.js';
import { encodeImage, type ImageFile } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { buildFixtures, evict, hot, image, imageFile, initPidLine, ones, residency, scratchDir, testUnless, writeFile } from './support.js';

const fusefs = path.join(projectRoot, 'test/fixtures/out/fusefs');

const base = scratchDir('stall').dir;
const SIZE = 4 << 20;
const PAGES = SIZE / 4096;

function why(): string | null {
	if (process.getuid?.() !== 0) return 'mounting a FUSE file system needs root';
	if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
	buildFixtures();
	return null;
}
const skip = why();

interface Mount {
	dir: string;
	/** Requests the daemon saw: [opcode, nodeid]. */
	requests(): [number, number][];
	/** Kills the daemon (every request it left pending fails) and unmounts. */
	stop(): Promise<void>;
}

async function mountFuse(): Promise<Mount> {
	const dir = mkdtempSync(`/tmp/hotcache-fuse-${process.pid}-`);
	const log = path.join(base, `${path.basename(dir)}.log`);
	const daemon = spawn(fusefs, [dir, String(SIZE), log], { stdio: ['ignore', 'pipe', 'inherit'] });
	const [line] = (await Promise.race([once(daemon.stdout!, 'data'), once(daemon, 'exit')])) as [Buffer | number];
	if (!Buffer.isBuffer(line) || !line.toString().startsWith('mounted')) throw new Error(`fusefs did not mount ${dir}`);
	return {
		dir,
		requests: () => readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]),
		stop: async () => {
			if (daemon.exitCode === null) {
				daemon.kill('SIGKILL');
				await once(daemon, 'exit');
			}
			spawnSync('umount', ['-l', dir]);
			rmdirSync(dir);
		},
	};
}

interface Run {
	child: ChildProcess;
	exited: Promise<number | null>;
	dir: string;
	status(): string;
	events(): (RecordEvent & Record<string, unknown>)[];
}

/** The real prefetcher on an image of `files`, as the action script starts it (pool of 4 threads). */
function prefetcher(name: string, files: ImageFile[], env: Record<string, string>): Run {
	const state = path.join(base, name);
	const dir = path.join(state, 'restores', '1.1');
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'hotcache.img'), encodeImage(image(files)));
	writeFileSync(path.join(dir, 'init-pid'), initPidLine()); // this process stands in for the restored init
	const child = spawn(process.execPath, [path.join(projectRoot, 'dist/hooks/prefetcher.js'), dir], {
		env: { ...process.env, HOTCACHE_STATE_DIR: state, HOTCACHE_RECORD: '', UV_THREADPOOL_SIZE: '4', ...env },
		stdio: 'ignore',
	});
	const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
	const read = (f: string) => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8') : '');
	return {
		child,
		exited,
		dir,
		status: () => read('status').trim(),
		events: () => read('record.jsonl').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as RecordEvent & Record<string, unknown>),
	};
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
	try {
		return await Promise.race([p, late]);
	} finally {
		clearTimeout(timer);
	}
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
	const t0 = Date.now();
	while (!check()) {
		if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
		await new Promise((r) => setTimeout(r, 25));
	}
}

const FUSE_LOOKUP = 1;
const FUSE_OPEN = 14;

testUnless(skip, test, 'a file on FUSE is prefetched by default', async () => {
	const m = await mountFuse();
	try {
		const file = path.join(m.dir, 'data');
		const run = prefetcher('fuse-default', [imageFile(file, file, [hot(0, PAGES)])], {});
		assert.is(await within(run.exited, 30_000, 'the prefetcher'), 0);
		assert.match(run.status(), /^hotcache: prefetch done: 1024 pages fetched/);
		assert.ok(run.events().some((e) => e.kind === 'file' && e.fuse === true), 'recorded as on FUSE');
		assert.is(ones(await residency(file)), PAGES, 'all of it resident');
	} finally {
		await m.stop();
	}
});

testUnless(skip, test, 'HOTCACHE_FUSE=0 refuses FUSE files without opening them', async () => {
	const m = await mountFuse();
	try {
		const file = path.join(m.dir, 'data');
		const run = prefetcher('fuse-refused', [imageFile(file, file, [hot(0, PAGES)])], { HOTCACHE_FUSE: '0' });
		assert.is(await within(run.exited, 30_000, 'the prefetcher'), 0);
		const skipEvent = run.events().find((e) => e.kind === 'skip');
		assert.match(String(skipEvent?.reason), /on fuse, served by a process that could make open or read hang: not opened/);
		assert.not.ok(m.requests().some(([op]) => op === FUSE_OPEN), 'the daemon never saw an open');
	} finally {
		await m.stop();
	}
});

testUnless(skip, test, 'a FUSE file whose reads are never answered is abandoned after the stall timeout; the other files are fetched and the prefetcher ends', async () => {
	const m = await mountFuse();
	const disk = path.join(base, 'beside-stuck-read');
	writeFile(disk, SIZE);
	await evict(disk);
	try {
		const stuck = path.join(m.dir, 'stuck-read');
		const run = prefetcher('stuck-read', [imageFile(stuck, stuck, [hot(0, PAGES)]), imageFile(disk, disk, [hot(0, PAGES)])], { HOTCACHE_STALL_TIMEOUT: '1' });
		assert.is(await within(run.exited, 30_000, 'the prefetcher ending by itself'), 0);
		const stall = run.events().find((e) => e.kind === 'stall');
		assert.equal([stall?.path, stall?.op], [stuck, 'read']);
		assert.match(run.status(), /^hotcache: prefetch done/);
		assert.is(ones(await residency(disk)), PAGES, 'the file on disk is fetched');
		const summary = run.events().find((e) => e.kind === 'summary');
		assert.ok(Number(summary?.stuck) >= 1, 'the stuck read is counted');
	} finally {
		await m.stop();
	}
});

testUnless(skip, test, 'lookups that hang hold at most half the threads; the other files are fetched', async () => {
	const m = await mountFuse();
	const disk = path.join(base, 'beside-stuck-lookups');
	writeFile(disk, SIZE);
	await evict(disk);
	try {
		const stuck = Array.from({ length: 10 }, (_, i) => path.join(m.dir, `stuck-lookup-${i}`));
		const entries = [imageFile(disk, disk, [hot(0, PAGES)]), ...stuck.map((p) => ({ ...imageFile(disk, p, [hot(0, 1)]) }))];
		const run = prefetcher('stuck-lookups', entries, { HOTCACHE_STALL_TIMEOUT: '1' });
		await until(() => /^hotcache: prefetch done/.test(run.status()), 30_000, 'the prefetch done');
		const events = run.events();
		assert.is(events.filter((e) => e.kind === 'stall' && e.op === 'open').length, 2, 'two opens in flight at once (half of 4 threads), both stuck');
		assert.is(events.filter((e) => e.kind === 'skip' && /half the I\/O threads are stuck/.test(String(e.reason))).length, 8, 'the rest not tried');
		assert.is(ones(await residency(disk)), PAGES, 'the file on disk is fetched');
		// A lookup the daemon has read is waited out by the kernel even past SIGKILL: the process
		// (its main thread gone with exitNow) ends when the daemon does.
		await m.stop();
		assert.is(await within(run.exited, 10_000, 'the prefetcher once the daemon is gone'), 0);
	} finally {
		if (existsSync(m.dir)) await m.stop();
	}
});

testUnless(skip, test, 'SIGTERM ends the prefetch while every open it waits for hangs in a lookup', async () => {
	const m = await mountFuse();
	try {
		const stuck = Array.from({ length: 4 }, (_, i) => path.join(m.dir, `stuck-lookup-${i}`));
		const disk = path.join(base, 'beside-sigterm');
		writeFile(disk, 4096);
		const run = prefetcher('stuck-sigterm', stuck.map((p) => imageFile(disk, p, [hot(0, 1)])), { HOTCACHE_STALL_TIMEOUT: '600' });
		// One lookup reaches the daemon; the other opens wait in the kernel behind it.
		await until(() => m.requests().some(([op]) => op === FUSE_LOOKUP), 10_000, 'a lookup sent');
		await new Promise((r) => setTimeout(r, 300));
		run.child.kill('SIGTERM');
		await until(() => /^hotcache: nothing prefetched|^hotcache: prefetch stopped \(SIGTERM\)/.test(run.status()), 5_000, 'the status after SIGTERM');
		const summary = run.events().find((e) => e.kind === 'summary');
		assert.is(summary?.stopped, 'SIGTERM');
		assert.ok(Number(summary?.stuck) >= 2, `${summary?.stuck} calls left stuck`);
		await m.stop();
		assert.is(await within(run.exited, 10_000, 'the prefetcher once the daemon is gone'), 0);
	} finally {
		if (existsSync(m.dir)) await m.stop();
	}
});

/** A record that fails on its third request event, as a full disk would. */
class FailingRecorder extends Recorder {
	private requests = 0;
	override event(e: RecordEvent): void {
		if (e.kind === 'chunk' && ++this.requests === 3) throw new Error('ENOSPC: no space left on device, write');
	}
}

test('a run that fails midway closes no fd while a read still uses it (no read lands on a file that reused the number)', async () => {
	// Reads still in flight after the failure would land somewhere in 128 MiB: so large are the files
	// that get the freed fd numbers.
	const big = path.join(base, 'big');
	writeFile(big, 128 << 20);
	const victims = Array.from({ length: 4 }, (_, i) => path.join(base, `victim-${i}`));
	for (const v of victims) writeFile(v, 128 << 20);
	await evict(big);
	for (const v of victims) await evict(v);
	const rec = new FailingRecorder([], null);
	const controller = new AbortController();
	const failed = await runPrefetch({
		image: image([imageFile(big, big, [hot(0, (128 << 20) / 4096)])]),
		imageLabel: 'test',
		root: '/',
		config: { workers: 8, bandwidth: 0, activate: false },
		recorder: rec,
		signal: controller.signal,
	}).then(
		() => null,
		(err: Error) => err,
	);
	assert.match(String(failed?.message), /ENOSPC/);
	// The fd numbers the run closed are free now: files opened next get them.
	const fds = victims.map((v) => openSync(v, 'r'));
	try {
		await new Promise((r) => setTimeout(r, 500));
		for (const [i, fd] of fds.entries()) assert.is((await native().cachestat(fd, 0, 0)).cache, 0, `${victims[i]} was read through a reused fd`);
	} finally {
		for (const fd of fds) closeSync(fd);
	}
});

test.run();
