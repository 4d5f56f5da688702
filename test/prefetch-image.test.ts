// Hostile and corrupt images through the real prefetcher entry (the program the action script
// starts): each is refused with a clear reason in the record and in the status line that post-resume
// prints into CRIU's log, and nothing is fetched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeImage, HEADER_BYTES, Hotness, MAGIC } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { diskTempDir, evict, hot, image, imageFile, writeFile } from './prefetch-support.js';

const run = promisify(execFile);
const base = diskTempDir('image');
const data = path.join(base, 'data');
writeFile(data, 8 * 4096);
const valid = encodeImage(image([imageFile(data, data, [hot(0, 8)])]));

interface Outcome {
	status: string;
	events: { kind: string; reason?: string; path?: string; root?: string; fetched?: number }[];
}

async function prefetcher(name: string, img: Uint8Array, initPid?: number): Promise<Outcome> {
	const state = path.join(base, name);
	const dir = path.join(state, 'restores', '1.1');
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'hotcache.img'), img);
	if (initPid !== undefined) writeFileSync(path.join(dir, 'init-pid'), `${initPid}\n`);
	await run(process.execPath, [path.join(projectRoot, 'dist/hooks/prefetcher.js'), dir], { env: { ...process.env, HOTCACHE_STATE_DIR: state, HOTCACHE_RECORD: '' }, timeout: 30_000 });
	return {
		status: readFileSync(path.join(dir, 'status'), 'utf8').trim(),
		events: readFileSync(path.join(dir, 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Outcome['events'][number]),
	};
}

function withLength(length: number): Buffer {
	const buf = Buffer.from(valid);
	buf.writeUInt32LE(length, MAGIC.length);
	return buf;
}

const hostile: [string, () => Uint8Array, RegExp][] = [
	['truncated header', () => valid.subarray(0, 6), /image refused, truncated/],
	['truncated payload', () => valid.subarray(0, valid.length - 3), /image refused, truncated: image payload is/],
	['bad magic', () => Buffer.concat([Buffer.from('NOTCACHE'), valid.subarray(8)]), /image refused, bad-magic/],
	['a huge length field', () => withLength(0xffffffff), /image refused, too-large/],
	['garbage payload', () => Buffer.concat([valid.subarray(0, HEADER_BYTES), Buffer.alloc(valid.length - HEADER_BYTES, 0xff)]), /image refused, malformed/],
	['a range past the end of the file', () => encodeImage(image([imageFile(data, data, [hot(4, 5)])])), /range 0 ends at page 9, past the file's 8 pages/],
	['a huge range length', () => encodeImage(image([imageFile(data, data, [hot(0, 2 ** 45)])])), /range length \d+ is out of range/],
	['a path with ".."', () => encodeImage(image([imageFile(data, '/var/tmp/../etc/shadow', [hot(0, 1)])])), /contains '\.\.'/],
	['a relative path', () => encodeImage(image([imageFile(data, 'etc/passwd', [hot(0, 1)])])), /is not absolute/],
];

for (const [name, make, reason] of hostile) {
	test(`an image with ${name} is refused with a reason`, async () => {
		const out = await prefetcher(name.replace(/\W+/g, '-'), make());
		const refused = out.events.find((e) => e.kind === 'refused');
		assert.ok(refused, `no refusal recorded: ${JSON.stringify(out.events)}`);
		assert.match(refused!.reason!, reason);
		assert.match(out.status, /^hotcache: nothing prefetched: image refused/);
		assert.not.ok(out.events.some((e) => e.kind === 'chunk'), 'nothing is fetched');
	});
}

test('files that cannot be used are skipped one by one with their reason; the rest is fetched', async () => {
	const fifo = path.join(base, 'fifo');
	await run('mkfifo', [fifo]);
	const img = encodeImage(image([
		{ ...imageFile(data, fifo, [hot(0, 1)]) },
		imageFile(data, path.join(base, 'missing'), [hot(0, 1)]),
		{ ...imageFile(data, data, [hot(0, 8)]), identity: { ...imageFile(data, data, []).identity, size: 4096 }, sizePages: 1, ranges: [hot(0, 1)] },
		imageFile(data, data, [hot(0, 8)]),
	]));
	const out = await prefetcher('skips', img);
	const skips = out.events.filter((e) => e.kind === 'skip').map((e) => `${e.path}: ${e.reason}`);
	assert.is(skips.length, 3, skips.join('\n'));
	assert.match(skips[0]!, /is a FIFO, not a regular file/);
	assert.match(skips[1]!, /not found in the root \(ENOENT from openat2\)/);
	assert.match(skips[2]!, /size changed: captured 4096 bytes, now 32768/);
	assert.match(out.status, /^hotcache: prefetch done: .* of 8 asked; .* 1 files, 3 skipped$/);
});

test('a file with nothing to fetch is never opened', async () => {
	const other = path.join(base, 'unfetched');
	writeFile(other, 4096);
	// Only resident pages, from a backend that tells hot from warm: nothing of it is fetched.
	const out = await prefetcher('nothing-to-fetch', encodeImage(image([imageFile(other, other, [{ start: 0, count: 1, hotness: Hotness.Resident }]), imageFile(other, other, []), imageFile(data, data, [hot(0, 8)])])));
	assert.equal(out.events.filter((e) => e.path === other), [], 'neither opened nor skipped');
	assert.match(out.status, /^hotcache: prefetch done: .* of 8 asked; .* 1 files, 0 skipped$/);
});

// Past 4,000,000 components, files are skipped: here 2,100 paths of about 2,000 "." each, which
// the kernel walks one by one (different paddings: not the same path 2,100 times).
test('path lookups are bounded per image: the files past the budget are skipped with the reason', async () => {
	const padded = (i: number): string => '/' + './'.repeat(1990 + (i % 20)) + data.slice(1);
	const files = Array.from({ length: 2100 }, (_, i) => imageFile(data, padded(i), [hot(0, 8)]));
	const out = await prefetcher('lookup-budget', encodeImage(image(files)));
	const skips = out.events.filter((e) => e.kind === 'skip');
	const opened = out.events.filter((e) => e.kind === 'file');
	assert.ok(opened.length >= 1900 && opened.length < 2100, `${opened.length} opened`);
	assert.is(skips.length, 2100 - opened.length);
	assert.ok(skips.every((e) => /path components one image may look up/.test(e.reason ?? '')), JSON.stringify(skips[0]));
});

test('the record and the status are never written through a symlink', async () => {
	const state = path.join(base, 'symlinked');
	const dir = path.join(state, 'restores', '1.1');
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'hotcache.img'), valid);
	const victim = path.join(base, 'victim');
	writeFileSync(victim, 'untouched\n');
	symlinkSync(victim, path.join(dir, 'record.jsonl'));
	const failed = await run(process.execPath, [path.join(projectRoot, 'dist/hooks/prefetcher.js'), dir], { env: { ...process.env, HOTCACHE_STATE_DIR: state, HOTCACHE_RECORD: '' }, timeout: 30_000 }).then(() => false, () => true);
	assert.ok(failed, 'the prefetcher exits 1');
	assert.is(readFileSync(victim, 'utf8'), 'untouched\n');
	assert.match(readFileSync(path.join(dir, 'status'), 'utf8'), /^hotcache: nothing prefetched: ELOOP/);
	rmSync(path.join(dir, 'status'));
	symlinkSync(victim, path.join(dir, 'status'));
	rmSync(path.join(dir, 'record.jsonl'));
	rmSync(path.join(dir, 'prefetcher.pid'));
	await run(process.execPath, [path.join(projectRoot, 'dist/hooks/prefetcher.js'), dir], { env: { ...process.env, HOTCACHE_STATE_DIR: state, HOTCACHE_RECORD: '' }, timeout: 30_000 });
	assert.is(readFileSync(victim, 'utf8'), 'untouched\n', 'the status replaces the link, not its target');
	assert.match(readFileSync(path.join(dir, 'status'), 'utf8'), /^hotcache: prefetch done/);
});

