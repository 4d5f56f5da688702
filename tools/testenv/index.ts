// The test environment: real CRIU 4.1.1 in a cached Debian trixie rootfs entered with namespaces.
import { existsSync } from 'node:fs';
import { ensureRootfs } from './rootfs.js';
import { runInRootfs, type RunOptions, type RunResult } from './run.js';

export { ensureRootfs, rootfsPath, rootfsBuildMs, RUNTIMES_ROOTFS, TEST_ROOTFS } from './rootfs.js';
export { runInRootfs } from './run.js';
export type { RunOptions, RunResult } from './run.js';

/** Why tests that need the environment cannot run here, or null when they can. */
export function skipReason(): string | null {
	if (process.platform !== 'linux') return 'the test environment needs Linux namespaces';
	if (process.getuid?.() !== 0) return 'needs root: mount and pid namespaces, pivot_root and criu (run the suite as root, as CI does)';
	for (const tool of ['/usr/bin/unshare', '/usr/sbin/pivot_root']) {
		if (!existsSync(tool) && !existsSync(tool.replace('/usr', ''))) return `needs ${tool} (util-linux)`;
	}
	return null;
}

/** Runs `/bin/sh -c script` in the test rootfs (built on first use), as pid 1 of fresh namespaces. */
export async function runInTestenv(script: string, opts: RunOptions = {}): Promise<RunResult> {
	return runInRootfs(await ensureRootfs(), script, opts);
}
