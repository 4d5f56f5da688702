// `hotcache prefetch` as a user runs it: the real bin file, on an evicted file on the real disk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeImage } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { scratchDir, evict, hot, image, imageFile, ones, residency, warm, writeFile } from './support.js';

const run = promisify(execFile);
const bin = path.join(projectRoot, 'tools/hotcache.js');
const base = scratchDir('cli').dir;
const data = path.join(base, 'data');
writeFile(data, 4 << 20);
const imgDir = path.join(base, 'img');
mkdirSync(imgDir);

async function hotcache(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	try {
		const r = await run(process.execPath, [bin, ...args], { env: { ...process.env, HOTCACHE_RECORD: '' } });
		return { code: 0, stdout: r.stdout, stderr: r.stderr };
	} catch (err) {
		const e = err as { code: number; stdout: string; stderr: string };
		return { code: e.code, stdout: e.stdout, stderr: e.stderr };
	}
}

test('prefetch --json fetches the planned pages and prints a stable summary', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), encodeImage(image([imageFile(data, data, [hot(0, 256), warm(512, 256)], [0])])));
	await evict(data);
	const record = path.join(base, 'record.jsonl');
	const r = await hotcache('prefetch', '--json', imgDir, '--workers', '2', '--record', record, '--no-activate');
	assert.is(r.code, 0, r.stderr);
	const summary = JSON.parse(r.stdout) as Record<string, unknown>;
	assert.equal(Object.keys(summary), ['image', 'root', 'pagesAsked', 'alreadyResident', 'fetched', 'missing', 'bytesRead', 'seconds', 'throughput', 'filesPlanned', 'filesSkipped', 'skipped', 'stopped']);
	assert.is(summary.pagesAsked, 512);
	assert.is(summary.missing, 0);
	assert.is(summary.stopped, null);
	const vec = await residency(data);
	assert.is(ones(vec, 0, 256), 256, 'hot pages resident');
	assert.is(ones(vec, 512, 768), 256, 'warm pages resident');
	assert.is(ones(vec, 256, 512), 0, 'nothing outside the plan');
	const events = readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
	assert.ok(events.some((e) => e.kind === 'summary'), 'the record has a summary');
	assert.not.ok(events.some((e) => e.kind === 'activate'), '--no-activate skips the second pass');
});

test('a corrupt image is an error with a stable code; bad options are usage errors', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), 'HOTCACHE\x01');
	const bad = await hotcache('prefetch', '--json', imgDir);
	assert.is(bad.code, 1);
	assert.equal(JSON.parse(bad.stdout), { error: { code: 'image-refused', message: 'image refused, truncated: image is 9 bytes, shorter than its 12-byte header' } });
	const missing = await hotcache('prefetch', '--json', base);
	assert.is(JSON.parse(missing.stdout).error.code, 'no-image');
	const usage = await hotcache('prefetch', imgDir, '--workers', 'many');
	assert.is(usage.code, 2);
	assert.match(usage.stderr, /--workers must be an integer/);
});

// A hotcache.img linked to /dev/zero took 5.8 GB in 20 s, a FIFO hung both commands: each is refused
// without being read (run under a 3 GB address-space limit and a timeout, so that a regression fails
// the test, not the machine).
test('inspect and prefetch refuse a hotcache.img that is a symlink, a FIFO or a device, without reading it', async () => {
	const cases: [string, (file: string) => void, RegExp][] = [
		['symlink', (file) => symlinkSync('/dev/zero', file), /a symlink on the way/],
		['fifo', (file) => execFileSync('mkfifo', [file]), /is a FIFO, not a regular file/],
		['device', (file) => execFileSync('mknod', [file, 'c', '1', '5']), /is a character device, not a regular file/],
	];
	for (const [name, make, reason] of cases) {
		const dir = path.join(base, `hostile-${name}`);
		mkdirSync(dir);
		make(path.join(dir, 'hotcache.img'));
		for (const command of ['inspect', 'prefetch']) {
			// timeout(1) signals its whole process group: `prefetch` runs itself again in a child.
			const r = spawnSync('timeout', ['-s', 'KILL', '10', 'sh', '-c', 'ulimit -v 3000000; exec "$@"', 'sh', process.execPath, bin, command, '--json', dir], { encoding: 'utf8', env: { ...process.env, HOTCACHE_RECORD: '' } });
			assert.is(r.status, 1, `${command} on a ${name}: exit ${r.status} (signal ${r.signal})`);
			const error = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
			assert.is(error.code, 'no-image', `${command} on a ${name}`);
			assert.match(error.message, reason);
		}
	}
});

