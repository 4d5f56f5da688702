// Planning, ordering, chunking and budgets of the prefetch engine: pure functions, exact answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chunkStream, planChunks, plannedPages, truncateToBudget, pagesIn, type Chunk, type PlanFile } from '../hooks/plan.js';
import { getEventListeners } from 'node:events';
import { majorMinor, nfsReadSize } from '../hooks/readahead-cap.js';
import { realClock, TokenBucket, type Clock } from '../hooks/token-bucket.js';
import { cgroupHeadroom, margin, memAvailable, memoryBudget } from '../hooks/memory-budget.js';
import { hot, ones, residentOnly, warm } from './support.js';

const opts = { resumePages: 4, includeResident: false };

function covered(chunks: Chunk[], file: number): Set<number> {
	const pages = new Set<number>();
	for (const c of chunks) if (c.file === file) for (let p = c.start; p < c.start + c.count; p++) pages.add(p);
	return pages;
}

test('hot pages come before warm ones, resident-only pages are left out', () => {
	const files: PlanFile[] = [{ ranges: [warm(0, 10), hot(20, 10), residentOnly(40, 5)], fdPages: [], capPages: 100 }];
	const chunks = planChunks(files, opts);
	assert.equal(chunks.map((c) => [c.phase, c.start, c.count]), [['hot', 20, 10], ['warm', 0, 10]]);
});

test('resident-only pages are fetched last when asked for', () => {
	const files: PlanFile[] = [{ ranges: [residentOnly(0, 3), hot(5, 2), warm(9, 1)], fdPages: [], capPages: 100 }];
	const chunks = planChunks(files, { ...opts, includeResident: true });
	assert.equal(chunks.map((c) => c.phase), ['hot', 'warm', 'resident']);
});

