// Planning, ordering, request making and budgets of the prefetch engine: pure functions, exact answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hotSpans, Plan, plannedPages, type CostView, type Pace, type PlanFile, type Request } from '../hooks/plan.js';
import { getEventListeners } from 'node:events';
import { majorMinor, nfsReadSize } from '../hooks/readahead-cap.js';
import { realClock, TokenBucket, type Clock } from '../hooks/token-bucket.js';
import { cgroupHeadroom, margin, memAvailable, memoryBudget } from '../hooks/memory-budget.js';
import { hot, ones, residentOnly, warm } from './support.js';

const opts = { resumePages: 4, includeResident: false };
/** A 117 MB/s link whose request costs 0.25 ms: reading through a gap of up to 7 pages is cheaper. */
const link: CostView = { bandwidth: 117e6, requestCost: 250e-6, pageSize: 4096 };
const front: Pace = { gapPages: 0, chunkPages: Infinity, fromBack: false, lowValue: true };

const file = (ranges: PlanFile['ranges'], fdPages: number[] = [], capPages = 1000, mapped = false): PlanFile => ({ ranges, fdPages, capPages, mapped });

/** Every request until the plan is done (or says 'wait'), with `pace` for each. */
function drain(plan: Plan, pace: Pace | ((i: number) => Pace) = front, cost: CostView = link): Request[] {
	const out: Request[] = [];
	for (let i = 0; ; i++) {
		const next = plan.next(typeof pace === 'function' ? pace(i) : pace, cost);
		if (next === null || next === 'wait') return out;
		out.push(next);
	}
}

const brief = (rs: Request[]) => rs.map((r) => [r.phase, r.file, r.start, r.count]);

function covered(rs: Request[], f: number): number[] {
	const pages: number[] = [];
	for (const r of rs) if (r.file === f) for (let p = r.start; p < r.start + r.count; p++) pages.push(p);
	return pages.sort((a, b) => a - b);
}

test('hot pages come before warm ones, resident-only pages are left out', () => {
	const rs = drain(new Plan([file([warm(0, 10), hot(20, 10), residentOnly(40, 5)])], opts));
	assert.equal(brief(rs), [['hot', 0, 20, 10], ['warm', 0, 0, 10]]);
});

test('resident-only pages are fetched last when asked for', () => {
	const rs = drain(new Plan([file([residentOnly(0, 30), hot(50, 20), warm(90, 30)])], { ...opts, includeResident: true }));
	assert.equal(rs.map((r) => r.phase), ['hot', 'warm', 'resident']);
});

test('the window after every fd offset goes first, round robin over the fds, then the rest in the process\'s order', () => {
	const files = [file([hot(0, 100)], [50], 2), file([hot(0, 10), warm(10, 10)], [3, 8], 100)];
	const rs = drain(new Plan(files, opts));
	const resume = rs.filter((r) => r.phase === 'resume');
	// File 0's window 50-53 in chunks of 2; file 1's windows 3-6 and 8-11 (warm 10-11 included).
	assert.equal(resume.map((r) => [r.file, r.start, r.count]), [[0, 50, 2], [1, 3, 4], [1, 8, 4], [0, 52, 2]]);
	const rest0 = rs.filter((r) => r.phase !== 'resume' && r.file === 0);
	assert.is(rest0[0]!.start, 54, 'file 0 goes on after its window');
	assert.is(rest0[rest0.length - 1]!.start + rest0[rest0.length - 1]!.count, 50, 'and wraps to the pages before its offset');
	assert.equal(covered(rs, 0), Array.from({ length: 100 }, (_, i) => i), 'every page of file 0 once');
	assert.equal(covered(rs, 1), Array.from({ length: 20 }, (_, i) => i), 'every page of file 1 once');
});

