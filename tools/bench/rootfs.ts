// The root file system the benchmark's runs happen in: the test environment's (trixie: criu 4.1.1,
// node), plus sqlite3 when the application workload is among them (CRIU must checkpoint it there).
import { ensureRootfs, TEST_ROOTFS } from '../testenv/index.js';
import type { RootfsSpec } from '../testenv/rootfs.js';
import type { WorkloadId } from './workload.js';

const SQLITE_ROOTFS: RootfsSpec = { ...TEST_ROOTFS, name: 'bench', packages: [...TEST_ROOTFS.packages, 'sqlite3'] };

/** The root file system's directory for these workloads, built on first use (about 40 s here) and cached. */
export function benchRootfs(workloads: WorkloadId[]): Promise<string> {
	return ensureRootfs(workloads.includes('sqlite') ? SQLITE_ROOTFS : TEST_ROOTFS);
}
