// A measurement, not a test: what the cgroup scope costs without the module (the walk of what a container
// sees, each cached file's pages checked against /proc/kpagecgroup), beside the tree scope, on a container
// root of tens of thousands of files. The root is a cached Debian trixie root file system (the kernel
// build tree of the VM tests: gcc, headers, ~26 000 entries; or ROOTFS_DIR), seen by a process chrooted
// into it in a memory cgroup of its own, as a plain directory and through overlayfs (as podman and docker
// containers see theirs); the process (test/fixtures/cycler) opens, reads and closes one regular file in
// 20 of the root and holds none open. Each round captures it with every variant in turn; printed per
// layout and variant: capture time (wall, median and range), the image's files and bytes, and the walk's
// counts. Run as root after `npm ci`:
//   node dist/tools/bench/scope-cost.js [ROUNDS] [ROOTFS_DIR]
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { native } from '../../hooks/native.js';
import { decodeImage } from '../../proto/image.js';
import { builtFile, projectRoot } from '../project.js';
import { ensureRootfs } from '../testenv/rootfs.js';
import { KERNEL_TARGETS } from '../vm/kernels.js';

const rounds = Number(process.argv[2] ?? 5);
const capture = builtFile('capture');
const cycler = path.join(projectRoot, 'test/fixtures/out/cycler');
const EVERY = 20;

interface Variant {
	name: string;
	args: string[];
}
const VARIANTS: Variant[] = [
	{ name: 'tree', args: ['--scope', 'tree'] },
	{ name: 'cgroup, walk + kpageflags', args: ['--scope', 'cgroup', '--backend', 'kpageflags'] },
	{ name: 'cgroup, walk + mincore', args: ['--scope', 'cgroup', '--backend', 'mincore'] },
];

interface Sample {
	ms: number;
	files: number;
	bytes: number;
	walk: string;
	partial: string;
}

/** Regular files of `root`, sorted walk, not crossing into other file systems. */
function regularFiles(root: string): { all: number; files: string[] } {
	const files: string[] = [];
	let all = 0;
	const dev = statSync(root).dev;
	const walk = (dir: string): void => {
		for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
			all++;
			const full = path.join(dir, e.name);
			if (e.isDirectory() && statSync(full).dev === dev) walk(full);
			else if (e.isFile() && statSync(full).size > 0) files.push(full.slice(root.length));
		}
	};
	walk(root);
	return { all, files };
}

function memoryHierarchy(): string {
	for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
		const [before, after] = line.split(' - ');
		const point = before?.split(' ')[4];
		const [type, , options] = after?.split(' ') ?? [];
		if (point && type === 'cgroup' && options?.split(',').includes('memory')) return point;
		if (point && type === 'cgroup2') return point;
	}
	throw new Error('no memory cgroup hierarchy');
}

// In a private mount namespace: the root (a read-only bind, or an overlay on it), a tmpfs on its /tmp for
// the cycler and its round marker, then a chroot from the container's cgroup.
const START = String.raw`
set -e
if [ "$LAYOUT" = overlay ]; then
	mkdir -p "$SCRATCH/upper" "$SCRATCH/work"
	mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$SCRATCH/upper,workdir=$SCRATCH/work" "$ROOT"
else
	mount --bind "$ROOTFS" "$ROOT"
	mount -o remount,bind,ro "$ROOT"
fi
mount -t tmpfs none "$ROOT/tmp"
cp "$CYCLER" "$ROOT/tmp/cycler"
echo $$ > "$CGROUP/cgroup.procs"
exec chroot "$ROOT" /tmp/cycler -r /tmp/round -i 600000 "$@"
`;

async function evict(files: string[]): Promise<void> {
	for (const f of files) {
		const fd = openSync(f, 'r');
		await native().fadvise(fd, 0, 0, native().advice.DONTNEED);
		closeSync(fd);
	}
}

