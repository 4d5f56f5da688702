// Each hotness backend on real files of this machine's disk: evict, read in a known pattern, capture,
// compare. Plus the capture of a live process tree (fds, offsets, mappings).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeImage, pageCounts, type HotcacheImage, type ImageFile } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { buildFixtures, captureTool, evict, lostPages, mglruEnabled, PAGE, PENDING_ACTIVATION, pagesOf, range, readerTool, readPages, residentPages, runCaptureTool, scratchDir, testUnless, writeFile } from './support.js';

const backends = suite('hotness backends');
const scratch = scratchDir('backends');
const file = (name: string) => path.join(scratch.dir, name);
const SIZE = 1024;
const readA = [...range(0, 512), ...range(768, 896)];
const readB = [...range(0, 256), ...range(512, 640)];
// Page counts allow what this machine's page cache drops on its own (lostPages); hot/warm/not-cached
// class checks stay exact.

const isRoot = process.getuid?.() === 0;
const mglru = mglruEnabled();
const hasKmod = existsSync('/dev/hotcache');

backends.before(async () => {
	for (const [name, pages] of [['A', SIZE], ['B', SIZE], ['C', 64]] as const) {
		writeFile(file(name), pages * PAGE);
		await evict(file(name));
	}
	await readPages(file('A'), readA, 3);
	await readPages(file('B'), readB, 1);
});
backends.after(() => scratch.remove());

function capture(args: string[]): HotcacheImage {
	const r = runCaptureTool(args);
	assert.is(r.code, 0, `hotcache-capture ${args.join(' ')}: ${r.stderr}`);
	return decodeImage(r.stdout);
}

function byName(img: HotcacheImage, name: string): ImageFile {
	const f = img.files.find((x) => x.path === file(name));
	if (!f) throw new assert.Assertion({ message: `${name} is not in the image`, operator: 'ok', actual: img.files.map((x) => x.path), expects: file(name) });
	return f;
}

function assertOnlyReadPages(f: ImageFile, read: number[], name: string): void {
	const cached = pagesOf(f.ranges);
	const allowed = new Set(read);
	assert.ok(cached.every((p) => allowed.has(p)), `${name}: pages never read are cached: ${cached.filter((p) => !allowed.has(p)).join(',')}`);
	assert.ok(cached.length >= read.length - lostPages(read.length), `${name}: only ${cached.length} of the ${read.length} pages read are cached`);
}

backends('mincore: residency exactly as mincore(2) sees it, no hotness', async () => {
	const before = await Promise.all(['A', 'B', 'C'].map((n) => residentPages(file(n))));
	const img = capture(['--backend', 'mincore', file('A'), file('B'), file('C')]);
	const after = await Promise.all(['A', 'B', 'C'].map((n) => residentPages(file(n))));
	assert.is(img.capture.backend, 'mincore');
	assert.is(img.capture.hotWarmExact, false);
	['A', 'B', 'C'].forEach((name, i) => {
		const cached = new Set(pagesOf(byName(img, name).ranges));
		// Pages only ever leave the cache meanwhile: after <= captured <= before.
		for (const p of after[i]!) assert.ok(cached.has(p), `${name}: page ${p} resident but not captured`);
		for (const p of cached) assert.ok(before[i]!.has(p), `${name}: page ${p} captured but not resident`);
		const counts = pageCounts(byName(img, name));
		assert.is(counts.hot + counts.warm, 0, `${name}: mincore cannot know hotness`);
	});
	assertOnlyReadPages(byName(img, 'A'), readA, 'A');
	assertOnlyReadPages(byName(img, 'B'), readB, 'B');
	assert.is(pageCounts(byName(img, 'C')).resident, 0);
});

