// Builds the workload programs (static C, workloads/Makefile) into dist/bench/bin on first use.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../project.js';

export const workloadBin = path.join(projectRoot, 'dist/bench/bin');

export function buildWorkloads(): void {
	const r = spawnSync('make', ['-s', '-C', path.join(projectRoot, 'tools/bench/workloads'), `OUT=${workloadBin}`], { encoding: 'utf8' });
	if (r.status !== 0) throw new Error(`building the workloads failed:\n${r.stdout}${r.stderr}`);
}