test('the pages right after every fd offset go first, round robin over fds, then the rest wrapped', () => {
	const files: PlanFile[] = [
		{ ranges: [hot(0, 100)], fdPages: [50], capPages: 2 },
		{ ranges: [hot(0, 10), warm(10, 10)], fdPages: [8, 3], capPages: 100 },
	];
	const chunks = planChunks(files, opts);
	const resume = chunks.filter((c) => c.phase === 'resume');
	// fd 1 of file 0 (pages 50-53 in chunks of 2), fd 1 of file 1 (8-9: the hot range ends there), fd 2 of file 1 (3-6).
	assert.equal(resume.map((c) => [c.file, c.start, c.count]), [[0, 50, 2], [1, 8, 2], [1, 3, 4], [0, 52, 2]]);
	const hotRest = chunks.filter((c) => c.phase === 'hot' && c.file === 0);
	assert.is(hotRest[0]!.start, 54, 'file 0 continues after its resume window');
	assert.is(hotRest[hotRest.length - 1]!.start + hotRest[hotRest.length - 1]!.count, 50, 'and wraps to the pages before its offset');
	// Every hot page exactly once, nothing invented.
	assert.is(covered(chunks.filter((c) => c.phase !== 'warm'), 0).size, 100);
	assert.is(pagesIn(chunks), 100 + 10 + 10);
	assert.equal([...covered(chunks.filter((c) => c.phase === 'warm'), 1)].sort((a, b) => a - b), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
});

test('no chunk is larger than its file\'s readahead cap', () => {
	const files: PlanFile[] = [
		{ ranges: [hot(0, 1000), warm(1000, 333)], fdPages: [17], capPages: 32 },
		{ ranges: [hot(3, 77)], fdPages: [], capPages: 5 },
	];
	const chunks = planChunks(files, { resumePages: 100, includeResident: false });
	for (const c of chunks) assert.ok(c.count >= 1 && c.count <= files[c.file]!.capPages, `chunk ${JSON.stringify(c)}`);
	assert.is(pagesIn(chunks), 1000 + 333 + 77);
});

test('a large plan (400k one-page hot spans, 512 fds, some sharing an offset) keeps its invariants', () => {
	const SPANS = 400_000;
	const FDS = 512;
	const CAP = 32;
	const resumePages = 256;
	const ranges = Array.from({ length: SPANS }, (_, i) => hot(2 * i, 1));
	// Spread over the file, every fourth one on the same page as the previous: their windows queue behind each other.
	const fdPages = Array.from({ length: FDS }, (_, i) => Math.floor(((i - (i % 4 === 3 ? 1 : 0)) * 2 * SPANS) / FDS));
	const chunks = planChunks([{ ranges, fdPages, capPages: CAP }, { ranges: [hot(0, 10_000), warm(10_000, 50)], fdPages: [9_990], capPages: CAP }], { resumePages, includeResident: false });

	const seen = new Uint8Array(2 * SPANS);
	let resumeDone = false;
	let resumePagesSeen = 0;
	for (const c of chunks) {
		assert.ok(c.count >= 1 && c.count <= CAP, `chunk ${JSON.stringify(c)} above the cap`);
		if (c.phase === 'resume') {
			assert.ok(!resumeDone, 'every resume chunk comes before the others');
			resumePagesSeen += c.file === 0 ? c.count : 0;
		} else resumeDone = true;
		if (c.file !== 0) continue;
		for (let p = c.start; p < c.start + c.count; p++) {
			assert.ok(p % 2 === 0, `page ${p} is not hot`);
			assert.is(seen[p], 0, `page ${p} planned twice`);
			seen[p] = 1;
		}
	}
	assert.is(ones(seen), SPANS, 'every hot page of file 0 exactly once');
	assert.is(resumePagesSeen, FDS * resumePages, 'every fd got its full resume window (the file has enough hot pages)');
	assert.is(pagesIn(chunks), SPANS + 10_000 + 50);
});

test('an NFS mount\'s rsize is found in mountinfo by the file\'s device (the kernel caps readahead at max(rsize, read_ahead_kb))', () => {
	const mountinfo = [
		'28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
		'512 28 0:53 / /mnt/data rw,relatime shared:270 - nfs4 server:/export rw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys,local_lock=none,addr=10.0.0.1',
		'513 28 0:53 /sub /mnt/bind rw,relatime shared:270 - nfs4 server:/export rw,vers=4.2,rsize=1048576,wsize=1048576',
		'600 28 0:60 / /mnt/v3 rw,relatime - nfs server:/v3 rw,vers=3,wsize=65536,rsize=65536,namlen=255,hard',
		'601 28 0:61 / /mnt/x rw master:3 shared:4 - nfs server:/x rw,vers=3,wsize=4096',
		'602 28 0:62 / /mnt/smb rw - cifs //server/share rw,vers=3.1.1,rsize=4194304',
		'603 28 0:63 / /mnt/odd rw - nfs server:/odd rw,rsize=garbage',
	].join('\n');
	assert.is(nfsReadSize(mountinfo, '0:53'), 1 << 20, 'nfs4, 1 MiB rsize');
	assert.is(nfsReadSize(mountinfo, '0:60'), 65536, 'nfs (v3), no optional fields');
	assert.is(nfsReadSize(mountinfo, '0:61'), null, 'no rsize option');
	assert.is(nfsReadSize(mountinfo, '0:62'), null, 'not NFS');
	assert.is(nfsReadSize(mountinfo, '0:63'), null, 'not a number');
	assert.is(nfsReadSize(mountinfo, '254:1'), null, 'a block device');
	assert.is(nfsReadSize(mountinfo, '0:99'), null, 'not mounted');
	assert.is(majorMinor(0x3e1n), '3:225');
	assert.is(majorMinor((259n << 8n) | (0x12345n & 0xffn) | ((0x12345n & ~0xffn) << 12n)), '259:74565');
});

test('the memory budget truncates the plan, hottest first, cutting the last chunk', () => {
	const files: PlanFile[] = [{ ranges: [warm(0, 50), hot(100, 50)], fdPages: [], capPages: 20 }];
	const { chunks, leftOutPages } = truncateToBudget(planChunks(files, opts), 65, plannedPages(files, opts));
	assert.is(pagesIn(chunks), 65);
	assert.is(leftOutPages, 35);
	assert.ok(chunks.slice(0, 3).every((c) => c.phase === 'hot'), 'all hot pages kept');
	assert.equal(chunks[chunks.length - 1], { file: 0, start: 0, count: 15, phase: 'warm' });
	assert.is(truncateToBudget(planChunks(files, opts), 0, plannedPages(files, opts)).chunks.length, 0);
});

test('a plan of 2^40 pages is cut to the budget without its chunks ever being made', () => {
	// A few bytes of image can describe this; its 2^35 chunks would not fit in any heap.
	const files: PlanFile[] = [{ ranges: [hot(0, 2 ** 40)], fdPages: [2 ** 39], capPages: 32 }];
	let made = 0;
	const counted = (function* () {
		for (const c of chunkStream(files, opts)) {
			made++;
			yield c;
		}
	})();
	const { chunks, leftOutPages } = truncateToBudget(counted, 1000, plannedPages(files, opts));
	assert.is(pagesIn(chunks), 1000);
	assert.is(leftOutPages, 2 ** 40 - 1000);
	assert.is(chunks[0]!.start, 2 ** 39, 'the resumed reader first');
	// The 4-page resume chunk, then 996 pages: 31 whole chunks and one cut.
	assert.is(made, 1 + 32, 'no chunk made past the budget');
});

test('MemAvailable and cgroup v1 and v2 limits bound the budget, each minus a margin', () => {
	const meminfo = 'MemTotal:       24683520 kB\nMemFree:        1000 kB\nMemAvailable:    2097152 kB\n';
	assert.is(memAvailable(meminfo), 2 * 2 ** 30);
	const mountinfo = [
		'30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate',
		'35 25 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory',
		'36 25 0:32 / /sys/fs/cgroup/cpu rw,nosuid shared:15 - cgroup cgroup rw,cpu',
	].join('\n');
	const files: Record<string, string> = {
		'/sys/fs/cgroup/memory/a/memory.limit_in_bytes': '9223372036854771712\n', // v1 "unlimited"
		'/sys/fs/cgroup/memory/a/memory.usage_in_bytes': '100\n',
		'/sys/fs/cgroup/memory/a/b/memory.limit_in_bytes': String(1 << 30),
		'/sys/fs/cgroup/memory/a/b/memory.usage_in_bytes': String(256 << 20),
		'/sys/fs/cgroup/unified/p/q/memory.max': 'max\n',
		'/sys/fs/cgroup/unified/p/q/memory.current': '5\n',
		'/sys/fs/cgroup/unified/p/memory.max': String(512 << 20),
		'/sys/fs/cgroup/unified/p/memory.current': String(128 << 20),
		'/proc/meminfo': meminfo,
		'/proc/self/mountinfo': mountinfo,
	};
	const read = (f: string) => files[f] ?? null;
	const v1Only = '4:memory:/a/b\n0::/\n';
	assert.is(cgroupHeadroom(mountinfo, v1Only, read), (1 << 30) - (256 << 20), 'v1: the limited child');
	const both = '4:memory:/a\n0::/p/q\n';
	assert.is(cgroupHeadroom(mountinfo, both, read), 384 << 20, 'v2: the parent holds the limit');
	assert.is(cgroupHeadroom(mountinfo, '4:memory:/a\n', read), null, 'v1 unlimited and no v2 membership: no cgroup bound');
	files['/proc/self/cgroup'] = v1Only;
	const budget = memoryBudget(read);
	const headroom = (1 << 30) - (256 << 20);
	assert.is(budget.bytes, Math.min((2 * 2 ** 30) - margin(2 * 2 ** 30), headroom - margin(headroom)));
	assert.is(budget.bytes, headroom - margin(headroom));
});

test('the bandwidth cap makes callers wait for the bytes they take beyond one second\'s burst', async () => {
	let now = 0;
	const slept: number[] = [];
	// Sleeping only records the wait; the test moves the clock itself.
	const clock: Clock = { now: () => now, sleep: async (ms) => void slept.push(ms) };
	const bucket = new TokenBucket(1_000_000, clock); // 1 MB/s, a full bucket holds 1 MB
	await bucket.take(1_000_000);
	assert.equal(slept, [], 'the first second\'s worth passes at once');
	await bucket.take(500_000);
	assert.equal(slept, [500], '0.5 MB beyond the burst waits 0.5 s');
	now = 750; // 750 ms refilled 0.75 MB: 0.25 MB left after paying the 0.5 MB debt
	await bucket.take(500_000);
	assert.equal(slept, [500, 250]);
	now = 1000;
	// Concurrent takers queue behind each other's debt.
	await Promise.all([bucket.take(1_000_000), bucket.take(1_000_000)]);
	assert.equal(slept.slice(2), [1000, 2000]);
});

test('the real clock\'s sleeps leave no abort listener behind, and an abort ends a sleep at once', async () => {
	const warnings: Error[] = [];
	const onWarning = (w: Error): void => void warnings.push(w);
	process.on('warning', onWarning);
	try {
		const controller = new AbortController();
		const bucket = new TokenBucket(1_000_000); // the first 1 MB passes, every further 1 kB waits 1 ms
		await bucket.take(1_000_000, controller.signal);
		for (let i = 0; i < 20; i++) await bucket.take(1000, controller.signal);
		assert.is(getEventListeners(controller.signal, 'abort').length, 0, 'listeners left on the signal after 20 sleeps');
		const long = realClock.sleep(60_000, controller.signal);
		assert.is(getEventListeners(controller.signal, 'abort').length, 1, 'a pending sleep listens');
		controller.abort('stop');
		await long; // resolves (does not reject, does not wait a minute)
		assert.is(getEventListeners(controller.signal, 'abort').length, 0);
		await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
		assert.equal(warnings.map((w) => w.name), [], 'no MaxListenersExceededWarning');
	} finally {
		process.off('warning', onWarning);
	}
});

test.run();
