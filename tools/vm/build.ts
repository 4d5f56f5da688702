// Builds hotcache.ko and the static test program for one kernel, inside that kernel's rootfs (its headers
// and its compiler). Sources are copied to the run's scratch directory first, so the checkout stays clean
// and neither kernels nor concurrent runs share object files. A build takes about 2 s, so none is cached.
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project.js';
import { runInRootfs } from '../testenv/run.js';
import type { KernelTree } from './kernels.js';

export interface BuiltModule {
	kernel: string;
	/** Host paths of the results. */
	module: string;
	selftest: string;
	buildMs: number;
}

const SOURCES = ['hotcache.c', 'Kbuild', 'Makefile', 'uapi', 'selftest'];

export async function buildForKernel(tree: KernelTree, scratch: string): Promise<BuiltModule> {
	const dir = path.join(scratch, `build-${tree.name}`);
	mkdirSync(dir);
	for (const name of SOURCES) cpSync(path.join(projectRoot, 'kmod', name), path.join(dir, name), { recursive: true });
	const script = `set -e
make -C ${dir} KDIR=${tree.headersInside} modules
make -C ${dir}/selftest CC=${tree.cc} OUT=${dir}`;
	const started = Date.now();
	const result = await runInRootfs(tree.rootfs, script, { binds: [dir], timeoutMs: 300_000 });
	const buildMs = Date.now() - started;
	if (result.code !== 0) {
		throw new Error(`building the module for ${tree.name} failed (exit ${result.code}):\n${(result.stdout + result.stderr).slice(-6000)}`);
	}
	return { kernel: tree.name, module: path.join(dir, 'hotcache.ko'), selftest: path.join(dir, 'hotcache_test'), buildMs };
}
