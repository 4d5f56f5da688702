// How many bytes of page cache the destination can spare for the prefetch: MemAvailable and the
// memory cgroup's headroom (v1 and v2, every ancestor), each minus a margin. Readers take the file
// contents as arguments so the parsing is tested on real kernel formats without this host's values.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Kept free of the prefetch: 64 MiB plus 5% of the bound, so the restored process has room to run. */
export function margin(bound: number): number {
	return (64 << 20) + Math.floor(bound * 0.05);
}

export function memAvailable(meminfo: string): number | null {
	const m = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo);
	return m ? Number(m[1]) * 1024 : null;
}

interface CgroupMount {
	version: 1 | 2;
	mountPoint: string;
	/** The cgroup path that is the mount's root (4th field of mountinfo). */
	root: string;
}

/** Memory-controller mounts from /proc/self/mountinfo: cgroup2 and cgroup v1 with the memory option. */
function memoryCgroupMounts(mountinfo: string): CgroupMount[] {
	const mounts: CgroupMount[] = [];
	for (const line of mountinfo.split('\n')) {
		const [left, right] = line.split(' - ');
		if (!left || !right) continue;
		const fields = left.split(' ');
		const [fstype, , superOptions] = right.split(' ');
		const root = fields[3];
		const mountPoint = fields[4];
		if (!root || !mountPoint) continue;
		if (fstype === 'cgroup2') mounts.push({ version: 2, mountPoint, root });
		else if (fstype === 'cgroup' && superOptions?.split(',').includes('memory')) mounts.push({ version: 1, mountPoint, root });
	}
	return mounts;
}

/** This process's cgroup paths from /proc/self/cgroup: v2 ("0::/x") and the v1 memory hierarchy. */
function selfCgroups(procCgroup: string): { v1: string | null; v2: string | null } {
	let v1: string | null = null;
	let v2: string | null = null;
	for (const line of procCgroup.split('\n')) {
		const [id, controllers, ...rest] = line.split(':');
		const cgPath = rest.join(':');
		if (id === '0' && controllers === '') v2 = cgPath;
		else if (controllers?.split(',').includes('memory')) v1 = cgPath;
	}
	return { v1, v2 };
}

export type ReadText = (file: string) => string | null;

const readText: ReadText = (file) => {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return null;
	}
};

/** A v1 limit this large (LONG_MAX rounded to pages) means "no limit". */
const V1_UNLIMITED = 2 ** 62;

/** limit - usage of the tightest ancestor; null when no memory cgroup limits this process. */
export function cgroupHeadroom(mountinfo: string, procCgroup: string, read: ReadText = readText): number | null {
	const own = selfCgroups(procCgroup);
	let headroom: number | null = null;
	for (const mount of memoryCgroupMounts(mountinfo)) {
		const cg = mount.version === 2 ? own.v2 : own.v1;
		if (cg === null || !(cg === mount.root || cg.startsWith(mount.root.replace(/\/$/, '') + '/'))) continue;
		const [limitFile, usageFile] = mount.version === 2 ? ['memory.max', 'memory.current'] : ['memory.limit_in_bytes', 'memory.usage_in_bytes'];
		// Walk from the process's own cgroup up to the mount's root: any ancestor may hold the limit.
		let rel = path.posix.relative(mount.root, cg);
		for (;;) {
			const dir = path.posix.join(mount.mountPoint, rel);
			const limit = Number(read(path.posix.join(dir, limitFile))?.trim());
			const usage = Number(read(path.posix.join(dir, usageFile))?.trim());
			if (Number.isFinite(limit) && Number.isFinite(usage) && limit < V1_UNLIMITED) {
				const room = Math.max(0, limit - usage);
				headroom = headroom === null ? room : Math.min(headroom, room);
			}
			if (rel === '' || rel === '.') break;
			rel = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
		}
	}
	return headroom;
}

export interface MemoryBudget {
	bytes: number;
	memAvailable: number | null;
	cgroupHeadroom: number | null;
}

/** The budget on this host now: the smaller bound, each minus its margin. */
export function memoryBudget(read: ReadText = readText): MemoryBudget {
	const available = memAvailable(read('/proc/meminfo') ?? '');
	const headroom = cgroupHeadroom(read('/proc/self/mountinfo') ?? '', read('/proc/self/cgroup') ?? '', read);
	const bounds = [available, headroom].filter((b): b is number => b !== null).map((b) => Math.max(0, b - margin(b)));
	return { bytes: bounds.length ? Math.min(...bounds) : 0, memAvailable: available, cgroupHeadroom: headroom };
}
