// What keeps a hostile image from costing the restore side memory, disk or the host's whole budget:
// entries naming one file collapse before planning, the record names each path once and stops at its
// cap, the caps bound requests as well as bytes, concurrent prefetchers share one memory budget.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { claimBudget } from '../hooks/budget-ledger.js';
import { canonicalPath, collapseByPath, unionRanges } from '../hooks/collapse.js';
import { Plan, type Request } from '../hooks/plan.js';
import { ChunkPaths, Recorder } from '../hooks/record.js';
import { TokenBucket, type Clock } from '../hooks/token-bucket.js';
import { REQUEST_CHARGE_BYTES } from '../hooks/engine.js';
import { Hotness } from '../proto/image.js';
import { hot, imageFile, residentOnly, scratchDir, warm, writeFile } from './support.js';

const base = scratchDir('bounds').dir;

test('paths in canonical form: empty and "." components go, ".." and relative paths are refused', () => {
	assert.is(canonicalPath('/a//b/./c/'), '/a/b/c');
	assert.is(canonicalPath(`/data${'/.'.repeat(1000)}/file`), '/data/file');
	assert.is(canonicalPath('/'), '/');
	assert.is(canonicalPath('/a/../b'), null);
	assert.is(canonicalPath('a/b'), null);
});

test('the union of range lists keeps every page once, with the hottest class given to it', () => {
	const u = unionRanges([
		[warm(0, 10), residentOnly(20, 10)],
		[hot(5, 10), warm(22, 2)],
		[residentOnly(0, 40)],
	]);
	assert.equal(u, [warm(0, 5), hot(5, 10), residentOnly(15, 7), warm(22, 2), residentOnly(24, 16)]);
	assert.equal(unionRanges([[hot(0, 3), warm(3, 2)]]), [hot(0, 3), warm(3, 2)]);
});

test('19,000 entries x 52 fds naming one file (padded paths) collapse to one file with 52 offsets, planned lazily', () => {
	const data = path.join(base, 'one');
	writeFile(data, 4096 * 64);
	const entry = imageFile(data, data, [hot(0, 64)], Array.from({ length: 52 }, (_, i) => i * 4096));
	const files = Array.from({ length: 19_000 }, (_, i) => ({ ...entry, path: `${path.dirname(data)}${'/.'.repeat(i % 50)}//${path.basename(data)}` }));
	const c = collapseByPath(files);
	assert.is(c.files.length, 1);
	assert.is(c.entries[0], 19_000);
	assert.is(c.files[0]!.path, data);
	assert.is(c.files[0]!.fds.length, 52, 'one fd per distinct offset');
	assert.equal(c.files[0]!.ranges, [{ start: 0, count: 64, hotness: Hotness.Hot }]);
	// On tmpfs (128 KiB cap: 32 pages) with 8 MiB windows: requests are made one at a time, as asked.
	const plan = new Plan([{ ranges: c.files[0]!.ranges, fdPages: c.files[0]!.fds.map((f) => f.offset / 4096), capPages: 32, mapped: false }], { resumePages: 2048, includeResident: false });
	const pace = { gapPages: 0, chunkPages: Infinity, fromBack: false, lowValue: true };
	const rs: Request[] = [];
	for (let next = plan.next(pace, { bandwidth: 1e8, requestCost: 1e-4, pageSize: 4096 }); next && next !== 'wait'; next = plan.next(pace, { bandwidth: 1e8, requestCost: 1e-4, pageSize: 4096 })) rs.push(next);
	assert.is(rs.reduce((n, r) => n + r.count, 0), 64, 'each page once, however many windows cover it');
});

test('one path with other identities: each identity is checked when opened, past four they are left out', () => {
	const a = imageFile(path.join(base, 'one'), '/x/f', [hot(0, 1)]);
	const other = (size: number) => ({ ...a, identity: { ...a.identity, size } });
	const c = collapseByPath([a, other(1), { ...a, path: '/x/./f' }, other(2), other(3), other(4), other(5)]);
	assert.equal(c.files.map((f) => [f.path, f.identity.size]), [['/x/f', a.identity.size], ['/x/f', 1], ['/x/f', 2], ['/x/f', 3]]);
	assert.equal(c.entries, [2, 1, 1, 1]);
	assert.equal(c.conflicts.map((x) => x.path), ['/x/f', '/x/f']);
	assert.match(c.conflicts[0]!.reason, /more than 4 entries name this path/);
});

