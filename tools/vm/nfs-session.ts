// One boot of the three NFS VMs (research/nfs-vms.md): srv exports the data image, src and dst mount it
// and have criu-hotcache installed from the checkout disk; src runs the plan its config gives
// (guest-nfs.sh) and powers off, then srv and dst are stopped by their pids. Each VM boots the cached
// image as a snapshot (its writes are QEMU's temporary file, gone at exit) with a job disk of its own;
// src's out/ is copied back from its job disk. The ssh key src uses to reach dst is made here for the
// session, in the scratch directory the caller removes.
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project.js';
import { shellQuote } from '../shell-quote.js';
import type { BootKit } from './boot-kit.js';
import { extractDir, makeDisk } from './disk.js';
import { execCommand } from './exec.js';
import { clientNetwork, freeLinkPorts, guestAddress, serverNetwork } from './nfs-net.js';
import { bootVm, type BootResult } from './qemu.js';
import { bootWithOneRetry, consoleShowsOops } from './retry.js';

export type NfsRole = 'srv' | 'src' | 'dst';

export interface NfsSessionSetup {
	kit: BootKit;
	/** The cached guest image (criu-guest.ts NFS_GUEST), booted as a snapshot by all three. */
	guestDisk: string;
	/** ext4 image of the export (srv's vdc). */
	exportDisk: string;
	/** ext4 image of the built checkout (the clients' vdc, read-only, at /opt/hotcache). */
	checkoutDisk: string;
	/** Variables for every VM's config (FILE: the data file under the export). */
	common: Record<string, string>;
	/** More for src: the plan and the workload. */
	plan: Record<string, string>;
	scratch: string;
	timeoutMs: number;
	/** Each "HOTCACHE-NFS ..." line of any console, as it comes. */
	onLine: (line: string) => void;
}

export interface NfsSession {
	consoles: Record<NfsRole, string>;
	/** src's out/ copied to the host, or null when it wrote none. */
	out: string | null;
	finished: boolean;
	timedOut: boolean;
	ms: number;
}

const ADDRESS: Record<NfsRole, number> = { srv: 1, src: 2, dst: 3 };
/** The clients hold the file, Node, criu and the private Node's tmpfs (guest-nfs.sh) in their caches. */
const MEMORY_MB: Record<NfsRole, number> = { srv: 1024, src: 2048, dst: 2048 };

/** `vars` as lines of POSIX sh assignments, each value single-quoted. */
export function shellAssignments(vars: Record<string, string>): string {
	return Object.entries(vars)
		.map(([k, v]) => {
			if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`not a shell variable name: ${k}`);
			return `${k}=${shellQuote(v)}\n`;
		})
		.join('');
}

async function makeJobDisk(setup: NfsSessionSetup, role: NfsRole, key: string): Promise<string> {
	const dir = path.join(setup.scratch, `job-${role}.d`);
	const disk = path.join(setup.scratch, `job-${role}.img`);
	mkdirSync(dir, { recursive: true });
	try {
		copyFileSync(path.join(projectRoot, 'tools/vm/guest-nfs.sh'), path.join(dir, 'guest-nfs.sh'));
		const vars = { ROLE: role, ADDR: guestAddress(ADDRESS[role]), DST: guestAddress(ADDRESS.dst), ...setup.common, ...(role === 'src' ? setup.plan : {}) };
		writeFileSync(path.join(dir, 'config'), shellAssignments(vars));
		if (role === 'src') copyFileSync(key, path.join(dir, 'id_ed25519'));
		if (role === 'dst') copyFileSync(`${key}.pub`, path.join(dir, 'authorized_keys'));
		chmodSync(dir, 0o700);
		await makeDisk(disk, { from: dir, size: '64M' });
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	return disk;
}

async function bootSession(setup: NfsSessionSetup): Promise<NfsSession & { console: string }> {
	const key = path.join(setup.scratch, 'ssh', 'id_ed25519');
	rmSync(path.dirname(key), { recursive: true, force: true });
	mkdirSync(path.dirname(key), { mode: 0o700 });
	await execCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `hotcache-nfs-vms-${process.pid}`, '-f', key]);
	const disks = {
		srv: await makeJobDisk(setup, 'srv', key),
		src: await makeJobDisk(setup, 'src', key),
		dst: await makeJobDisk(setup, 'dst', key),
	};
	const links = await freeLinkPorts(2);
	const [toSrc, toDst] = [links[0]!, links[1]!];
	const network: Record<NfsRole, string[]> = { srv: serverNetwork([toSrc, toDst]), src: clientNetwork(toSrc, ADDRESS.src), dst: clientNetwork(toDst, ADDRESS.dst) };
	const servers = new AbortController();
	const started = Date.now();
	const boot = (role: NfsRole, signal?: AbortSignal): Promise<BootResult> => {
		let pending = '';
		return bootVm({
			kernel: setup.kit.tree.vmlinuz,
			initrd: setup.kit.initrd,
			drives: [{ file: setup.guestDisk, snapshot: true }, { file: disks[role] }, { file: role === 'srv' ? setup.exportDisk : setup.checkoutDisk, readOnly: true }],
			append: 'hotcache_guest=criu hotcache_job=guest-nfs.sh',
			memoryMb: MEMORY_MB[role],
			network: network[role],
			timeoutMs: setup.timeoutMs,
			signal,
			onOutput: (chunk) => {
				const lines = (pending + chunk).split(/\r?\n/);
				pending = lines.pop()!;
				for (const l of lines) if (l.startsWith('HOTCACHE-NFS ')) setup.onLine(l);
			},
		});
	};
	const srv = boot('srv', servers.signal);
	const dst = boot('dst', servers.signal);
	const src = boot('src').finally(() => servers.abort());
	const [s, d, c] = await Promise.all([srv, dst, src]);
	rmSync(path.dirname(key), { recursive: true, force: true });
	const back = path.join(setup.scratch, 'back');
	rmSync(back, { recursive: true, force: true });
	const out = (await extractDir(disks.src, '/out', back)) ? path.join(back, 'out') : null;
	for (const disk of Object.values(disks)) rmSync(disk, { force: true });
	const consoles = { srv: s.console, dst: d.console, src: c.console };
	return {
		consoles,
		out,
		finished: /HOTCACHE-NFS src finished/.test(c.console),
		timedOut: c.timedOut,
		ms: Date.now() - started,
		console: Object.values(consoles).join('\n'),
	};
}

function retryReason(s: NfsSession & { console: string }): string | null {
	if (consoleShowsOops(s.console)) return 'guest kernel oops';
	if (s.timedOut) return 'timed out';
	return s.finished ? null : 'src did not finish its plan';
}

/** Boots the three VMs for the plan (once more if a guest crashed, hung or stopped early). */
export async function runNfsSession(setup: NfsSessionSetup, log: (line: string) => void): Promise<NfsSession & { attempts: number; retries: string[] }> {
	const { last, attempts, retries } = await bootWithOneRetry('nfs vms', () => bootSession(setup), retryReason, log);
	const { console: _all, ...session } = last;
	return { ...session, attempts, retries };
}