test('gaps shorter than the pace\'s are read through; longer ones start a new request; no request passes the cap', () => {
	const f = file([hot(0, 4), hot(7, 2), warm(10, 1), hot(20, 3), hot(24, 100)], [], 50);
	const rs = drain(new Plan([f], { ...opts, resumePages: 0 }), { ...front, gapPages: 3 });
	// 0-3, gap of 3, 7-8, gap of 1, 10 (warm), gap of 9: break. 20-22, gap 1, 24-123 cut at the cap of 50.
	assert.equal(rs.map((r) => [r.start, r.count, r.hot, r.warm]).sort((a, b) => a[0]! - b[0]!), [[0, 11, 6, 1], [20, 50, 49, 0], [70, 50, 50, 0], [120, 4, 4, 0]]);
	for (const r of rs) assert.ok(r.count <= 50);
});

test('when the cost model later finds requests dearer, requests read through the larger gaps across the runs ranked before', () => {
	const ranges = Array.from({ length: 40 }, (_, i) => hot(i * 4, 2)); // gaps of 2 pages
	const plan = new Plan([file(ranges, [], 64)], { ...opts, resumePages: 0 });
	const first = plan.next({ ...front, gapPages: 0 }, link) as Request; // ranked with a gap of 0: 40 runs
	assert.equal([first.start, first.count], [0, 2]);
	const rest = drain(plan, { ...front, gapPages: 2 });
	// Each as long as the cap allows (64 pages: 62 end on a range), gaps of 2 read through.
	assert.equal(rest.map((r) => [r.start, r.count, r.hot]), [[4, 62, 32], [68, 62, 32], [132, 26, 14]]);
});

test('dense regions come before sparse ones, wherever they are', () => {
	const sparse = Array.from({ length: 50 }, (_, i) => hot(i * 20, 1)); // one hot page in 20, pages 0-980
	const f = file([...sparse, hot(5000, 512)], [], 64);
	const rs = drain(new Plan([f], { ...opts, resumePages: 0 }), { ...front, gapPages: 7 });
	assert.is(rs[0]!.start, 5000, 'the dense run first');
	assert.ok(rs.slice(0, 8).every((r) => r.start >= 5000 && r.count === 64), 'in cap-sized requests');
	assert.is(rs.length, 8 + 50, 'then each isolated page is its own request');
});

test('isolated warm pages cost a request each: last, and only with spare capacity', () => {
	const f = file([warm(0, 1), warm(100, 1), hot(200, 4), warm(300, 200)], [], 1000);
	const plan = new Plan([f], { ...opts, resumePages: 0 });
	const first = drain(plan, { ...front, lowValue: false });
	assert.equal(first.map((r) => [r.phase, r.start]), [['hot', 200], ['warm', 300]], 'the hot pages, then the dense warm run');
	assert.is(plan.next({ ...front, lowValue: false }, link), 'wait', 'the isolated warm pages wait for spare capacity');
	assert.equal(drain(plan).map((r) => [r.start, r.count]), [[0, 1], [100, 1]]);
});

test('a mapped file\'s hot pages come first (its pages are touched by faults)', () => {
	const rs = drain(new Plan([file([hot(0, 100)]), file([hot(0, 10)], [], 1000, true)], { ...opts, resumePages: 0 }));
	assert.equal(rs.map((r) => r.file), [1, 0]);
});

test('while the process reads, the part of the file it reaches last comes first: from its offset backwards', () => {
	const f = file([hot(0, 1000)], [400], 100);
	const back: Pace = { ...front, fromBack: true, chunkPages: 100 };
	const rs = drain(new Plan([f], { ...opts, resumePages: 50 }), back);
	// The process reads 400 onwards, then wraps: 399 is the last page it reaches. Its window (400-449) waits until the end.
	assert.equal(rs.slice(0, 4).map((r) => [r.start, r.count]), [[300, 100], [200, 100], [100, 100], [0, 100]]);
	assert.equal(rs[rs.length - 1]!.phase, 'resume');
	assert.equal(covered(rs, 0), Array.from({ length: 1000 }, (_, i) => i), 'every page once');
});

