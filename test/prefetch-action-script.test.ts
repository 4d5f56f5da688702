// The action script as CRIU runs it, without CRIU: one parent shell runs it for several actions in
// turn (the parent stands in for criu: the restore is keyed by the parent's pid and start time).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeImage } from '../proto/image.js';
import { PATHS } from '../contract/out/contract.js';
import { builtFile, projectRoot } from '../tools/project.js';
import { pruneRestores } from '../hooks/state-dir.js';
import { ensureHostPackages } from '../tools/setup/debian.js';
import { scratchDir, evict, hot, image, imageFile, testUnless, writeFile } from './support.js';

const run = promisify(execFile);
const script = builtFile('actionScript');
const base = scratchDir('action').dir;
const data = path.join(base, 'data');
writeFile(data, 16 * 4096);
const imgDir = path.join(base, 'img');
mkdirSync(imgDir);
const valid = encodeImage(image([imageFile(data, data, [hot(0, 16)])]));

interface Run {
	code: number | null;
	stdout: string;
	state: string;
}

/**
 * Runs the script (or `via`) once per action, all from one parent shell (after `prelude`, run by that
 * shell); an entry starting with '!' is shell that parent runs in between. Returns the output of them
 * all; code is null when the shell had to be killed after `timeoutMs`.
 */
async function actions(name: string, list: string[], env: Record<string, string> = {}, prelude = '', timeoutMs = 0, via = script): Promise<Run> {
	const state = path.join(base, name);
	const calls = prelude + list.map((a) => (a.startsWith('!') ? a.slice(1) : `CRTOOLS_SCRIPT_ACTION=${a} ${via}; echo "rc=$?"`)).join('; ');
	// Its own session and process group (setsid: not a group leader, so no fork): on a timeout, the
	// scripts it runs, and what they hang in, go with it.
	const running = run('setsid', ['/bin/sh', '-c', calls], { env: { ...process.env, HOTCACHE_STATE_DIR: state, HOTCACHE_RECORD: '', HOTCACHE_CONFIG: '/nonexistent', CRTOOLS_IMAGE_DIR: imgDir, CRTOOLS_INIT_PID: String(process.pid), ...env } });
	let timedOut = false;
	const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), process.kill(-running.child.pid!, 'SIGKILL')), timeoutMs) : null;
	try {
		const r = await running;
		return { code: 0, stdout: r.stdout, state };
	} catch (err) {
		const e = err as { code: number | null; stdout: string };
		return { code: timedOut ? null : e.code, stdout: e.stdout, state };
	} finally {
		if (timer) clearTimeout(timer);
	}
}

function restoreDirs(state: string): string[] {
	const dir = path.join(state, 'restores');
	return existsSync(dir) ? readdirSync(dir).map((d) => path.join(dir, d)) : [];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The detached prefetcher of a restore directory, from the pid file it writes, once it has written it. */
async function prefetcherPid(dir: string): Promise<number | null> {
	const file = path.join(dir, 'prefetcher.pid');
	for (let i = 0; i < 200; i++) {
		const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
		if (text.endsWith('\n')) return Number(text.split(' ')[0]);
		await sleep(50);
	}
	return null;
}

/** True while `pid` is the prefetcher of `dir` (not a reused pid). */
function running(pid: number, dir: string): boolean {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dir);
	} catch {
		return false;
	}
}

/** Stops the prefetcher of `dir` if it still runs (by its pid only), and waits (bounded) until it has gone. */
async function stop(dir: string): Promise<void> {
	const pid = existsSync(path.join(dir, 'prefetcher.pid')) ? await prefetcherPid(dir) : null;
	if (pid === null || !running(pid, dir)) return;
	process.kill(pid, 'SIGTERM');
	for (let i = 0; i < 100 && running(pid, dir); i++) await sleep(50);
	if (running(pid, dir)) process.kill(pid, 'SIGKILL');
}

/** Waits (bounded) for the prefetcher of a restore directory to write its verdict; returns the status line. */
async function finished(dir: string): Promise<string> {
	const status = path.join(dir, 'status');
	const read = (): string => (existsSync(status) ? readFileSync(status, 'utf8').trim() : '');
	for (let i = 0; i < 200 && !/done|nothing prefetched/.test(read()); i++) await sleep(50);
	return read();
}

