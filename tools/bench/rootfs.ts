// The root file system the benchmark's runs happen in: the test environment's (trixie: criu 4.1.1,
// node) plus sqlite3, the application workload, which CRIU must checkpoint there.
import { ensureRootfs, TEST_ROOTFS } from '../testenv/index.js';
import type { RootfsSpec } from '../testenv/rootfs.js';

const BENCH_ROOTFS: RootfsSpec = { ...TEST_ROOTFS, name: 'bench', packages: [...TEST_ROOTFS.packages, 'sqlite3'] };

/** The bench root file system's directory, built on first use (about 40 s here) and cached. */
export function benchRootfs(): Promise<string> {
	return ensureRootfs(BENCH_ROOTFS);
}
