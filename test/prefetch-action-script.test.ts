// The action script as CRIU runs it, without CRIU: one parent shell runs it for several actions in
// turn (the parent stands in for criu: the restore is keyed by the parent's pid and start time).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeImage } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { pruneRestores } from '../hooks/state-dir.js';
import { diskTempDir, hot, image, imageFile, writeFile } from './prefetch-support.js';

const run = promisify(execFile);
const script = path.join(projectRoot, 'hooks/action-script');
const base = diskTempDir('action');
const data = path.join(base, 'data');
writeFile(data, 16 * 4096);
const imgDir = path.join(base, 'img');
mkdirSync(imgDir);
const valid = encodeImage(image([imageFile(data, data, [hot(0, 16)])]));

interface Run {
	code: number;
	stdout: string;
	state: string;
}

/** Runs the script once per action, all from one parent shell; returns the output of them all. */
async function actions(name: string, list: string[], env: Record<string, string> = {}): Promise<Run> {
	const state = path.join(base, name);
	const calls = list.map((a) => `CRTOOLS_SCRIPT_ACTION=${a} ${script}; echo "rc=$?"`).join('; ');
	try {
		const r = await run('/bin/sh', ['-c', calls], { env: { ...process.env, HOTCACHE_STATE_DIR: state, HOTCACHE_RECORD: '', HOTCACHE_CONFIG: '/nonexistent', CRTOOLS_IMAGE_DIR: imgDir, CRTOOLS_INIT_PID: '4242', ...env } });
		return { code: 0, stdout: r.stdout, state };
	} catch (err) {
		const e = err as { code: number; stdout: string };
		return { code: e.code, stdout: e.stdout, state };
	}
}

function restoreDirs(state: string): string[] {
	const dir = path.join(state, 'restores');
	return existsSync(dir) ? readdirSync(dir).map((d) => path.join(dir, d)) : [];
}

/** Waits (bounded) for the detached prefetcher of a restore directory to finish; kills it by pid if it does not. */
async function reap(dir: string): Promise<string> {
	const status = path.join(dir, 'status');
	for (let i = 0; i < 200 && !/done|nothing prefetched/.test(existsSync(status) ? readFileSync(status, 'utf8') : ''); i++) {
		await new Promise((r) => setTimeout(r, 50));
	}
	const record = path.join(dir, 'record.jsonl');
	const start = existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8').split('\n')[0]!) as { pid?: number }) : {};
	if (start.pid && existsSync(`/proc/${start.pid}`)) process.kill(start.pid, 'SIGTERM');
	return existsSync(status) ? readFileSync(status, 'utf8').trim() : '';
}

test('actions it does not use exit 0 at once and print nothing', async () => {
	const r = await actions('unused', ['pre-dump', 'post-dump', 'network-lock', 'setup-namespaces', 'post-dump']);
	assert.is(r.stdout, 'rc=0\n'.repeat(5));
	assert.equal(restoreDirs(r.state), []);
});

test('pre-restore starts one prefetcher per restore; later actions record the init pid; post-resume reports', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	const r = await actions('flow', ['pre-restore', 'pre-restore', 'post-restore', 'post-resume']);
	const lines = r.stdout.trim().split('\n');
	assert.match(lines[0]!, /^hotcache: prefetcher started for .*hotcache.img \(state: /);
	assert.is(lines[1], 'rc=0');
	assert.is(lines[2], 'hotcache: a prefetcher was already started for this restore');
	assert.match(lines.at(-2)!, /^hotcache: (prefetch (done|in progress)|the prefetcher is still starting)/);
	const [dir] = restoreDirs(r.state);
	assert.ok(dir, 'a restore directory');
	assert.is(restoreDirs(r.state).length, 1);
	assert.is(readFileSync(path.join(dir!, 'init-pid'), 'utf8'), '4242\n');
	assert.equal(readFileSync(path.join(dir!, 'hotcache.img')), valid, 'the image is copied');
	assert.match(await reap(dir!), /^hotcache: prefetch done: .* of 16 asked/);
});

test('a bad header is reported in the log, nothing is started; strict mode makes it fail the restore', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid.subarray(0, valid.length - 1));
	const r = await actions('bad', ['pre-restore']);
	assert.match(r.stdout, /^hotcache: hotcache.img is \d+ bytes, its header announces \d+; nothing is prefetched for this restore\nrc=0\n$/);
	assert.equal(restoreDirs(r.state), []);
	writeFileSync(path.join(imgDir, 'hotcache.img'), 'NOTCACHE\0\0\0\0');
	const strict = await actions('strict', ['pre-restore'], { HOTCACHE_STRICT: '1' });
	assert.match(strict.stdout, /bad magic.*\nrc=1\n$/);
});

test('no image: one line, exit 0; HOTCACHE_DISABLE (variable or file): silence', async () => {
	rmSync(path.join(imgDir, 'hotcache.img'), { force: true });
	const r = await actions('none', ['pre-restore', 'post-resume']);
	assert.is(r.stdout, 'hotcache: no hotcache.img in the image directory: nothing to prefetch\nrc=0\nrc=0\n');
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	const off = await actions('off', ['pre-restore'], { HOTCACHE_DISABLE: '1' });
	assert.is(off.stdout, 'rc=0\n');
	assert.equal(restoreDirs(off.state), []);
	// The same from the configuration file, with the blanks and comment the prefetcher also accepts.
	const conf = path.join(base, 'hotcache.conf');
	writeFileSync(conf, '# restore side\nHOTCACHE_DISABLE = yes   # for now\n');
	const offByFile = await actions('off-file', ['pre-restore'], { HOTCACHE_CONFIG: conf });
	assert.is(offByFile.stdout, 'rc=0\n');
});

test('the state directory keeps the 16 newest restores, and always the current one', () => {
	const state = path.join(base, 'prune');
	const names = Array.from({ length: 20 }, (_, i) => `${100 + i}.1`);
	names.forEach((name, i) => {
		const dir = path.join(state, 'restores', name);
		mkdirSync(dir, { recursive: true });
		const t = new Date(Date.now() - (100 - i) * 1000); // 100.1 oldest, 119.1 newest
		utimesSync(dir, t, t);
	});
	writeFileSync(path.join(state, 'restores', 'not-a-restore'), '');
	const current = path.join(state, 'restores', '100.1'); // the oldest, but in use
	const removed = pruneRestores(state, current).map((d) => path.basename(d)).sort();
	assert.equal(removed, ['101.1', '102.1', '103.1']);
	assert.ok(existsSync(current));
	assert.ok(existsSync(path.join(state, 'restores', 'not-a-restore')), 'only restore directories are touched');
});

test('a failure after the claim leaves its reason for post-resume', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	const r = await actions('nonode', ['pre-restore', 'post-resume'], { HOTCACHE_NODE: '/nonexistent/node' });
	assert.match(r.stdout, /cannot find \/nonexistent\/node .*\nrc=0\nhotcache: nothing prefetched: cannot find \/nonexistent\/node/);
});

test.run();
