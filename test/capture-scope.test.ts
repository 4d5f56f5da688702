// The capture's scopes on this machine's kernel, without CRIU (hotcache-capture; the runtime test does it
// under runc and real CRIU): a container-like process in a memory cgroup of its own, chrooted, with a
// volume, a tmpfs and proc mounted in its root, opens, reads and closes files in a loop and holds one
// open at a known offset. Scope cgroup (auto, since the cgroup is its own) records what it read and
// closed, and not a file of its volume that only a process of another cgroup read, nor its tmpfs and
// proc files; scope tree only what it holds open or mapped. Without the module here, the cgroup scope is
// the user-space walk filtered by /proc/kpagecgroup (the module's listing is tested in the VMs).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeImage, pageCounts, type HotcacheImage, type ImageFile } from '../proto/image.js';
import { buildFixtures, cyclerTool, evict, lostPages, PAGE, runCaptureTool, scratchDir, testUnless, writeFile } from './support.js';
import { projectRoot } from '../tools/project.js';

const scope = suite('capture scope');
const PAGES = 64;

/** The directory under which a test may make a memory cgroup of its own, or why it cannot. */
function memoryHierarchy(): { dir: string } | { skip: string } {
	if (process.getuid?.() !== 0) return { skip: 'memory cgroups and /proc/kpagecgroup need root' };
	if (!existsSync('/proc/kpagecgroup')) return { skip: 'no /proc/kpagecgroup (CONFIG_MEMCG and CONFIG_PROC_PAGE_MONITOR)' };
	for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
		const [before, after] = line.split(' - ');
		const point = before?.split(' ')[4];
		const [type, , options] = after?.split(' ') ?? [];
		if (point && type === 'cgroup' && options?.split(',').includes('memory')) return { dir: point };
		if (point && type === 'cgroup2' && readFileSync(path.join(point, 'cgroup.subtree_control'), 'utf8').split(/\s/).includes('memory')) return { dir: point };
	}
	return { skip: 'no memory cgroup hierarchy where a test can make a cgroup (v1 memory, or v2 with memory in the root subtree_control)' };
}

const hierarchy = memoryHierarchy();
const skip = 'skip' in hierarchy ? hierarchy.skip : null;

interface Container {
	root: string;
	volume: string;
	cgroup: string;
	/** The cycler, alone in the container's tree. */
	pid: number;
	child: ChildProcess;
}

// Inside a private mount namespace: the volume, a tmpfs and proc mounted in the root, then a chroot into it
// from the container's cgroup. The cycler (test/fixtures/cycler.c) holds /data/held open 2 pages in, and
// each round opens, reads and closes /a (twice), /b, /data/v, /shm/t (tmpfs) and /proc/self/status.
const START = String.raw`
set -e
mount --bind "$VOLUME" "$ROOT/data"
mount -t tmpfs none "$ROOT/shm"
mount -t proc proc "$ROOT/proc"
head -c 65536 /dev/urandom > "$ROOT/shm/t"
echo $$ > "$CGROUP/cgroup.procs"
exec chroot "$ROOT" /cycler -H /data/held -r /tmp/round /a /a /b /data/v /shm/t /proc/self/status
`;

async function startContainer(dir: string): Promise<Container> {
	const root = path.join(dir, 'root');
	const volume = path.join(dir, 'volume');
	for (const d of ['data', 'shm', 'proc', 'tmp']) mkdirSync(path.join(root, d), { recursive: true });
	mkdirSync(volume);
	buildFixtures();
	copyFileSync(cyclerTool, path.join(root, 'cycler'));
	for (const f of [path.join(root, 'a'), path.join(root, 'b'), path.join(root, 'c'), path.join(volume, 'v'), path.join(volume, 'held'), path.join(volume, 'other')]) {
		writeFile(f, PAGES * PAGE);
		// Written by this test, their pages are charged to its cgroup: they must come back from the disk.
		await evict(f);
	}
	const cgroup = path.join((hierarchy as { dir: string }).dir, `hotcache-scope-${process.pid}-${path.basename(dir).slice(-6)}`);
	mkdirSync(cgroup);
	const child = spawn('unshare', ['--mount', '--propagation', 'private', '--fork', 'sh', '-c', START], {
		env: { ...process.env, ROOT: root, VOLUME: volume, CGROUP: cgroup },
		stdio: 'ignore',
	});
	const round = path.join(root, 'tmp/round');
	for (let i = 0; i < 400 && !existsSync(round); i++) await new Promise((r) => setTimeout(r, 25));
	const procs = readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
	assert.ok(existsSync(round) && procs.length === 1, `the container never went round its loop (processes ${procs.join(', ')})`);
	// A process of another cgroup (this test's) reads a file of the container's volume.
	readFileSync(path.join(volume, 'other'));
	return { root, volume, cgroup, pid: procs[0]!, child };
}