testUnless(isRoot ? null : 'kpageflags needs root (CAP_SYS_ADMIN to see page frame numbers)', backends, 'kpageflags: pages read 3 times are hot, once warm, never not cached', () => {
	const img = capture(['--backend', 'kpageflags', file('A'), file('B'), file('C')]);
	assert.is(img.capture.backend, 'kpageflags');
	assert.is(img.capture.lru, mglru ? 'mglru' : 'classic');
	assert.is(img.capture.hotWarmExact, !mglru, 'kpageflags says when it cannot tell hot from warm');
	const a = byName(img, 'A');
	const b = byName(img, 'B');
	assertOnlyReadPages(a, readA, 'A');
	assertOnlyReadPages(b, readB, 'B');
	assert.is(pageCounts(byName(img, 'C')).resident, 0);
	const ca = pageCounts(a);
	const cb = pageCounts(b);
	if (!mglru) {
		assert.ok(ca.hot >= ca.resident - PENDING_ACTIVATION, `A: ${ca.hot} hot of ${ca.resident}`);
		assert.is(ca.hot + ca.warm, ca.resident, 'A: every page read is at least warm');
		assert.equal(cb, { resident: cb.resident, hot: 0, warm: cb.resident }, 'B: every page read once is warm');
	}
	// The scan itself must not heat anything: a second one sees the same classes.
	const again = capture(['--backend', 'kpageflags', file('A'), file('B')]);
	assert.equal(pageCounts(byName(again, 'B')).hot, cb.hot, 'B got hotter from being scanned');
	assert.ok(pageCounts(byName(again, 'A')).hot >= ca.hot - lostPages(ca.hot), 'A lost hot pages between two scans');
});

testUnless(hasKmod ? null : 'no /dev/hotcache: the module is not loaded (this host kernel cannot load modules; the VM tests cover it)', backends, 'kmod: classes from the module, same invariants', () => {
	const img = capture(['--backend', 'kmod', file('A'), file('B'), file('C')]);
	assert.is(img.capture.backend, 'kmod');
	assert.is(img.capture.hotWarmExact, true);
	const ca = pageCounts(byName(img, 'A'));
	const cb = pageCounts(byName(img, 'B'));
	assertOnlyReadPages(byName(img, 'A'), readA, 'A');
	assertOnlyReadPages(byName(img, 'B'), readB, 'B');
	assert.ok(ca.hot >= ca.resident - PENDING_ACTIVATION, `A: ${ca.hot} hot of ${ca.resident}`);
	assert.is(cb.hot, 0, 'B: read once, never hot');
	assert.is(pageCounts(byName(img, 'C')).resident, 0);
});

backends('the best available backend is chosen: kmod, then kpageflags, then mincore', () => {
	const img = capture([file('A')]);
	assert.is(img.capture.backend, hasKmod ? 'kmod' : isRoot ? 'kpageflags' : 'mincore');
});

testUnless(hasKmod ? 'the module is loaded here' : null, backends, 'a backend asked for and missing fails cleanly, writing nothing', () => {
	const r = runCaptureTool(['--backend', 'kmod', file('A')]);
	assert.is(r.code, 1);
	assert.is(r.stdout.length, 0);
	assert.match(r.stderr, /kmod was asked for and is not usable/);
	const env = runCaptureTool([file('A')], { HOTCACHE_BACKEND: 'kmod' });
	assert.is(env.code, 1, 'HOTCACHE_BACKEND forces the backend too');
});

/** Starts `sh` running the reader as its child; resolves once the reader counts. */
async function startTree(args: string[], counter: string): Promise<{ shell: number; reader: number; stop: () => void }> {
	const child = spawn('/bin/sh', ['-c', `"${readerTool}" "$@" & wait`, 'sh', ...args], { stdio: 'ignore' });
	const shell = child.pid!;
	let reader = 0;
	const stop = () => {
		for (const pid of [reader, shell]) {
			try {
				if (pid) process.kill(pid, 'SIGKILL');
			} catch {
				// already gone
			}
		}
	};
	for (let i = 0; i < 800; i++) {
		await new Promise((r) => setTimeout(r, 25));
		if (!reader) reader = Number(readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/)[0] ?? 0);
		if (readFileSync(counter).readBigUInt64LE(0) > 0n) return { shell, reader, stop };
	}
	stop();
	throw new Error('the reader never started counting');
}

