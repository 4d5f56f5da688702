// Hostile and corrupt images through the real prefetcher entry (the program the action script
// starts): each is refused with a clear reason in the record and in the status line that post-resume
// prints into CRIU's log, and nothing is fetched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeImage, HEADER_BYTES, Hotness, MAGIC } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { scratchDir, evict, hot, image, imageFile, testUnless, writeFile } from './support.js';

const run = promisify(execFile);
const base = scratchDir('image').dir;
const data = path.join(base, 'data');
writeFile(data, 8 * 4096);
const valid = encodeImage(image([imageFile(data, data, [hot(0, 8)])]));

interface Outcome {
	status: string;
	events: { kind: string; reason?: string; path?: string; root?: string; fetched?: number; pid?: number; ours?: boolean }[];
}

/** "PID START" of a process, as the action script writes init-pid. */
function identity(pid: number): string {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}\n`;
}

/**
 * Runs the prefetcher on `img` in a restore directory whose criu is gone; `initPid` is what init-pid
 * holds (by default this process, standing in for a restored init: its root is the prefetcher's).
 */
async function prefetcher(name: string, img: Uint8Array, initPid: string | null = identity(process.pid)): Promise<Outcome> {
	const state = path.join(base, name);
	const dir = path.join(state, 'restores', '1.1');
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'hotcache.img'), img);
	if (initPid !== null) writeFileSync(path.join(dir, 'init-pid'), initPid);
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

// The status is printed into CRIU's log by post-resume: what it quotes of the image is escaped.
test('a refusal that quotes the image is escaped in the status', async () => {
	const out = await prefetcher('escaped', encodeImage(image([imageFile(data, 'x\x9b2J\u2028\x1b[1A', [hot(0, 1)])])));
	assert.is(out.status, 'hotcache: nothing prefetched: image refused, invalid: path "x\\x9b2J\\u2028\\\\u001b[1A" is not absolute (file "x\\x9b2J\\u2028\\\\u001b[1A")');
});

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
	// 2,100 files 1,990 directories deep: 4.2 million components, past the 4 million an image may look
	// up. (Padding one name with "/./" costs no lookups: names are compared and opened in canonical
	// form, test/prefetch-bounds.test.ts.)
	const deep = path.join(base, 'deep', ...Array<string>(1990).fill('d'));
	mkdirSync(deep, { recursive: true });
	const files = Array.from({ length: 2100 }, (_, i) => {
		const file = path.join(deep, `f${i}`);
		writeFileSync(file, Buffer.alloc(4096, 1));
		return imageFile(file, file, [hot(0, 1)]);
	});
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
	writeFileSync(path.join(dir, 'init-pid'), identity(process.pid));
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
	writeFileSync(path.join(dir, 'init-pid'), identity(process.pid));
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

test('paths are resolved in the root of the restored init: the same as host paths when it is ours', async () => {
	const out = await prefetcher('own-root', encodeImage(image([imageFile(data, data, [hot(0, 8)])], true)));
	const start = out.events.find((e) => e.kind === 'start');
	assert.is(start?.root, `/proc/${process.pid}/root`);
	assert.equal(rootOf(out), { pid: process.pid, path: `/proc/${process.pid}/root`, ours: true });
	assert.ok(out.events.some((e) => e.kind === 'file' && e.path === data), JSON.stringify(out.events));
	assert.match(out.status, /^hotcache: prefetch done: .* of 8 asked/);
});

function rootOf(out: Outcome): { pid?: number; path?: string; ours?: boolean } {
	const root = out.events.find((e) => e.kind === 'root');
	return { pid: root?.pid, path: root?.path, ours: root?.ours };
}

/** A process whose root is `dir` (python, loaded before its chroot), until the returned function ends it. */
async function chrooted(dir: string): Promise<{ pid: number; end: () => Promise<void> }> {
	const child = spawn('python3', ['-c', "import os,sys,time; os.chroot(sys.argv[1]); os.chdir('/'); print('ready', flush=True); time.sleep(60)", dir], { stdio: ['ignore', 'pipe', 'inherit'] });
	await new Promise<void>((resolve, reject) => {
		child.stdout.once('data', () => resolve());
		child.once('exit', (code) => reject(new Error(`the chrooted process exited (${code})`)));
	});
	return { pid: child.pid!, end: async () => void (child.kill(), await once(child, 'exit')) };
}

// The image used to decide: own_root = false made the prefetcher read host paths whenever no --root
// was found on criu's command line (always, in RPC mode): a host file was read, /etc/shadow opened.
testUnless(process.getuid?.() === 0 ? null : 'chroot needs root', test, 'an image cannot make the prefetcher read host files: own_root = false still resolves in the restored root', async () => {
	const root = path.join(base, 'chroot');
	mkdirSync(path.join(root, 'data'), { recursive: true });
	const inRoot = path.join(root, 'data/file');
	writeFile(inRoot, 8 * 4096);
	const init = await chrooted(root);
	try {
		// /etc/shadow with another size: had it been opened, its real size would be in the record.
		const shadow = imageFile('/etc/shadow', '/etc/shadow', []);
		const size = shadow.identity.size + 4096;
		const img = image([imageFile(data, data, [hot(0, 8)]), { ...shadow, identity: { ...shadow.identity, size }, sizePages: Math.ceil(size / 4096), ranges: [hot(0, 1)] }, imageFile(inRoot, '/data/file', [hot(0, 8)])], false);
		const out = await prefetcher('not-host', encodeImage(img), identity(init.pid));
		assert.equal(rootOf(out), { pid: init.pid, path: `/proc/${init.pid}/root`, ours: false }, out.status);
		const skips = Object.fromEntries(out.events.filter((e) => e.kind === 'skip').map((e) => [e.path, e.reason]));
		assert.match(skips[data] ?? '', /^not found in the root/, 'the host file is not read');
		assert.match(skips['/etc/shadow'] ?? '', /^not found in the root/, "the host's /etc/shadow is not even looked at");
		assert.ok(out.events.some((e) => e.kind === 'file' && e.path === '/data/file'), 'the file in the restored root is');
	} finally {
		await init.end();
	}
});

// With --root on criu's command line the paths were resolved from the caller's mount namespace, where
// a volume mounted inside the restored one is not visible: its files were skipped.
testUnless(process.getuid?.() === 0 ? null : 'mount namespaces need root', test, 'a volume mounted inside the restored mount namespace is visible to the prefetcher', async () => {
	const volume = path.join(base, 'volume');
	const mountpoint = path.join(base, 'mountpoint');
	mkdirSync(volume);
	mkdirSync(mountpoint);
	writeFile(path.join(volume, 'file'), 8 * 4096);
	const inVolume = imageFile(path.join(volume, 'file'), path.join(mountpoint, 'file'), [hot(0, 8)]);
	const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" "$2" && echo ready && exec sleep 60', 'sh', volume, mountpoint], { stdio: ['ignore', 'pipe', 'inherit'] });
	try {
		await new Promise<void>((resolve, reject) => {
			child.stdout.once('data', () => resolve());
			child.once('exit', (code) => reject(new Error(`unshare exited (${code})`)));
		});
		assert.not.ok(existsSync(path.join(mountpoint, 'file')), 'not visible from here');
		const out = await prefetcher('volume', encodeImage(image([inVolume])), identity(child.pid!));
		assert.ok(out.events.some((e) => e.kind === 'file' && e.path === inVolume.path), JSON.stringify(out.events));
		assert.match(out.status, /^hotcache: prefetch done: .* of 8 asked; .* 1 files, 0 skipped$/);
	} finally {
		child.kill();
		await once(child, 'exit');
	}
});

test('a pid that no longer names the restored init is refused, not followed to another root', async () => {
	const stat = readFileSync('/proc/self/stat', 'utf8');
	const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
	const out = await prefetcher('reused-pid', valid, `${process.pid} ${start + 1}\n`);
	assert.match(out.status, new RegExp(`^hotcache: nothing prefetched: pid ${process.pid} is no longer the restored init \\(started at ${start}, not ${start + 1}\\)`));
	assert.not.ok(out.events.some((e) => e.kind === 'file' || e.kind === 'skip'), 'nothing opened');
});

test('without a restored init pid nothing is resolved: the restore ended, or the wait timed out', async () => {
	const out = await prefetcher('no-init', valid, null);
	assert.match(out.status, /^hotcache: nothing prefetched: the restore ended \(criu, pid 1, is gone\) before the restored init pid was known$/);
});

test.run();
