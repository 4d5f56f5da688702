// Round trips through real container runtimes (runc, crun, podman, LXC, Incus) in the runtimes root
// file system (tools/testenv/rootfs.ts): no nodejs there, criu-hotcache set up by nothing but
// `hotcache install`, a reader whose hot file lives in the container's own root (/A) and whose
// warm file and counter live in a bind-mounted volume (/data/B, /data/counter).
//
// Only the test bundles are adapted to this machine: the host's hard rlimits (nofile 20000) are
// below podman's defaults, so the containers ask for less; every cgroup a runtime makes carries the
// run's own token in its name and is removed afterwards.
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../tools/project.js';
import { ensureRootfs, runInRootfs, RUNTIMES_ROOTFS, skipReason, type RunResult } from '../tools/testenv/index.js';
import { privateNodePath } from '../tools/bundle/private-node.js';
import { missingPieces } from '../tools/bundle/self-contained.js';
import { buildFixtures, HELPER, PAGE, pluginFile, readerTool, residentAgain, residentEnough, scratchDir, value, writeFile } from './support.js';

export const A_BYTES = 16 << 20;
export const B_BYTES = 8 << 20;
const A_PAGES = A_BYTES / PAGE;
const B_PAGES = B_BYTES / PAGE;
/** The reader's command line inside the container: A hot in its root, B warm in the volume. */
export const READER_ARGS = ['/reader', '-a', '/A', '-b', '/data/B', '-n', '/data/counter', '-i', '10'];

/** Why the runtime tests cannot run here, or null. */
export function runtimesSkip(): string | null {
	const env = skipReason();
	if (env) return env;
	if (!existsSync(pluginFile)) return `the plugin is not built (${pluginFile}; npm ci builds it)`;
	const missing = missingPieces();
	if (missing.length) return `the self-contained prefetcher is not built (${missing.join(', ')}; npm ci builds it)`;
	if (!existsSync(privateNodePath())) return `no private Node (${privateNodePath()}): npm ci could not fetch it`;
	buildFixtures();
	return null;
}

export interface Workload {
	/** The run's directory on a real disk (bound at the same path inside). */
	work: string;
	/** The container's own root: the static reader and A. */
	root: string;
	/** The volume bound at /data: B and the counter. */
	vol: string;
	/** In every global name the run makes (cgroups, containers): unique per run. */
	token: string;
}

export function makeWorkload(runtime: string): Workload {
	const work = scratchDir(runtime).dir;
	const token = `hc${process.pid}${path.basename(work).slice(-6).toLowerCase().replace(/[^a-z0-9]/g, '')}`;
	const root = path.join(work, 'root');
	const vol = path.join(work, 'vol');
	for (const dir of ['proc', 'dev', 'sys', 'data', 'tmp']) mkdirSync(path.join(root, dir), { recursive: true });
	mkdirSync(vol);
	copyFileSync(readerTool, path.join(root, 'reader'));
	writeFile(path.join(root, 'A'), A_BYTES);
	writeFile(path.join(vol, 'B'), B_BYTES);
	writeFileSync(path.join(vol, 'counter'), Buffer.alloc(8));
	writeFileSync(path.join(work, 'helper.mjs'), HELPER);
	return { work, root, vol, token };
}

/**
 * The shell every runtime script starts with: no node on PATH, criu-hotcache installed by
 * `hotcache install` (run by the build's private Node, as an operator would run it with any Node),
 * and `h`, the residency helper, run by that same private Node.
 */
function prelude(w: Workload, installArgs: string[]): string {
	const node = privateNodePath();
	return `
set -eu
W=${w.work} R=${w.root} V=${w.vol} T=${w.token}
h() { ${node} "$W/helper.mjs" "$@"; }
if command -v node >/dev/null 2>&1; then echo "node is on PATH: $(command -v node)"; exit 20; fi
${node} ${path.join(projectRoot, 'tools/hotcache.js')} install ${installArgs.join(' ')} 2>&1
`;
}

/** Prints what the checks below read: the counter before and after, and residency of A and B. */
export function afterRestore(hostA: string, volumeWaitMs: number): string {
	return `
h wait-resident "${hostA}" ${A_PAGES} ${residentEnough(A_PAGES)} 10000
h wait-resident "$V/B" ${B_PAGES} ${residentEnough(B_PAGES)} ${volumeWaitMs}
sleep 0.3
echo "after=$(h counter "$V/counter")"
`;
}

/** Evicts A (at its host path) and B, and records the counter at the dump. */
export function coldCache(hostA: string): string {
	return `
h evict "${hostA}" "$V/B"
echo "dumped=$(h counter "$V/counter")"
`;
}

export interface Restore {
	dir: string;
	status: string;
	record: Record<string, unknown>[];
	prefetcherPid: boolean;
}

export interface RuntimeRun {
	result: RunResult;
	out: string;
	/** Every restore directory the run's state directory (/var/lib/criu-hotcache, as installed) holds. */
	restores: Restore[];
}

function readRestores(stateDir: string): Restore[] {
	const dir = path.join(stateDir, 'restores');
	if (!existsSync(dir)) return [];
	return readdirSync(dir).map((name) => {
		const at = (f: string) => path.join(dir, name, f);
		const text = (f: string) => (existsSync(at(f)) ? readFileSync(at(f), 'utf8') : '');
		return {
			dir: name,
			status: text('status').trim(),
			record: text('record.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
			prefetcherPid: existsSync(at('prefetcher.pid')),
		};
	});
}

/** Removes, deepest first, every cgroup directory whose name holds the run's token, in every hierarchy. */
async function removeCgroups(token: string): Promise<void> {
	const found: string[] = [];
	const walk = (dir: string, depth: number) => {
		let entries;
		try {
			entries = readdirSync(dir, { withFileTypes: true });
		} catch {
			return;
		}
		for (const e of entries) {
			if (!e.isDirectory()) continue;
			const sub = path.join(dir, e.name);
			if (e.name.includes(token)) found.push(sub);
			else if (depth < 3) walk(sub, depth + 1);
		}
	};
	walk('/sys/fs/cgroup', 0);
	for (const top of found) {
		const dirs: string[] = [];
		const collect = (d: string) => {
			dirs.push(d);
			for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) collect(path.join(d, e.name));
		};
		try {
			collect(top);
		} catch {
			continue;
		}
		for (const d of dirs.reverse()) await removeCgroup(d);
	}
}