/** "PID START" of a process, as init-pid and prefetcher.pid hold it. */
function identity(pid: number): string {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}\n`;
}

/** Its tasks' count: the pool's threads are named alike on Node 20 ("node"), so they are counted by difference. */
function threads(pid: number): number {
	return readdirSync(`/proc/${pid}/task`).length;
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
	assert.is(readFileSync(path.join(dir!, 'init-pid'), 'utf8'), identity(process.pid), 'the init pid with its start time');
	try {
		assert.equal(readFileSync(path.join(dir!, 'hotcache.img')), valid, 'the image is copied');
		assert.match(await finished(dir!), /^hotcache: prefetch done: .* of 16 asked/);
	} finally {
		await stop(dir!);
	}
});

test('HOTCACHE_WORKERS sizes the prefetcher\'s libuv pool: the script starts node with UV_THREADPOOL_SIZE', async () => {
	// A reference Node with a pool of one thread, started: what a Node has besides its pool.
	const probe = "require('fs').readFile('/proc/self/stat',()=>process.stdout.write(String(require('fs').readdirSync('/proc/self/task').length)))";
	const others = Number((await run(process.execPath, ['-e', probe], { env: { ...process.env, UV_THREADPOOL_SIZE: '1' } })).stdout) - 1;
	const big = path.join(base, 'big');
	writeFile(big, 16 << 20);
	writeFileSync(path.join(imgDir, 'hotcache.img'), encodeImage(image([imageFile(big, big, [hot(0, 4096)])])));
	// Evicted, at 1 MB/s: it is still running when its threads are counted (a file still cached from
	// being written would leave it nothing to do, and it could be gone before it is looked at).
	await evict(big);
	const r = await actions('threads', ['pre-restore', 'post-restore'], { HOTCACHE_WORKERS: '8', HOTCACHE_BANDWIDTH: '1' });
	const [dir] = restoreDirs(r.state);
	assert.ok(dir, r.stdout);
	try {
		const pid = await prefetcherPid(dir!);
		assert.ok(pid !== null && running(pid, dir!), `no prefetcher running: ${r.stdout}`);
		// The script names it as it starts it; by its first chunk, Node has long set up its pool.
		const record = path.join(dir!, 'record.jsonl');
		for (let i = 0; i < 200 && !(existsSync(record) && readFileSync(record, 'utf8').includes('"kind":"chunk"')); i++) await sleep(25);
		assert.ok(threads(pid!) - others >= 8, `${threads(pid!)} tasks, ${others} of them outside the pool`);
	} finally {
		await stop(dir!);
	}
});

test('installed (what it sources copied beside it), or linked alone, it finds its files and the prefetcher; a copy on its own says what is missing', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	const staged = path.join(base, 'staged');
	const installed = spawnSync(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'install', '--root', staged, '--criu-version', '4.1'], { encoding: 'utf8' });
	assert.is(installed.status, 0, installed.stderr);
	const alone = path.join(base, 'alone');
	mkdirSync(alone);
	symlinkSync(script, path.join(alone, 'action-script'));
	for (const [name, via] of [['installed', path.join(staged, PATHS.installed.actionScript)], ['linked', path.join(alone, 'action-script')]] as const) {
		const r = await actions(name, ['pre-restore', 'post-restore'], {}, '', 0, via);
		const [dir] = restoreDirs(r.state);
		try {
			assert.match(r.stdout, /^hotcache: prefetcher started for .*\nrc=0\nrc=0\n$/, name);
			assert.is(readFileSync(path.join(dir!, 'init-pid'), 'utf8'), identity(process.pid), `${name}: post-restore ran`);
			assert.match(await finished(dir!), /^hotcache: prefetch done: .* of 16 asked/, name);
		} finally {
			await stop(dir!);
		}
	}
	copyFileSync(script, path.join(alone, 'copy'));
	const copy = await actions('copy', ['pre-restore', 'post-resume'], { HOTCACHE_STRICT: '1' }, '', 0, path.join(alone, 'copy'));
	assert.match(copy.stdout, /^hotcache: cannot find .*contract\.sh \(run npm ci\); nothing is prefetched for this restore\nrc=0\n/);
	assert.equal(restoreDirs(copy.state), []);
});

test('configuration warnings go to CRIU\'s log; the script goes on with the rest', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	const conf = path.join(base, 'warn.conf');
	writeFileSync(conf, 'HOTCACHE_WORKERS=lots\nnot a setting\n');
	const r = await actions('warned', ['pre-restore'], { HOTCACHE_CONFIG: conf, HOTCACHE_STRICT: 'perhaps' });
	const [dir] = restoreDirs(r.state);
	try {
		const lines = r.stdout.split('\n');
		assert.equal(lines.slice(0, 3), [
			`hotcache: ${conf} line 1: HOTCACHE_WORKERS is not an integer from 1 to 64, ignored`,
			`hotcache: ${conf} line 2: not KEY=VALUE, ignored`,
			'hotcache: environment: HOTCACHE_STRICT is not 1 or 0 (also yes/no, true/false, on/off), ignored',
		]);
		assert.match(lines[3]!, /^hotcache: prefetcher started for /);
	} finally {
		await stop(dir!);
	}
});

test('a bad header is reported in the log, nothing is started; strict mode makes it fail the restore', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid.subarray(0, valid.length - 1));
	const r = await actions('bad', ['pre-restore', 'post-resume']);
	assert.match(r.stdout, /^hotcache: hotcache.img is \d+ bytes, its header announces \d+; nothing is prefetched for this restore\nrc=0\nhotcache: nothing prefetched: hotcache.img is \d+ bytes/);
	assert.not.ok(existsSync(path.join(restoreDirs(r.state)[0]!, 'prefetcher.pid')), 'nothing started');
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
	// A last line without its newline counts too.
	writeFileSync(conf, 'HOTCACHE_WORKERS=2\nHOTCACHE_DISABLE=1');
	const lastLine = await actions('off-last-line', ['pre-restore'], { HOTCACHE_CONFIG: conf });
	assert.is(lastLine.stdout, 'rc=0\n');
	assert.equal(restoreDirs(lastLine.state), []);
});

test('the state directory keeps the 16 newest restores, the current one, and those still in use', async () => {
	const state = path.join(base, 'prune');
	const restores = path.join(state, 'restores');
	const stat = readFileSync('/proc/self/stat', 'utf8');
	const self = `${process.pid}.${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`; // a live "criu"
	const reused = `${process.pid}.1`; // the same pid, another start time: that criu is gone
	const names = [self, '200.1', reused, ...Array.from({ length: 20 }, (_, i) => `${100 + i}.1`)];
	// 200.1's prefetcher still runs (its command line names the directory).
	const prefetcher = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', path.join(restores, '200.1')], { stdio: 'ignore' });
	try {
		names.forEach((name, i) => {
			const dir = path.join(restores, name);
			mkdirSync(dir, { recursive: true });
			if (name === '200.1') writeFileSync(path.join(dir, 'prefetcher.pid'), identity(prefetcher.pid!));
			if (name === '101.1') writeFileSync(path.join(dir, 'prefetcher.pid'), `${prefetcher.pid} 1\n`); // that pid, another start: gone
			const t = new Date(Date.now() - (100 - i) * 1000); // self oldest, then 200.1, reused, 100.1 ... 119.1 newest
			utimesSync(dir, t, t);
		});
		writeFileSync(path.join(restores, 'not-a-restore'), '');
		const current = path.join(restores, '100.1'); // old, but in use
		const removed = pruneRestores(state, current).map((d) => path.basename(d)).sort();
		assert.equal(removed, ['101.1', '102.1', '103.1', reused].sort());
		for (const kept of [current, path.join(restores, self), path.join(restores, '200.1'), path.join(restores, 'not-a-restore')]) assert.ok(existsSync(kept), kept);
	} finally {
		prefetcher.kill();
	}
});

// Prefetchers of restores that end together prune together: a directory listed by one and removed by
// another made stat throw ENOENT, and the prefetcher exit 1.
test('prefetchers pruning the same state directory at once all succeed', async () => {
	const state = path.join(base, 'prune-race');
	for (let i = 0; i < 400; i++) mkdirSync(path.join(state, 'restores', `${1000 + i}.1`, 'sub'), { recursive: true });
	const prune = `import(${JSON.stringify(path.join(projectRoot, 'dist/hooks/state-dir.js'))}).then((m) => m.pruneRestores(process.argv[1], '/nonexistent'))`;
	const pruners = Array.from({ length: 6 }, () => run(process.execPath, ['-e', prune, state]).then(() => 'ok', (err: Error) => err.message));
	assert.equal(await Promise.all(pruners), Array(6).fill('ok'));
	assert.is(readdirSync(path.join(state, 'restores')).length, 16);
});

test('the state directory is made for root only; one another user could write, or a symlink, is refused', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	const fresh = await actions('fresh', ['pre-restore']);
	const [dir] = restoreDirs(fresh.state);
	try {
		for (const d of [fresh.state, path.join(fresh.state, 'restores'), dir!]) assert.is(statSync(d).mode & 0o777, 0o700, d);
		assert.is(statSync(path.join(dir!, 'claimed')).mode & 0o777, 0o600);
	} finally {
		await stop(dir!);
	}
	const open = path.join(base, 'open');
	mkdirSync(path.join(open, 'restores'), { recursive: true, mode: 0o700 });
	chmodSync(path.join(open, 'restores'), 0o1777);
	const refused = await actions('open', ['pre-restore', 'post-restore'], { HOTCACHE_STATE_DIR: open });
	assert.match(refused.stdout, /^hotcache: refusing the state directory \S+: it must be a directory of uid 0, not a symlink, that no other user can write; .*; nothing is prefetched for this restore\nrc=0\nrc=0\n$/);
	assert.equal(readdirSync(path.join(open, 'restores')), []);
	const link = path.join(base, 'link');
	symlinkSync(fresh.state, link);
	const linked = await actions('link', ['pre-restore'], { HOTCACHE_STATE_DIR: link, HOTCACHE_STRICT: '1' });
	assert.match(linked.stdout, /refusing the state directory.*\nrc=1\n$/);
});

// The checks used to come after `mkdir -p` (which followed a symlinked state directory: root created
// target/restores), and looked at the state directory and restores/ only, not at the directories above.
test('the state directory is checked from / down before anything is created in it', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	const target = path.join(base, 'link-target');
	mkdirSync(target, { mode: 0o700 });
	const link = path.join(base, 'state-link');
	symlinkSync(target, link);
	const linked = await actions('state-link', ['pre-restore'], { HOTCACHE_STATE_DIR: link });
	assert.match(linked.stdout, /^hotcache: refusing the state directory/);
	assert.equal(readdirSync(target), [], 'nothing created through the link');

	// A parent any user can write (no sticky bit): they could replace the state directory.
	const open = path.join(base, 'open-parent');
	mkdirSync(open);
	chmodSync(open, 0o777);
	const refused = await actions('open-parent', ['pre-restore'], { HOTCACHE_STATE_DIR: path.join(open, 'state') });
	assert.match(refused.stdout, /^hotcache: refusing the state directory/);
	assert.equal(readdirSync(open), []);
	// Sticky (as /tmp is): others cannot rename or remove what is ours in it.
	chmodSync(open, 0o1777);
	const sticky = await actions('sticky-parent', ['pre-restore', 'post-restore'], { HOTCACHE_STATE_DIR: path.join(open, 'state') });
	const [dir] = restoreDirs(path.join(open, 'state'));
	try {
		assert.match(sticky.stdout, /^hotcache: prefetcher started for /);
		assert.match(await finished(dir!), /^hotcache: prefetch done/);
	} finally {
		await stop(dir!);
	}
});

testUnless(process.getuid?.() === 0 ? null : 'installs acl (setfacl) with apt-get: needs root', test, 'a parent with a default ACL is refused before anything inherits it', async () => {
	ensureHostPackages([{ name: 'acl', provides: '/usr/bin/setfacl' }]);
	const parent = path.join(base, 'acl-parent');
	mkdirSync(parent, { mode: 0o755 });
	await run('setfacl', ['-d', '-m', 'u:nobody:rwx', parent]);
	const r = await actions('acl-parent', ['pre-restore'], { HOTCACHE_STATE_DIR: path.join(parent, 'state') });
	assert.match(r.stdout, /^hotcache: refusing the state directory/);
	assert.equal(readdirSync(parent), [], 'nothing created to inherit it');
});

/** Shell run by the parent shell (criu's stand-in): its restore directory, made by hand, in $d. */
const ownRestoreDir = 'read -r s </proc/$$/stat; set -- ${s##*) }; d=$HOTCACHE_STATE_DIR/restores/$$.${20}; mkdir -p "$d"; ';

test('a claim whose launcher was killed before the launch is reported, then taken over by the next pre-restore', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	// The claim of a launcher that is gone (a pid that has exited), which never reached the launch.
	const killed = ownRestoreDir + 'sh -c "exit 0" & dead=$!; wait; echo "action-script $dead" >"$d/claimed"; ';
	const r = await actions('killed', ['post-resume', 'pre-restore', 'pre-restore', 'post-restore'], {}, killed);
	const [dir] = restoreDirs(r.state);
	try {
		const lines = r.stdout.trim().split('\n');
		assert.match(lines[0]!, /^hotcache: the launcher that claimed this restore \(pid \d+\) was stopped before it started the prefetcher; nothing is prefetched/);
		assert.match(lines[2]!, /^hotcache: the launcher that claimed this restore \(pid \d+\) was stopped before it started the prefetcher: starting it now$/);
		assert.match(lines[3]!, /^hotcache: prefetcher started for /);
		assert.is(lines[5], 'hotcache: a prefetcher was already started for this restore', 'taken over once');
		assert.match(await finished(dir!), /^hotcache: prefetch done: .* of 16 asked/);
	} finally {
		await stop(dir!);
	}
	// A claim whose launcher is alive (here: the parent shell) is left alone.
	const alive = await actions('alive', ['pre-restore', 'post-resume'], {}, ownRestoreDir + 'echo "action-script $$" >"$d/claimed"; ');
	assert.match(alive.stdout, /^hotcache: a prefetcher was already started for this restore\nrc=0\nhotcache: the prefetcher is still starting/);
});

test('a symlinked image is refused; a claim that cannot be created is reported with its reason', async () => {
	const elsewhere = path.join(base, 'elsewhere.img');
	writeFileSync(elsewhere, valid);
	rmSync(path.join(imgDir, 'hotcache.img'), { force: true });
	symlinkSync(elsewhere, path.join(imgDir, 'hotcache.img'));
	const linked = await actions('img-link', ['pre-restore']);
	assert.match(linked.stdout, /^hotcache: .*hotcache.img is a symlink: refused; nothing is prefetched for this restore\nrc=0\n$/);
	assert.not.ok(existsSync(path.join(restoreDirs(linked.state)[0]!, 'prefetcher.pid')), 'nothing started');
	rmSync(path.join(imgDir, 'hotcache.img'));
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	// An immutable restore directory: even root cannot create the claim (EPERM).
	const r = await actions('immutable', ['pre-restore', 'post-resume'], {}, ownRestoreDir + 'chattr +i "$d"; ');
	const [dir] = restoreDirs(r.state);
	await run('chattr', ['-i', dir!]);
	assert.match(r.stdout, /^hotcache: cannot create .*\/claimed: Operation not permitted; nothing is prefetched for this restore\nrc=0\nrc=0\n$/);
});

// The script opened the image path three times after testing it: a FIFO moved in between (an mv
// loop) hung 7 of 16 pre-restores in the FIFO's open, and CRIU waits for action scripts forever.
test('hotcache.img swapped for a FIFO or a link during pre-restore never hangs it and is never followed', async () => {
	const dir = path.join(base, 'swapped');
	mkdirSync(dir);
	const real = path.join(base, 'swapped.img');
	writeFileSync(real, valid);
	const swapper = spawn('sh', ['-c', 'cd "$1" && while :; do ln -f "$2" r && mv -f r hotcache.img; mkfifo f && mv -f f hotcache.img; ln -sf /dev/zero l && mv -f l hotcache.img; done', 'sh', dir, real], { stdio: 'ignore' });
	try {
		const seen = new Set<string>();
		for (let i = 0; i < 16; i++) {
			const r = await actions(`swapped-${i}`, ['pre-restore'], { CRTOOLS_IMAGE_DIR: dir, HOTCACHE_NODE: 'true' }, '', 5000);
			assert.is(r.code, 0, `pre-restore ${i} did not return: ${r.stdout}`);
			const line = r.stdout.split('\n')[0]!;
			assert.match(line, /^hotcache: (prefetcher started for|\S+hotcache.img is (a symlink|not a regular file): refused|cannot copy|no hotcache.img)/, line);
			seen.add(line.replace(/ for .*| \S+hotcache.img/, ''));
		}
		process.stdout.write(`  swapped image: ${[...seen].join(' | ')}\n`);
	} finally {
		swapper.kill();
		await once(swapper, 'exit');
	}
});

test('the image the plugin passes open (HOTCACHE_IMAGE_FD) is read from that fd only; a FIFO there is refused', async () => {
	const elsewhere = path.join(base, 'passed.img');
	writeFileSync(elsewhere, valid);
	const r = await actions('passed-fd', ['pre-restore', 'post-restore'], { HOTCACHE_IMAGE_FD: '3', CRTOOLS_IMAGE_DIR: '/nonexistent' }, `exec 3<"${elsewhere}"; `);
	assert.match(r.stdout, /^hotcache: prefetcher started for the image the plugin opened \(fd 3\)/);
	const [dir] = restoreDirs(r.state);
	try {
		assert.match(await finished(dir!), /^hotcache: prefetch done: .* of 16 asked/);
		assert.not.ok(existsSync(path.join(dir!, 'hotcache.img')), 'no link, no copy');
		assert.match(readFileSync(path.join(dir!, 'record.jsonl'), 'utf8'), /"kind":"start",[^\n]*"image":"fd 3"/);
	} finally {
		await stop(dir!);
	}
	const fifo = path.join(base, 'passed.fifo');
	await run('mkfifo', [fifo]);
	const refused = await actions('passed-fifo', ['pre-restore'], { HOTCACHE_IMAGE_FD: '3', CRTOOLS_IMAGE_DIR: '/nonexistent' }, `exec 3<>"${fifo}"; `, 5000);
	assert.match(refused.stdout, /^hotcache: the image the plugin opened \(fd 3\) is not a regular file: refused; nothing is prefetched for this restore\nrc=0\n$/);
});

test('from another file system the image is copied with a non-blocking, no-follow open: a FIFO there does not hang', async () => {
	const shm = mkdtempSync('/dev/shm/hotcache-action-');
	try {
		writeFileSync(path.join(shm, 'hotcache.img'), valid);
		const r = await actions('copied', ['pre-restore', 'post-restore'], { CRTOOLS_IMAGE_DIR: shm });
		const [dir] = restoreDirs(r.state);
		try {
			assert.match(await finished(dir!), /^hotcache: prefetch done: .* of 16 asked/);
			const copy = statSync(path.join(dir!, 'hotcache.img'));
			assert.ok(copy.isFile() && copy.nlink === 1, 'a copy, not a link');
		} finally {
			await stop(dir!);
		}
		rmSync(path.join(shm, 'hotcache.img'));
		await run('mkfifo', [path.join(shm, 'hotcache.img')]);
		const fifo = await actions('copied-fifo', ['pre-restore'], { CRTOOLS_IMAGE_DIR: shm }, '', 5000);
		assert.is(fifo.code, 0, 'returned');
		assert.match(fifo.stdout, /^hotcache: (\S+ is not a regular file: refused|hotcache.img is truncated .*|cannot copy \S+); nothing is prefetched/);
	} finally {
		rmSync(shm, { recursive: true, force: true });
	}
});

test('post-resume tells a prefetcher that died, in progress or before any status, from one still running', async () => {
	const big = path.join(base, 'killed-big');
	writeFile(big, 16 << 20);
	writeFileSync(path.join(imgDir, 'hotcache.img'), encodeImage(image([imageFile(big, big, [hot(0, 4096)])])));
	await evict(big);
	// At 1 MB/s it is still in progress when it is killed (SIGKILL: it can write nothing more).
	const kill = '!' + ownRestoreDir + 'i=0; until grep -q "in progress" "$d/status" 2>/dev/null || [ $i -gt 400 ]; do sleep 0.025; i=$((i + 1)); done; read -r p _ <"$d/prefetcher.pid"; kill -9 $p; sleep 0.1';
	const r = await actions('killed-prefetcher', ['pre-restore', 'post-restore', kill, 'post-resume'], { HOTCACHE_BANDWIDTH: '1' });
	assert.match(r.stdout, /\nhotcache: the prefetcher \(pid \d+\) ended without finishing, while in progress \(killed, out of memory or crashed\); see \S+prefetcher.log; its last status: prefetch in progress: /);
	// `hotcache inspect` of the restore directory says the same.
	const inspected = JSON.parse((await run(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'inspect', '--json', restoreDirs(r.state)[0]!])).stdout) as { restore: { prefetcher: string; status: string } };
	assert.is(inspected.restore.prefetcher, 'ended');
	assert.match(inspected.restore.status, /^hotcache: prefetch in progress: /);
	// Never got as far as a status: a "prefetcher" that exits at once.
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	const early = await actions('early-death', ['pre-restore', '!sleep 0.2', 'post-resume'], { HOTCACHE_NODE: 'true' });
	assert.match(early.stdout, /\nhotcache: the prefetcher \(pid \d+\) ended without finishing \(killed, out of memory or crashed\); see \S+prefetcher.log\nrc=0\n$/);
});

test('a failure after the claim leaves its reason for post-resume', async () => {
	writeFileSync(path.join(imgDir, 'hotcache.img'), valid);
	const r = await actions('nonode', ['pre-restore', 'post-resume'], { HOTCACHE_NODE: '/nonexistent/node' });
	assert.match(r.stdout, /cannot find \/nonexistent\/node .*\nrc=0\nhotcache: nothing prefetched: cannot find \/nonexistent\/node/);
});

test.run();
