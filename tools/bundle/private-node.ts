// The Node that runs the prefetcher on hosts that have none: the official Linux build, as the npm
// registry ships it (package node-linux-<arch>), fetched with npm itself. It is not a dependency in
// package.json: that package's `node` bin would shadow the build's own Node in every npm script.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project.js';

/** The pinned release: an LTS line, N-API 8 (the addon's) and glibc 2.28 or later. */
export const PRIVATE_NODE_VERSION = '24.22.3';

/** Where the build keeps it: dist/private-node/node, with a version file beside it. */
export function privateNodePath(): string {
	return path.join(projectRoot, 'dist/private-node/node');
}

function registryPackage(): string | null {
	return process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64') ? `node-linux-${process.arch}@${PRIVATE_NODE_VERSION}` : null;
}

function run(cmd: string, args: string[], cwd: string): string {
	const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 });
	if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
	return r.stdout;
}

/** Fetches the private Node unless the build already has this version; returns its path. */
export function ensurePrivateNode(): string {
	const target = privateNodePath();
	const versionFile = `${target}.version`;
	if (existsSync(target) && existsSync(versionFile) && readFileSync(versionFile, 'utf8').trim() === PRIVATE_NODE_VERSION) return target;
	const pkg = registryPackage();
	if (!pkg) throw new Error(`no official Node build on the npm registry for ${process.platform}/${process.arch}`);
	mkdirSync(path.dirname(target), { recursive: true });
	const tmp = mkdtempSync(path.join(path.dirname(target), '.fetch-'));
	try {
		// npm pack checks the tarball against the registry's integrity hash.
		run('npm', ['pack', pkg, '--silent', '--pack-destination', tmp], tmp);
		const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
		if (!tarball) throw new Error(`npm pack ${pkg} left no tarball`);
		run('tar', ['-xzf', tarball, 'package/bin/node'], tmp);
		renameSync(path.join(tmp, 'package/bin/node'), target);
		writeFileSync(versionFile, `${PRIVATE_NODE_VERSION}\n`);
		return target;
	} finally {
		rmSync(tmp, { recursive: true, force: true });
	}
}