/**
 * rmdir of a cgroup fails with EBUSY while a process in it is still exiting: the namespace's
 * processes are killed with it, but reaped a little later. Tried for up to 5 s.
 */
async function removeCgroup(dir: string): Promise<void> {
	for (let tries = 0; ; tries++) {
		try {
			rmdirSync(dir);
			return;
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || tries >= 100) return;
		}
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/** Runs `body` after the prelude in the runtimes rootfs, entered as an overlay with the host's cgroups. */
export interface RuntimeOptions {
	/** Extra arguments to `hotcache install`; null: no install (the test installs its own way). */
	installArgs?: string[] | null;
	/** More host directories bound at the same path. */
	binds?: string[];
	timeoutMs?: number;
}

export async function runRuntime(w: Workload, body: string, opts: RuntimeOptions = {}): Promise<RuntimeRun> {
	const rootfs = await ensureRootfs(RUNTIMES_ROOTFS);
	const overlay = path.join(w.work, 'overlay');
	const script = opts.installArgs === null ? `set -eu\nW=${w.work} T=${w.token}\n` : prelude(w, opts.installArgs ?? []);
	try {
		const result = await runInRootfs(rootfs, script + body, {
			binds: [w.work, ...(opts.binds ?? [])],
			overlay,
			hostCgroups: true,
			timeoutMs: opts.timeoutMs ?? 240_000,
		});
		const out = `${result.stdout}\n${result.stderr}`;
		return { result, out, restores: readRestores(path.join(overlay, 'upper/var/lib/criu-hotcache')) };
	} finally {
		await removeCgroups(w.token);
	}
}


export interface Expect {
	/** The file in the container's root, at its host path (what wait-resident watched). */
	hostA: string;
	/** The volume's file, at its host path. */
	hostB: string;
}

/**
 * The checks every round trip shares: the process runs on, exactly one prefetcher ran for the one
 * restore and fetched from a cold cache, the file in the container's root came back, and so did the
 * volume's (mounted inside the restored mount namespace: found through the restored init's root).
 */
export function checkRoundTrip(run: RuntimeRun, expect: Expect): Restore {
	const { result, out, restores } = run;
	const show = `\n${out.slice(-6000)}`;
	assert.is(result.code, 0, `the runtime script failed (exit ${result.code}${result.timedOut ? ', timed out' : ''}):${show}`);
	assert.ok(value(out, 'after') > value(out, 'dumped'), `the restored reader made no progress:${show}`);
	assert.is(restores.length, 1, `one restore directory, one prefetcher: ${JSON.stringify(restores.map((r) => r.dir))}${show}`);
	const restore = restores[0]!;
	assert.ok(restore.prefetcherPid, 'the prefetcher ran (prefetcher.pid)');
	assert.match(restore.status, /^hotcache: prefetch done: [1-9]\d* pages fetched/, `fetched from a cold cache: ${restore.status}: ${JSON.stringify(restore.record.filter((e) => e.kind !== 'chunk'))}`);
	const files = restore.record.filter((e) => e.kind === 'file').map((e) => e.path);
	const skips = restore.record.filter((e) => e.kind === 'skip') as { path: string; reason: string }[];
	assert.ok(files.includes('/A'), `/A (the container's root) was planned: ${JSON.stringify(restore.record.filter((e) => e.kind !== 'chunk'))}`);
	assert.ok(residentAgain(out, expect.hostA), `A is not resident again:${show}`);
	assert.ok(files.includes('/data/B'), `/data/B (the volume) was planned: ${JSON.stringify(skips)}`);
	assert.ok(residentAgain(out, expect.hostB), `B is not resident again:${show}`);
	return restore;
}


/**
 * An OCI bundle's config.json for runc and crun, as `runc spec` makes it, with the reader (or `args`) as
 * the process, the volume bound at /data and a cgroup named after the run. RLIMIT_NOFILE stays at 1024,
 * below this machine's hard limit (a runtime cannot raise a hard limit here).
 */
export function writeOciBundle(w: Workload, args: string[] = READER_ARGS): string {
	const bundle = path.join(w.work, 'bundle');
	mkdirSync(bundle, { recursive: true });
	const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
	const config = {
		ociVersion: '1.0.2',
		process: {
			terminal: false,
			user: { uid: 0, gid: 0 },
			args,
			env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
			cwd: '/',
			capabilities: { bounding: caps, effective: caps, permitted: caps },
			rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
			noNewPrivileges: true,
		},
		root: { path: w.root, readonly: true },
		hostname: w.token,
		mounts: [
			{ destination: '/proc', type: 'proc', source: 'proc' },
			{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
			{ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
			{ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
			{ destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
			{ destination: '/data', type: 'bind', source: w.vol, options: ['rbind', 'rw'] },
		],
		linux: {
			cgroupsPath: `/${w.token}`,
			resources: { devices: [{ allow: false, access: 'rwm' }] },
			namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
			maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
			readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
		},
	};
	writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config, null, 1));
	return bundle;
}
