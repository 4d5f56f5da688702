// Tests on the two emulated hosts (tools/hosts): the shared storage is made on the machine, the hosts
// are set up inside the test environment around the test's script, and everything is removed by exact
// name afterwards (the loop devices go with their mounts when the environment's namespaces die).
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../tools/project.js';
import { makeStorage } from '../tools/hosts/storage.js';
import { removeLink } from '../tools/hosts/link.js';
import { runInTestenv, type RunResult } from '../tools/testenv/index.js';
import { scratchDir, writeFile } from './support.js';

/** Where both hosts see the shared storage, inside the test environment (its /tmp is its own). */
export const SHARED = '/tmp/shared';
const HOST_BLKIO = '/sys/fs/cgroup/blkio';

// Node inside the test environment, with the built addon: residency, eviction, a workload's counter.
const HELPER = `
import { closeSync, fsyncSync, openSync, readFileSync } from 'node:fs';
const { native } = await import(${JSON.stringify(path.join(projectRoot, 'dist/hooks/native.js'))});
const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'resident') {
	const fd = openSync(args[0], 'r');
	console.log((await native().cachestat(fd, 0, 0)).cache);
	closeSync(fd);
} else if (cmd === 'evict') {
	for (const file of args) {
		const fd = openSync(file, 'r');
		await native().fadvise(fd, 0, 0, native().advice.DONTNEED);
		closeSync(fd);
	}
} else if (cmd === 'counter') {
	console.log(readFileSync(args[0]).readBigUInt64LE(0).toString());
}
`;

export interface HostsOptions {
	/** Files on the shared storage: name -> bytes (random content). */
	files: Record<string, number>;
	/** Each host's link to the storage, bytes per second (0: none). */
	readBps?: number;
	/** Directories each host has its own of. */
	local?: string[];
	timeoutMs?: number;
	/** Shell lines run before the hosts are set up (what the destination must inherit). */
	before?: string;
}

export interface HostsRun {
	work: string;
	name: string;
	result: RunResult;
	/** stdout and stderr together, for assertion messages. */
	out: string;
}

/**
 * Runs `script` (sh, `set -eu`) inside the test environment with the hosts up. It has: $W (a scratch
 * directory on the machine's disk, the same path everywhere), $P (the checkout), $SHARED, `on_dest CMD`
 * (runs CMD on the destination), `h resident|evict|counter FILE`, and HOSTS_* from tools/hosts/main.ts.
 * `inspect(work)` runs before the scratch directory is removed.
 */
export async function runOnHosts<T>(tag: string, opts: HostsOptions, script: string, inspect: (run: HostsRun) => T): Promise<T> {
	const work = scratchDir(tag).dir;
	const name = `hotcache-hosts-${process.pid}-${randomBytes(3).toString('hex')}`;
	try {
		writeFileSync(path.join(work, 'helper.mjs'), HELPER);
		await makeStorage(path.join(work, 'storage.img'), (dir) => {
			for (const [file, bytes] of Object.entries(opts.files)) writeFile(path.join(dir, file), bytes);
		});
		const local = (opts.local ?? []).map((d) => ` --local ${d}`).join('');
		const full = `
set -eu
W=${work} P=${projectRoot} SHARED=${SHARED}
hosts() { node "$P/dist/tools/hosts/main.js" "$@"; }
h() { node "$W/helper.mjs" "$@"; }
${opts.before ?? ''}
eval "$(hosts up --name ${name} --storage "$W/storage.img" --mount "$SHARED" --state "$W/hosts.json" --read-bps ${opts.readBps ?? 0}${local} --join $$)"
on_dest() { nsenter -t "$HOSTS_DEST_PID" -m -- "$@"; }
set +e
(
set -e
${script}
)
rc=$?
hosts down --state "$W/hosts.json" || rc=99
exit $rc
`;
		const result = await runInTestenv(full, { binds: [work], timeoutMs: opts.timeoutMs ?? 120_000 });
		return inspect({ work, name, result, out: `${result.stdout}\n${result.stderr}` });
	} finally {
		if (existsSync(path.join(HOST_BLKIO, name))) await removeLink(HOST_BLKIO, name);
		rmSync(work, { recursive: true, force: true });
	}
}