/** Kills the container's processes by their pids and removes its cgroup once they are gone. */
async function stopContainer(c: Container): Promise<void> {
	const procs = () => (existsSync(c.cgroup) ? readFileSync(path.join(c.cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number) : []);
	for (let tries = 0; tries < 100; tries++) {
		for (const p of procs()) {
			try {
				process.kill(p, 'SIGKILL');
			} catch {
				// gone meanwhile
			}
		}
		try {
			for (const sub of readdirSync(c.cgroup, { withFileTypes: true })) if (sub.isDirectory()) rmdirSync(path.join(c.cgroup, sub.name));
			rmdirSync(c.cgroup);
			return;
		} catch {
			await new Promise((r) => setTimeout(r, 50));
		}
	}
}

function capture(args: string[]): HotcacheImage {
	const r = runCaptureTool(args, { HOTCACHE_VERBOSE: '1' });
	assert.is(r.code, 0, `hotcache-capture ${args.join(' ')}: ${r.stderr}`);
	return decodeImage(r.stdout);
}

/** The cycler's fd 3 on /data/held, 2 pages in. */
function heldAsOpened(held: ImageFile, c: Container): void {
	assert.equal(held.fds, [{ pid: c.pid, fd: 3, offset: 2 * PAGE }]);
}

const paths = (img: HotcacheImage) => img.files.map((f) => f.path).sort();

function file(img: HotcacheImage, name: string): ImageFile {
	const f = img.files.find((x) => x.path === name);
	assert.ok(f, `${name} is not in the image: ${paths(img).join(', ')}`);
	return f!;
}

const scratch = scratchDir('scope');
let container: Container | null = null;
scope.before(async () => {
	if (!skip) container = await startContainer(scratch.dir);
});
scope.after(async () => {
	if (container) await stopContainer(container);
	scratch.remove();
});

testUnless(skip, scope, 'scope auto on a container: what its memory cgroup read and closed, the open file with its offset, nothing of other cgroups, of tmpfs or of proc', () => {
	const c = container!;
	const img = capture(['--pid', String(c.pid)]);
	assert.is(img.capture.scope, 'cgroup');
	assert.is(img.capture.cgroup, c.cgroup);
	assert.is(img.capture.ownRoot, true);
	for (const name of ['/a', '/b', '/data/v']) {
		const f = file(img, name);
		assert.ok(pageCounts(f).resident >= PAGES - lostPages(PAGES), `${name}: ${pageCounts(f).resident} of ${PAGES} pages`);
		assert.is(f.fds.length, 0, `${name} is closed`);
	}
	heldAsOpened(file(img, '/data/held'), c);
	assert.ok(file(img, '/cycler').mapped, 'the mapped program keeps its mapping');
	const left = paths(img).filter((p) => ['/c', '/data/other', '/shm/t'].includes(p) || p.startsWith('/proc/'));
	assert.equal(left, [], 'never read by the container, read by another cgroup, on tmpfs or on proc');
});

testUnless(skip, scope, 'scope tree on the same container: only what it holds open or mapped', () => {
	const c = container!;
	const img = capture(['--pid', String(c.pid), '--scope', 'tree']);
	assert.is(img.capture.scope, 'tree');
	assert.is(img.capture.cgroup, '');
	assert.equal(paths(img), ['/cycler', '/data/held']);
	heldAsOpened(file(img, '/data/held'), c);
});

testUnless(skip, scope, 'hotcache-capture --cgroup DIR: the pages charged to the cgroup, through the eyes of its first process', () => {
	const c = container!;
	const img = capture(['--cgroup', c.cgroup]);
	assert.is(img.capture.scope, 'cgroup');
	for (const name of ['/a', '/b', '/data/v', '/data/held']) assert.is(file(img, name).fds.length, 0, `${name}: no tree walked, no fds`);
	assert.not.ok(paths(img).includes('/data/other'));
	const r = runCaptureTool(['--cgroup', scratch.dir]);
	assert.is(r.code, 1, 'a directory that is not a cgroup');
	assert.match(r.stderr, /is not a cgroup directory/);
});

testUnless(skip, scope, 'hotcache scan --cgroup DIR and hotcache inspect show the scope and the memory cgroup', () => {
	const c = container!;
	const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), ...args], { encoding: 'utf8' });
	const scanned = cli('scan', '--json', '--cgroup', c.cgroup);
	assert.is(scanned.status, 0, scanned.stderr);
	const view = JSON.parse(scanned.stdout) as { scope: string; cgroup: string; files: { path: string }[] };
	assert.is(view.scope, 'cgroup');
	assert.is(view.cgroup, c.cgroup);
	assert.ok(view.files.some((f) => f.path === '/data/v'), `/data/v: ${view.files.map((f) => f.path).join(', ')}`);
	const out = path.join(scratch.dir, 'inspect');
	mkdirSync(out);
	const captured = runCaptureTool(['--pid', String(c.pid), '--out', out]);
	assert.is(captured.code, 0, captured.stderr);
	const shown = cli('inspect', out);
	assert.is(shown.status, 0, shown.stderr);
	assert.ok(shown.stdout.split('\n').includes(`scope cgroup (memory cgroup ${c.cgroup})`), shown.stdout);
	assert.is(cli('scan', '--cgroup', c.cgroup, '--scope', 'tree').status, 2, '--scope goes with --pid');
	assert.is(cli('scan', '--pid', String(c.pid), '--scope', 'wide').status, 2, 'unknown scope');
});

testUnless(skip, scope, 'scope auto on a process that shares its memory cgroup with others: the tree', () => {
	const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
	try {
		const img = capture(['--pid', String(sleeper.pid)]);
		assert.is(img.capture.scope, 'tree');
		assert.is(img.capture.cgroup, '');
		const forced = capture(['--pid', String(sleeper.pid), '--scope', 'cgroup', '--time-limit-ms', '200']);
		assert.is(forced.capture.scope, 'cgroup', 'asked for, the cgroup scope is taken even so');
	} finally {
		sleeper.kill('SIGKILL');
	}
});

testUnless(skip, scope, 'the walk stops at the time limit: the image is partial and says why', () => {
	const c = container!;
	const many = path.join(c.root, 'many');
	mkdirSync(many);
	for (let i = 0; i < 20000; i++) writeFileSync(path.join(many, String(i)), '');
	const img = capture(['--pid', String(c.pid), '--time-limit-ms', '5']);
	assert.is(img.capture.partial, true);
	assert.match(img.capture.partialReason, /time limit reached/);
});

scope.run();