backends('a process tree: open fds with offsets, mappings, untouched files', async () => {
	buildFixtures();
	const tree = ['A2', 'B2', 'C2', 'D2'];
	for (const name of tree) {
		writeFile(file(name), 64 * PAGE);
		await evict(file(name));
	}
	writeFileSync(file('counter'), Buffer.alloc(8));
	const { shell, reader, stop } = await startTree(['-a', file('A2'), '-b', file('B2'), '-c', file('C2'), '-d', file('D2'), '-n', file('counter'), '-i', '20'], file('counter'));
	try {
		const img = capture(['--pid', String(shell)]);
		assert.is(img.capture.rootPid, shell);
		assert.is(img.capture.ownRoot, false);
		const a = byName(img, 'A2');
		assert.is(a.fds.length, 1);
		assert.is(a.fds[0]!.pid, reader, 'the fd belongs to the child: the tree was walked');
		assert.ok(a.fds[0]!.offset >= 32 * PAGE, `A's offset ${a.fds[0]!.offset} is past its middle`);
		assert.is(byName(img, 'B2').fds[0]!.offset, 64 * PAGE, 'B was read to its end');
		const c = byName(img, 'C2');
		assert.is(c.fds.length, 1);
		assert.is(pageCounts(c).resident, 0);
		const d = byName(img, 'D2');
		assert.is(d.mapped, true);
		assert.is(d.fds.length, 0);
		assert.ok(pageCounts(d).resident >= 64 - lostPages(64), 'D was read through its mapping');
		assert.is(pageCounts(d).warm, pageCounts(d).resident, 'pages the reader has mapped are at least warm');
		assert.ok(byName(img, 'counter').mapped);
		assert.ok(img.files.some((f) => f.path === readerTool && f.mapped), 'the program itself is mapped');
		assert.is(new Set(img.files.map((f) => `${f.identity.dev}:${f.identity.inode}`)).size, img.files.length, 'each file once');
	} finally {
		stop();
	}
});

testUnless(isRoot ? null : 'chroot needs root', backends, 'a process with its own root: paths as it sees them, own_root set', async () => {
	buildFixtures();
	const root = file('root');
	mkdirSync(path.join(root, 'data'), { recursive: true });
	copyFileSync(readerTool, path.join(root, 'reader'));
	writeFile(path.join(root, 'data/A'), 16 * PAGE);
	writeFileSync(path.join(root, 'data/counter'), Buffer.alloc(8));
	const child = spawn('chroot', [root, '/reader', '-a', '/data/A', '-n', '/data/counter', '-i', '20'], { stdio: 'ignore' });
	try {
		for (let i = 0; i < 800 && readFileSync(path.join(root, 'data/counter')).readBigUInt64LE(0) === 0n; i++) await new Promise((r) => setTimeout(r, 25));
		const img = capture(['--pid', String(child.pid)]);
		assert.is(img.capture.ownRoot, true);
		assert.equal(img.files.map((f) => f.path).sort(), ['/data/A', '/data/counter', '/reader']);
	} finally {
		child.kill('SIGKILL');
	}
});