test('SIGTERM stops the prefetcher cleanly, even while it waits for the bandwidth cap', async () => {
	const big = path.join(base, 'big');
	writeFile(big, 32 << 20);
	await evict(big);
	const state = path.join(base, 'sigterm');
	const dir = path.join(state, 'restores', '1.1');
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'hotcache.img'), encodeImage(image([imageFile(big, big, [hot(0, (32 << 20) / 4096)])])));
	// 1 MB/s: the first chunk's debt alone would take seconds.
	const child = spawn(process.execPath, [path.join(projectRoot, 'dist/hooks/prefetcher.js'), dir], { env: { ...process.env, HOTCACHE_STATE_DIR: state, HOTCACHE_RECORD: '', HOTCACHE_BANDWIDTH: '1' }, stdio: 'ignore' });
	const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
	const status = path.join(dir, 'status');
	for (let i = 0; i < 200 && !(existsSync(status) && /in progress/.test(readFileSync(status, 'utf8'))); i++) await new Promise((r) => setTimeout(r, 25));
	child.kill('SIGTERM');
	assert.is(await exited, 0);
	assert.match(readFileSync(status, 'utf8'), /^hotcache: prefetch stopped \(SIGTERM\)/);
	const lines = readFileSync(path.join(dir, 'record.jsonl'), 'utf8').trim().split('\n');
	const summary = JSON.parse(lines[lines.length - 1]!) as { kind: string; stopped: string; fetched: number; pagesAsked: number };
	assert.is(summary.kind, 'summary');
	assert.is(summary.stopped, 'SIGTERM');
	assert.ok(summary.fetched < summary.pagesAsked, 'stopped before the end');
});

test('a capture with its own root resolves paths under /proc/<restored init pid>/root', async () => {
	// This process stands in for the restored init: its root is the host's, so the data file is found.
	const out = await prefetcher('own-root', encodeImage(image([imageFile(data, data, [hot(0, 8)])], true)), process.pid);
	const start = out.events.find((e) => e.kind === 'start');
	assert.is(start?.root, `/proc/${process.pid}/root`);
	assert.ok(out.events.some((e) => e.kind === 'file' && e.path === data), JSON.stringify(out.events));
	assert.match(out.status, /^hotcache: prefetch done: .* of 8 asked/);
});

test.run();
