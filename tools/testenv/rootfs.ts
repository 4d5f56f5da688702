// A cached Debian root file system for running real CRIU: the host's own criu (bookworm, 3.17) fails on
// this kernel, trixie's 4.1.1 works (research/environment.md). Keyed by its package list, rebuilt when missing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { debianMirror, ensureHostPackages } from '../setup/debian.js';
import { withLock } from './lock.js';

export interface RootfsSpec {
	/** Short name, part of the cache directory's name. */
	name: string;
	suite: string;
	packages: string[];
}

/**
 * What the tests need inside: criu 4.1.1, node to run our hooks, ps/pgrep-free process tools; sshd, ssh
 * and ip for `hotcache migrate` over a real ssh in a network namespace of the test's own.
 */
export const TEST_ROOTFS: RootfsSpec = {
	name: 'test',
	suite: 'trixie',
	packages: ['criu', 'nodejs', 'procps', 'openssh-server', 'openssh-client', 'iproute2'],
};

/**
 * The container runtimes, beside criu, in a tree of their own so that the base one stays small. No
 * nodejs: the runtime tests also show that an installed prefetcher needs no Node on the host's PATH.
 * crun needs libcriu2; CRIU's network lock needs iptables; incus-base is Incus without its VM side.
 */
export const RUNTIMES_ROOTFS: RootfsSpec = {
	name: 'runtimes',
	suite: 'trixie',
	packages: ['criu', 'procps', 'iptables', 'runc', 'crun', 'libcriu2', 'podman', 'conmon', 'lxc', 'incus-base', 'incus-client'],
};

/** Root of every cache the project keeps on the host (rootfs trees, VM kernels). */
export function cacheDir(): string {
	return process.env.HOTCACHE_CACHE_DIR ?? '/var/cache/criu-hotcache';
}

function specKey(spec: RootfsSpec): string {
	const canonical = JSON.stringify({ suite: spec.suite, variant: 'minbase', packages: [...spec.packages].sort(), layout: 1 });
	return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

export function rootfsPath(spec: RootfsSpec = TEST_ROOTFS): string {
	return path.join(cacheDir(), 'rootfs', `${spec.suite}-${spec.name}-${specKey(spec)}`);
}

const READY = '.hotcache-rootfs-ready';

/** Returns the rootfs directory, building it first when it is missing or incomplete (about a minute). */
export async function ensureRootfs(spec: RootfsSpec = TEST_ROOTFS): Promise<string> {
	const target = rootfsPath(spec);
	if (existsSync(path.join(target, READY))) return target;
	mkdirSync(path.dirname(target), { recursive: true });
	return withLock(`${target}.lock`, async () => {
		if (existsSync(path.join(target, READY))) return target;
		ensureHostPackages([{ name: 'debootstrap', provides: '/usr/sbin/debootstrap' }]);
		const staging = `${target}.building`;
		rmSync(staging, { recursive: true, force: true });
		rmSync(target, { recursive: true, force: true });
		const started = Date.now();
		await debootstrap(spec, staging);
		writeFileSync(path.join(staging, READY), JSON.stringify({ spec, builtMs: Date.now() - started }) + '\n');
		renameSync(staging, target);
		return target;
	});
}

/** How long the cached rootfs took to build, from its ready marker (for the README's numbers). */
export function rootfsBuildMs(spec: RootfsSpec = TEST_ROOTFS): number | null {
	const marker = path.join(rootfsPath(spec), READY);
	if (!existsSync(marker)) return null;
	return (JSON.parse(readFileSync(marker, 'utf8')) as { builtMs: number }).builtMs;
}

/**
 * debootstrap in a private mount namespace: whatever it mounts inside the target (proc, sys)
 * disappears with the namespace, so a failed build never leaves a mount behind to trip `rm -rf`.
 */
function debootstrap(spec: RootfsSpec, dir: string): Promise<void> {
	const args = [
		'-m', '--propagation', 'private', '--kill-child', '--',
		'debootstrap', '--variant=minbase', `--include=${spec.packages.join(',')}`, spec.suite, dir, debianMirror(),
	];
	return new Promise((resolve, reject) => {
		const child = spawn('unshare', args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let log = '';
		const keep = (chunk: Buffer) => {
			log = (log + chunk.toString()).slice(-8000);
		};
		child.stdout.on('data', keep);
		child.stderr.on('data', keep);
		child.on('error', reject);
		child.on('close', (code, signal) => {
			if (code === 0) resolve();
			else reject(new Error(`debootstrap of ${spec.suite} failed (${signal ?? `exit ${code}`}):\n${log}`));
		});
	});
}