// Unprivileged, /proc/PID/map_files cannot be followed: mapped files are resolved by path inside the
// task's root, and the path may name another file by now (here a bind mount over it, in a private
// mount and pid namespace that take the reader with them when the script ends).
const swapScript = String.raw`
nobody="setpriv --reuid 65534 --regid 65534 --clear-groups"
$nobody "$READER" -d "$DIR/d" -n "$DIR/counter" -i 20 </dev/null >/dev/null &
r=$!
i=0
until grep -q "$DIR/counter" /proc/$r/maps 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 400 ] || { echo "the reader never mapped its counter" >&2; exit 1; }
	sleep 0.025
done
mount --bind "$DIR/other" "$DIR/counter" || exit 1
$nobody "$CAPTURE" --backend mincore --pid $r
`;
testUnless(isRoot ? null : 'switching users and bind mounts need root', backends, 'without map_files: a mapped file is opened by path only while the path is still that file', async () => {
	buildFixtures();
	const dir = file('unpriv');
	mkdirSync(dir);
	writeFile(path.join(dir, 'd'), 64 * PAGE);
	writeFileSync(path.join(dir, 'counter'), Buffer.alloc(8));
	writeFileSync(path.join(dir, 'other'), Buffer.alloc(4 * PAGE));
	for (const name of ['d', 'counter', 'other']) chownSync(path.join(dir, name), 65534, 65534);
	for (const d of [scratch.dir, dir]) chmodSync(d, 0o755);
	const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--mount-proc', 'sh', '-c', swapScript], {
		env: { ...process.env, DIR: dir, READER: readerTool, CAPTURE: captureTool },
		maxBuffer: 16 << 20,
		timeout: 60_000,
	});
	assert.is(r.status, 0, r.stderr.toString());
	const img = decodeImage(r.stdout);
	const d = img.files.find((f) => f.path === path.join(dir, 'd'));
	assert.ok(d?.mapped, 'the mapped file whose path still names it is captured by path');
	assert.ok(pageCounts(d!).resident >= 64 - lostPages(64), 'with its pages');
	const paths = img.files.map((f) => f.path);
	assert.not.ok(paths.includes(path.join(dir, 'counter')), 'the counter, whose path now names another file, is left out');
	assert.not.ok(paths.includes(path.join(dir, 'other')), 'and the file now at its path is not taken for it');
	assert.match(r.stderr.toString(), /counter of \d+ is no longer the mapped file/);
});

// The capture skips the file systems the prefetcher refuses: one list (the contract's). mqueue was not on
// the capture's own list before it was shared; proc was on both.
testUnless(isRoot ? null : 'mounting mqueue needs root', backends, 'files on a refused file system are left out of the capture, others kept', () => {
	const dir = file('refused');
	mkdirSync(dir);
	const script = 'mkdir "$D/mq" && mount -t mqueue none "$D/mq" && : >"$D/mq/queue" && exec "$CAPTURE" --backend mincore "$D/mq/queue" /proc/self/status "$A"';
	const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
		env: { ...process.env, D: dir, A: file('A'), CAPTURE: captureTool, HOTCACHE_VERBOSE: '2' },
		maxBuffer: 16 << 20,
	});
	assert.is(r.status, 0, r.stderr.toString());
	assert.equal(decodeImage(r.stdout).files.map((f) => f.path), [file('A')]);
	assert.match(r.stderr.toString(), /skipping .*\/mq\/queue: on mqueue/);
	assert.match(r.stderr.toString(), /skipping \/proc\/\d+\/status: on proc/);
});

backends('hotcache scan --json: the same capture through the CLI', () => {
	const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'scan', ...args], { encoding: 'utf8' });
	const r = cli('--json', '--backend', 'mincore', file('A'), file('C'));
	assert.is(r.status, 0, r.stderr);
	const view = JSON.parse(r.stdout) as { backend: string; files: { path: string; sizePages: number; resident: number; hot: number; ranges: { class: string }[] }[] };
	assert.is(view.backend, 'mincore');
	assert.equal(view.files.map((f) => [f.path, f.sizePages]), [[file('A'), SIZE], [file('C'), 64]]);
	assert.ok(view.files[0]!.resident >= readA.length - lostPages(readA.length));
	assert.ok(view.files[0]!.ranges.every((x) => x.class === 'resident'));
	assert.is(cli('--backend', 'bogus', file('A')).status, 2);
	assert.is(cli(file('A'), '--pid', '1').status, 2);
	const missing = cli('--json', file('nonexistent'));
	assert.is(missing.status, 1);
	assert.match(missing.stdout, /"code":"capture-failed"/);
});

backends.run();