test('the record stops at its cap: per-file and per-request events are dropped and counted, the run\'s own events stay', () => {
	const file = path.join(base, 'record.jsonl');
	const rec = new Recorder([file], null, 4000);
	rec.event({ kind: 'start', pid: 1, image: 'i', root: '/', workers: 1, bandwidth: 0, iops: 0, activate: true, fuse: true, stallSeconds: 5, pageSize: 4096 });
	for (let i = 0; i < 1000; i++) rec.event({ kind: 'chunk', seq: i, file: 0, start: i, count: 1, phase: 'hot', resident: 0, fetched: 1, ms: 1 });
	rec.event({ kind: 'summary', pagesAsked: 1, alreadyResident: 0, fetched: 1, missing: 0, bytesRead: 1, seconds: 1, throughput: 1, stopped: null, filesPlanned: 1, filesSkipped: 0, leftOutPages: 0, stuck: 0, dropped: rec.droppedEvents });
	rec.close();
	const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; dropped?: number });
	assert.ok(statSync(file).size < 4000 + 1000, `${statSync(file).size} bytes`);
	assert.is(lines.filter((l) => l.kind === 'truncated').length, 1);
	assert.is(lines[lines.length - 1]!.kind, 'summary');
	const chunks = lines.filter((l) => l.kind === 'chunk').length;
	assert.is(lines[lines.length - 1]!.dropped, 1000 - chunks);
});

test('a record\'s requests name their file by index: ChunkPaths follows the file events, run by run', () => {
	const paths = new ChunkPaths();
	const names = [
		{ kind: 'start' },
		{ kind: 'file', file: 0, path: '/a' },
		{ kind: 'file', file: 1, path: '/b' },
		{ kind: 'chunk', file: 1 },
		{ kind: 'chunk', file: 0 },
		{ kind: 'start' }, // a second run in the same record numbers its files again
		{ kind: 'file', file: 0, path: '/c' },
		{ kind: 'chunk', file: 0 },
		{ kind: 'chunk', file: 1 },
	].map((e) => paths.see(e));
	assert.equal(names, [undefined, undefined, undefined, '/b', '/a', undefined, undefined, '/c', undefined]);
});

test('the bandwidth cap bounds requests too: each costs at least 64 KiB of it; the IOPS cap counts requests', async () => {
	let now = 0;
	const slept: number[] = [];
	const clock: Clock = { now: () => now, sleep: async (ms) => void slept.push(ms) };
	const bytes = new TokenBucket(10 * REQUEST_CHARGE_BYTES, clock); // ten requests' worth per second
	for (let i = 0; i < 20; i++) await bytes.take(Math.max(4096, REQUEST_CHARGE_BYTES));
	assert.is(slept.length, 10, 'a second\'s worth of 4 KiB reads passes, the next ten wait');
	assert.is(Math.round(slept[slept.length - 1]!), 1000, 'twenty 4 KiB reads take two seconds at ten a second');
	const iops = new TokenBucket(100, clock);
	slept.length = 0;
	for (let i = 0; i < 150; i++) await iops.take(1);
	assert.is(Math.round(slept[slept.length - 1]!), 500, '150 requests at 100 per second: the last waits 0.5 s');
});

/** A live process whose claim stands for another prefetcher. */
function otherPrefetcher(): Promise<{ pid: number; stop: () => void }> {
	const child = spawn('sleep', ['60'], { stdio: 'ignore' });
	return new Promise((resolve) => child.once('spawn', () => resolve({ pid: child.pid!, stop: () => child.kill('SIGKILL') })));
}

function startTimeOf(pid: number): string {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

test('concurrent prefetchers share one memory budget; a gone prefetcher\'s claim is removed', async () => {
	const dir = path.join(base, 'budget');
	const other = await otherPrefetcher();
	try {
		mkdirSync(dir, { mode: 0o700 });
		writeFileSync(path.join(dir, `${other.pid}.${startTimeOf(other.pid)}`), `${600e6}\n`);
		writeFileSync(path.join(dir, '999999999.1'), `${900e6}\n`); // no such process
		const claim = claimBudget(dir, 1000e6, 800e6);
		assert.is(claim.bytes, 400e6, 'what the other prefetcher claims is left to it');
		assert.is(claim.others, 1);
		assert.equal(readdirSync(dir).sort(), [`${other.pid}.${startTimeOf(other.pid)}`, `${process.pid}.${startTimeOf(process.pid)}`].sort());
		assert.is(Number(readFileSync(path.join(dir, `${process.pid}.${startTimeOf(process.pid)}`), 'utf8')), 400e6, 'the claim says what was granted');
		claim.release();
		assert.equal(readdirSync(dir), [`${other.pid}.${startTimeOf(other.pid)}`]);
	} finally {
		other.stop();
	}
});

test('a ledger directory that is a symlink or open to others is refused', () => {
	const target = path.join(base, 'elsewhere');
	mkdirSync(target);
	symlinkSync(target, path.join(base, 'linked'));
	assert.throws(() => claimBudget(path.join(base, 'linked'), 1e9, 1e6), /not a directory/);
	const open = path.join(base, 'open');
	mkdirSync(open);
	chmodSync(open, 0o777);
	assert.throws(() => claimBudget(open, 1e9, 1e6), /writable by others/);
});

test.run();
