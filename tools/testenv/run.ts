// Run a command inside the test rootfs, in fresh mount and pid namespaces, the way real CRIU works here
// (research/environment.md): bind the rootfs onto itself, pivot_root into it, fresh proc/sys/dev, tmpfs
// /run and /tmp. A plain chroot does not do: criu then fails with "mnt: No parent found for mountpoint".
//
// The command runs as pid 1 of its namespace, so when it exits the kernel kills everything it started,
// and every mount dies with the namespace: nothing is left behind on the host.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmdirSync } from 'node:fs';
import { projectRoot } from '../project.js';

export interface RunOptions {
	/** Host directories mounted at the same path inside (test files that must live on a real disk). */
	binds?: string[];
	/** Killed (the whole namespace) after this long; default 5 minutes. */
	timeoutMs?: number;
	/** Added to a clean environment (PATH, HOME, LANG=C.UTF-8). */
	env?: Record<string, string>;
	/**
	 * A host directory on a real disk: the rootfs is entered as an overlay whose changes go there, so
	 * the run may install packages or files without touching the shared cached tree.
	 */
	overlay?: string;
	/** The host's cgroup hierarchies under /sys/fs/cgroup, for container runtimes. */
	hostCgroups?: boolean;
	/** The run's stderr goes to ours as it comes (a progress display) instead of into the result. */
	passStderr?: boolean;
}

export interface RunResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	timedOut: boolean;
}

// Runs with the host's /bin/sh before the pivot and the rootfs's tools after it.
// $1 = rootfs, $2 = project checkout, $3 = newline-separated binds, $4 = the script to run,
// $5 = overlay directory or empty, $6 = 1 to bind the host's cgroups.
const ENTER = `
set -ef
root=$1 project=$2 binds=$3 overlay=$5
if [ -n "$overlay" ]; then
	mkdir -p "$overlay/upper" "$overlay/work" "$overlay/root"
	mount -t overlay overlay -o "lowerdir=$root,upperdir=$overlay/upper,workdir=$overlay/work" "$overlay/root"
	root=$overlay/root
else
	mount --bind "$root" "$root"
fi
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
if [ "$6" = 1 ]; then
	mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"
	# crun refuses a hybrid layout (a cgroup2 mount with a controller beside the v1 ones): inside, the
	# namespace keeps the v1 hierarchies only.
	if mountpoint -q "$root/sys/fs/cgroup/unified"; then umount "$root/sys/fs/cgroup/unified"; fi
fi
mount -t devtmpfs devtmpfs "$root/dev"
# A devpts of its own: CRIU refuses to dump a container whose /dev/pts is not a devpts mount.
mkdir -p "$root/dev/pts"
mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
# After the fresh /tmp and /run: a checkout or bind below them must stay visible.
for dir in "$project" $binds; do
	mkdir -p "$root$dir"
	mount --bind "$dir" "$root$dir"
done
mkdir -p "$root/.oldroot"
cd "$root"
pivot_root . .oldroot
cd /
umount -l /.oldroot
exec /bin/sh -c "$4"
`;

/**
 * The mount points a run creates in the cached rootfs for its binds (each test's own scratch
 * directory), deepest last, so they can be removed when the run is over instead of piling up.
 */
function missingDirs(rootfs: string, binds: string[]): string[] {
	const dirs: string[] = [];
	for (const bind of binds) {
		let dir = '';
		for (const part of bind.split('/').filter(Boolean)) {
			dir += `/${part}`;
			if (!existsSync(rootfs + dir) && !dirs.includes(rootfs + dir)) dirs.push(rootfs + dir);
		}
	}
	return dirs;
}

function removeDirs(dirs: string[]): void {
	for (const dir of [...dirs].reverse()) {
		try {
			rmdirSync(dir);
		} catch {
			// Not empty, or gone: a directory the run itself filled is left as it is.
		}
	}
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
	for (const child of live) if (child.pid) process.kill(child.pid, 'SIGKILL');
});

/** Runs `/bin/sh -c script` inside `rootfs` (see ensureRootfs) and collects its output. */
export function runInRootfs(rootfs: string, script: string, opts: RunOptions = {}): Promise<RunResult> {
	const binds = (opts.binds ?? []).map((b) => {
		if (!/^\/[\w./-]*$/.test(b) || b.split('/').includes('..')) throw new Error(`bind ${JSON.stringify(b)} must be an absolute path of plain characters`);
		return b;
	});
	// Under an overlay, the mount points for the binds are made in its upper directory, not in the cache.
	const created = opts.overlay ? [] : missingDirs(rootfs, binds);
	const env = {
		PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
		HOME: '/root',
		LANG: 'C.UTF-8',
		...opts.env,
	};
	const args = ['-m', '-p', '-f', '--propagation', 'private', '--kill-child', '--', '/bin/sh', '-c', ENTER, 'enter', rootfs, projectRoot, binds.join('\n'), script, opts.overlay ?? '', opts.hostCgroups ? '1' : '0'];
	return new Promise((resolve, reject) => {
		const child = spawn('unshare', args, { env, stdio: ['ignore', 'pipe', opts.passStderr ? 'inherit' : 'pipe'] });
		live.add(child);
		let stdout = '';
		let stderr = '';
		let timedOut = false;
		child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
		child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
		// unshare --kill-child turns our SIGKILL of it into the death of the namespace's pid 1, and so of all.
		const timer = setTimeout(() => {
			timedOut = true;
			child.kill('SIGKILL');
		}, opts.timeoutMs ?? 300_000);
		child.on('error', (err) => {
			clearTimeout(timer);
			live.delete(child);
			reject(err);
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			live.delete(child);
			removeDirs(created);
			resolve({ code, signal, stdout, stderr, timedOut });
		});
	});
}