test('front and back meet inside a run without a page twice, whatever the alternation', () => {
	const ranges = Array.from({ length: 300 }, (_, i) => (i % 3 === 2 ? warm(i * 5, 3) : hot(i * 5, 3)));
	const f = file(ranges, [700], 16);
	const rs = drain(new Plan([f], { ...opts, resumePages: 40 }), (i) => ({ gapPages: 2, chunkPages: 16, fromBack: i % 3 === 1, lowValue: true }));
	const pages = covered(rs, 0);
	assert.is(new Set(pages).size, pages.length, 'no page twice');
	const planned = ranges.flatMap((r) => [r.start, r.start + 1, r.start + 2]);
	assert.ok(planned.every((p) => pages.includes(p)), 'every planned page');
});

test('a dropped file gives no more requests', () => {
	const plan = new Plan([file([hot(0, 100)], [0], 10), file([hot(0, 100)], [], 10)], opts);
	plan.next(front, link);
	plan.drop(0);
	assert.ok(drain(plan).every((r) => r.file === 1));
});

test('a large plan (400k one-page hot spans, 512 fds, some sharing an offset) keeps its invariants', () => {
	const SPANS = 400_000;
	const FDS = 512;
	const CAP = 32;
	const ranges = Array.from({ length: SPANS }, (_, i) => hot(2 * i, 1));
	// Spread over the file, every fourth one on the same page as the previous.
	const fdPages = [...new Set(Array.from({ length: FDS }, (_, i) => Math.floor(((i - (i % 4 === 3 ? 1 : 0)) * 2 * SPANS) / FDS)))];
	const files = [file(ranges, fdPages, CAP), file([hot(0, 10_000), warm(10_000, 50)], [9_990], CAP)];
	const rs = drain(new Plan(files, { resumePages: 256, includeResident: false }), { ...front, gapPages: 1 });
	const seen = new Uint8Array(2 * SPANS);
	let mainStarted = false;
	for (const r of rs) {
		assert.ok(r.count >= 1 && r.count <= CAP, `request ${JSON.stringify(r)} above the cap`);
		if (r.phase !== 'resume') mainStarted = true;
		else assert.not.ok(mainStarted, 'every resume request before the others');
		if (r.file !== 0) continue;
		for (let p = r.start; p < r.start + r.count; p++) {
			if (p % 2 === 1) continue; // a gap page read through
			assert.is(seen[p], 0, `page ${p} planned twice`);
			seen[p] = 1;
		}
	}
	assert.is(ones(seen), SPANS, 'every hot page of file 0 exactly once');
	assert.is(rs.reduce((n, r) => n + r.hot + r.warm, 0), SPANS + 10_050);
});

test('a plan of 2^40 pages makes only the requests asked for', () => {
	// A few bytes of image can describe this; its 2^35 requests would not fit in any heap.
	const plan = new Plan([file([hot(0, 2 ** 40)], [2 ** 39], 32)], opts);
	const first = plan.next(front, link) as Request;
	assert.equal([first.phase, first.start, first.count], ['resume', 2 ** 39, 4], 'the resumed reader first');
	let pages = first.count;
	for (let i = 0; i < 31; i++) pages += (plan.next(front, link) as Request).count;
	assert.is(pages, 4 + 31 * 32);
	assert.is(plannedPages([file([hot(0, 2 ** 40)], [2 ** 39], 32)], opts), 2 ** 40);
});

test('the hot spans of a request, for the second read', () => {
	const f = file([hot(0, 4), warm(4, 4), hot(10, 10), residentOnly(20, 5), hot(30, 2)]);
	assert.equal([...hotSpans(f, 2, 30)], [[2, 2], [10, 10], [30, 2]]);
	assert.equal([...hotSpans(f, 21, 5)], []);
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
