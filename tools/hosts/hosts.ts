// Two emulated hosts on one machine that share storage but not page caches (research/performance.md):
// one ext4 image attached twice as read-only direct-I/O loop devices, so each attachment has its own
// page cache and neither reads through the image file's. The source is the caller's mount namespace,
// with the first device at `mountPoint`; the destination is a mount namespace of its own, held open by
// a `sleep` (its pid is the way in: `nsenter -t PID -m --`), where the same path is the second device.
// Each host's link to the storage is its device's limit in one blkio group (link.ts).
//
// Runs where CRIU runs (inside the test environment: tools/testenv). Everything it makes carries the
// caller's unique name or is undone by exact device, path and pid; the loop devices are detached as
// soon as they are mounted (they then go away with their last mount, even when the namespace dies).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { blkioRoot, createLink, deviceNumber, joinLink, removeLink, type LinkLimit } from './link.js';
import { execCommand } from '../vm/exec.js';

export interface HostsSpec {
	/** Unique (hotcache-...): the blkio group's name. */
	name: string;
	/** The shared storage: an ext4 image file (storage.ts). */
	storage: string;
	/** Where both hosts see the storage. */
	mountPoint: string;
	/** Each host's link to the storage. */
	link: LinkLimit;
	/** Directories each host has its own of (an empty tmpfs each): a state directory, images. */
	local: string[];
	/** Processes put on the links (their children inherit them). */
	join: number[];
}

export interface Hosts {
	spec: HostsSpec;
	source: { loop: string; device: string };
	destination: { loop: string; device: string; pid: number };
	/** The blkio group's directory, or null when no limit was asked for. */
	cgroup: string | null;
	/** The blkio hierarchy's root, and whether we mounted it there. */
	blkio: { dir: string; mounted: boolean } | null;
}

const PLAIN_PATH = /^\/[\w./-]*$/;

function checkPath(p: string, what: string): string {
	if (!PLAIN_PATH.test(p) || p.split('/').includes('..')) throw new Error(`${what} ${JSON.stringify(p)} must be an absolute path of plain characters`);
	return p;
}

/** The destination's mount namespace: the second device at the mount point, fresh local directories. */
const DESTINATION = `
set -e
dev=$1 mnt=$2
shift 2
umount "$mnt"
mount -o ro "$dev" "$mnt"
for dir; do mount -t tmpfs -o mode=0700 tmpfs "$dir"; done
echo ready
exec sleep infinity
`;

/** Starts the destination's namespace holder; resolves to its pid once its mounts are in place. */
async function startDestination(loop: string, mountPoint: string, local: string[]): Promise<number> {
	const child = spawn('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', DESTINATION, 'destination', loop, mountPoint, ...local], { stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	child.stdout.on('data', (c: Buffer) => (out += c.toString()));
	child.stderr.on('data', (c: Buffer) => (out += c.toString()));
	const ready = new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('ready\n') && resolve()));
	const exited = once(child, 'exit');
	const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 10_000, 'timeout').unref());
	const outcome = await Promise.race([ready.then(() => 'ready' as const), exited.then(() => 'exited' as const), timeout]);
	if (outcome !== 'ready') {
		if (outcome === 'timeout') child.kill('SIGKILL');
		throw new Error(`the destination's mount namespace did not come up (${outcome}): ${out.trim()}`);
	}
	child.stdout.destroy();
	child.stderr.destroy();
	child.unref();
	return child.pid!;
}

async function attach(storage: string): Promise<string> {
	return (await execCommand('losetup', ['--direct-io=on', '-r', '-f', '--show', storage])).stdout.trim();
}

export async function setUpHosts(spec: HostsSpec): Promise<Hosts> {
	checkPath(spec.mountPoint, 'mount point');
	for (const dir of spec.local) checkPath(dir, 'local directory');
	const undo: (() => Promise<unknown>)[] = [];
	try {
		const sourceLoop = await attach(checkPath(spec.storage, 'storage'));
		undo.push(() => execCommand('losetup', ['-d', sourceLoop]));
		const destLoop = await attach(spec.storage);
		undo.push(() => execCommand('losetup', ['-d', destLoop]));
		mkdirSync(spec.mountPoint, { recursive: true });
		await execCommand('mount', ['-o', 'ro', sourceLoop, spec.mountPoint]);
		undo.push(() => execCommand('umount', ['-l', spec.mountPoint]));
		for (const dir of spec.local) {
			mkdirSync(dir, { recursive: true });
			await execCommand('mount', ['-t', 'tmpfs', '-o', 'mode=0700', 'tmpfs', dir]);
			undo.push(() => execCommand('umount', ['-l', dir]));
		}
		const destPid = await startDestination(destLoop, spec.mountPoint, spec.local);
		undo.push(async () => process.kill(destPid, 'SIGKILL'));
		// Mounted on both sides: detached now, each device goes away with its last mount.
		await execCommand('losetup', ['-d', sourceLoop, destLoop]);
		undo.splice(0, 2);

		const devices = [deviceNumber(sourceLoop), deviceNumber(destLoop)];
		let cgroup: string | null = null;
		let blkio: Hosts['blkio'] = null;
		if (spec.link.readBps > 0 || spec.link.readIops > 0) {
			blkio = await blkioRoot(`/run/${spec.name}-blkio`);
			const root = blkio;
			if (root.mounted) undo.push(() => execCommand('umount', [root.dir]));
			cgroup = createLink(root.dir, spec.name, devices, spec.link);
			undo.push(() => removeLink(root.dir, spec.name));
			for (const pid of spec.join) joinLink(cgroup, pid);
		}
		return { spec, source: { loop: sourceLoop, device: devices[0]! }, destination: { loop: destLoop, device: devices[1]!, pid: destPid }, cgroup, blkio };
	} catch (err) {
		await undoAll(undo);
		throw err;
	}
}

async function undoAll(undo: (() => Promise<unknown>)[]): Promise<string[]> {
	const failures: string[] = [];
	for (const step of undo.reverse()) {
		try {
			await step();
		} catch (err) {
			failures.push((err as Error).message);
		}
	}
	return failures;
}

/** True when `pid` is still the namespace holder we started (a `sleep` in another mount namespace). */
function isHolder(pid: number): boolean {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0');
	} catch {
		return false;
	}
}

/**
 * Undoes setUpHosts: the destination's holder (by pid), the source's mounts (by path), the blkio group
 * (by name; its processes go back to the root group). Processes still running in the destination's
 * namespace keep its mounts alive: stop them first. Throws listing what could not be undone.
 */
export async function tearDownHosts(hosts: Hosts): Promise<void> {
	const undo: (() => Promise<unknown>)[] = [];
	const { spec } = hosts;
	if (isHolder(hosts.destination.pid)) undo.push(async () => process.kill(hosts.destination.pid, 'SIGKILL'));
	undo.push(() => execCommand('umount', ['-l', spec.mountPoint]));
	for (const dir of spec.local) undo.push(() => execCommand('umount', ['-l', dir]));
	const blkio = hosts.blkio;
	if (blkio?.mounted) undo.push(() => execCommand('umount', [blkio.dir]));
	if (hosts.cgroup && blkio) undo.push(() => removeLink(blkio.dir, spec.name));
	// undoAll runs the steps last first: the group, then the mounts, then the holder.
	const failures = await undoAll(undo);
	if (failures.length) throw new Error(`tearing down the emulated hosts left: ${failures.join('; ')}`);
}

/** The command prefix that runs a command on the destination host. */
export function onDestination(hosts: Pick<Hosts, 'destination'>): string[] {
	return ['nsenter', '-t', String(hosts.destination.pid), '-m', '--'];
}