function run(pid: number, variant: Variant): Sample {
	const t0 = performance.now();
	const r = spawnSync(capture, [...variant.args, '--pid', String(pid)], { env: { ...process.env, HOTCACHE_VERBOSE: '1', HOTCACHE_TIME_LIMIT_MS: '0' }, maxBuffer: 256 << 20 });
	const ms = performance.now() - t0;
	if (r.status !== 0) throw new Error(`hotcache-capture ${variant.args.join(' ')}: ${r.stderr.toString()}`);
	const image = decodeImage(r.stdout);
	const walk = /cgroup scope \S+: (walked [^;]*)/.exec(r.stderr.toString())?.[1] ?? '';
	return { ms, files: image.files.length, bytes: r.stdout.length, walk, partial: image.capture.partial ? image.capture.partialReason : '' };
}

async function layout(name: 'directory' | 'overlay', rootfs: string, working: string[]): Promise<void> {
	const scratch = mkdtempSync('/var/tmp/hotcache-scope-cost-');
	const root = path.join(scratch, 'root');
	mkdirSync(root);
	const cgroup = path.join(memoryHierarchy(), `hotcache-scope-cost-${process.pid}-${name}`);
	mkdirSync(cgroup);
	// Pages cached by earlier reads are charged to their cgroups: the container must read its files itself.
	await evict(working.map((f) => rootfs + f));
	const child = spawn('unshare', ['--mount', '--propagation', 'private', '--fork', 'sh', '-c', START, 'start', ...working], {
		env: { ...process.env, LAYOUT: name, ROOTFS: rootfs, ROOT: root, SCRATCH: scratch, CGROUP: cgroup, CYCLER: cycler },
		stdio: ['ignore', 'ignore', 'inherit'],
	});
	try {
		let pid = 0;
		for (let i = 0; i < 2400 && !pid; i++) {
			await new Promise((r) => setTimeout(r, 25));
			const procs = readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
			if (procs.length === 1 && existsSync(`/proc/${procs[0]}/root/tmp/round`)) pid = procs[0]!;
		}
		if (!pid) throw new Error(`${name}: the container never went round its loop`);
		const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v.name, []]));
		for (let i = 0; i < rounds; i++) for (const v of VARIANTS) samples.get(v.name)!.push(run(pid, v));
		for (const [variant, xs] of samples) {
			const ms = xs.map((x) => x.ms).sort((a, b) => a - b);
			const last = xs.at(-1)!;
			process.stdout.write(
				`${name}, ${variant}: ${ms[Math.floor(ms.length / 2)]!.toFixed(0)} ms (${ms[0]!.toFixed(0)}-${ms.at(-1)!.toFixed(0)}; first ${xs[0]!.ms.toFixed(0)}), ` +
					`${last.files} files, ${last.bytes} bytes${last.walk ? `; ${last.walk}` : ''}${last.partial ? `; partial: ${last.partial}` : ''}\n`,
			);
		}
	} finally {
		for (let tries = 0; tries < 100 && existsSync(cgroup); tries++) {
			for (const p of readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(p), tries ? 'SIGKILL' : 'SIGTERM');
			try {
				rmdirSync(cgroup);
			} catch {
				await new Promise((r) => setTimeout(r, 50));
			}
		}
		// unshare exits with the container's last process.
		if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
		rmSync(scratch, { recursive: true, force: true });
	}
}

const rootfs = process.argv[3] ?? (await ensureRootfs(KERNEL_TARGETS.at(-1)!.rootfs));
spawnSync('make', ['-s', '-C', path.join(projectRoot, 'test/fixtures')], { stdio: 'inherit' });
const { all, files } = regularFiles(rootfs);
const working = files.filter((_, i) => i % EVERY === 0);
const bytes = working.reduce((n, f) => n + statSync(rootfs + f).size, 0);
process.stdout.write(`${rootfs}: ${all} entries, ${files.length} regular files; the container reads ${working.length} of them (${(bytes / 2 ** 20).toFixed(1)} MiB) in a loop; ${rounds} rounds\n`);
for (const name of ['directory', 'overlay'] as const) await layout(name, rootfs, working);