// A path or a reason from a hostile image printed raw could clear the screen or fake output lines.
test('what inspect and prefetch print from an image is escaped: no control characters reach the terminal', async () => {
	const hostile = '/x\x1b[2J\r\nhotcache: all fine\x9b31m\u202e';
	const img = image([imageFile(data, hostile, [hot(0, 1)])]);
	img.capture.partial = true;
	img.capture.partialReason = 'time limit\r\n\x1b]0;owned\x07';
	const dir = path.join(base, 'escaped');
	mkdirSync(dir);
	writeFileSync(path.join(dir, 'hotcache.img'), encodeImage(img));
	const unprintable = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/;
	const table = await hotcache('inspect', dir);
	assert.is(table.code, 0, table.stderr);
	assert.not.match(table.stdout, unprintable);
	assert.match(table.stdout, /partial: time limit\\x0d\\x0a\\x1b\]0;owned\\x07\n/);
	assert.match(table.stdout, /\/x\\x1b\[2J\\x0d\\x0ahotcache: all fine\\x9b31m\\u202e\n/);
	const json = await hotcache('inspect', '--json', dir);
	assert.not.match(json.stdout, unprintable);
	assert.is((JSON.parse(json.stdout) as { files: { path: string }[] }).files[0]!.path, hostile, 'JSON still says exactly what the image holds');
	const prefetch = await hotcache('prefetch', dir);
	assert.not.match(prefetch.stderr, unprintable);
	assert.match(prefetch.stderr, /^hotcache prefetch: skipped \/x\\x1b\[2J\\x0d\\x0ahotcache: all fine\\x9b31m\\u202e: not found in the root/m);
});

test('prefetch runs itself again with a libuv pool sized for --workers; a SIGTERM is passed on', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), encodeImage(image([imageFile(data, data, [hot(0, 1024)])])));
	await evict(data);
	const env: NodeJS.ProcessEnv = { ...process.env, HOTCACHE_RECORD: '', HOTCACHE_BANDWIDTH: '1' }; // 1 MB/s: still running when looked at
	delete env.UV_THREADPOOL_SIZE;
	const record = path.join(base, 'pool-record.jsonl');
	const cli = spawn(process.execPath, [bin, 'prefetch', '--json', imgDir, '--workers', '8', '--record', record], { env, stdio: ['ignore', 'pipe', 'ignore'] });
	const exited = once(cli, 'exit') as Promise<[number | null, string | null]>;
	let out = '';
	cli.stdout.on('data', (b: Buffer) => (out += b));
	try {
		let child = '';
		for (let i = 0; i < 200 && !child; i++) {
			await new Promise((r) => setTimeout(r, 25));
			child = readFileSync(`/proc/${cli.pid}/task/${cli.pid}/children`, 'utf8').trim();
		}
		assert.ok(/^\d+$/.test(child), `one child, got '${child}'`);
		// Between fork and exec the child still shows the parent's environment: wait for the exec.
		let pool: string | undefined;
		for (let i = 0; i < 200 && pool === undefined; i++) {
			pool = readFileSync(`/proc/${child}/environ`, 'utf8').split('\0').find((v) => v.startsWith('UV_THREADPOOL_SIZE='));
			if (pool === undefined) await new Promise((r) => setTimeout(r, 25));
		}
		assert.is(pool, 'UV_THREADPOOL_SIZE=10', 'workers + 2 threads');
		// Once it records its start, its SIGTERM handler is in place: then the parent alone is signalled.
		for (let i = 0; i < 200 && !/"kind":"start"/.test(existsSync(record) ? readFileSync(record, 'utf8') : ''); i++) await new Promise((r) => setTimeout(r, 25));
	} finally {
		cli.kill('SIGTERM');
	}
	const [code] = await exited;
	assert.is(code, 1, 'stopped: exit 1');
	assert.is((JSON.parse(out) as { stopped: string }).stopped, 'SIGTERM', 'the child got the SIGTERM and stopped cleanly');
});

test.run();
