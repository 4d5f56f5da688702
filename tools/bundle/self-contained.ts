// The self-contained prefetcher as `hotcache install` puts it beside the action script
// (/usr/libexec/criu-hotcache/), so that a host without Node.js prefetches:
//   action-script                        hooks/action-script, copied (the checkout may go away)
//   contract.sh, config.sh, restore-key.sh
//                                        what the action script sources, found beside it
//   node                                 the private Node (private-node.ts), when the build has it
//   dist/hooks/prefetcher.mjs            the bundle (prefetcher-bundle.ts)
//   proto/hotcache.proto                 its schema, read at run time
//   build/Release/hotcache_native.node   the native addon (N-API 8: any Node from 20 on loads it)
// The last three keep the paths they have relative to each other in the checkout: the bundled code
// finds the schema and the addon there.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PATHS } from '../../contract/out/contract.js';
import { builtFile, projectRoot } from '../project.js';
import { replaceAtomically } from '../install/replace.js';
import { privateNodePath } from './private-node.js';

export interface LibexecFile {
	/** In the checkout. */
	from: string;
	/** Relative to the action script's directory. */
	to: string;
	mode: number;
}

/** Where prefetcher-bundle.ts writes the bundle, in the checkout and in the installed tree alike. */
export const BUNDLE = PATHS.libexec.bundle;
const ADDON = PATHS.built.addon;
const SCHEMA = 'proto/hotcache.proto';
export const PRIVATE_NODE = PATHS.libexec.node;
/** What the action script sources, by their names in PATHS.built: beside it, under their own names. */
const SOURCED = ['actionScriptContract', 'actionScriptConfig', 'actionScriptRestoreKey'] as const;

/** What an install copies; the action script comes last, so it never runs without its prefetcher. */
export function libexecFiles(): LibexecFile[] {
	const files: LibexecFile[] = [
		{ from: path.join(projectRoot, BUNDLE), to: BUNDLE, mode: 0o644 },
		{ from: path.join(projectRoot, SCHEMA), to: SCHEMA, mode: 0o644 },
		{ from: path.join(projectRoot, ADDON), to: ADDON, mode: 0o644 },
	];
	for (const piece of SOURCED) files.push({ from: builtFile(piece), to: path.basename(PATHS.built[piece]), mode: 0o644 });
	if (existsSync(privateNodePath())) files.push({ from: privateNodePath(), to: PRIVATE_NODE, mode: 0o755 });
	files.push({ from: builtFile('actionScript'), to: path.basename(PATHS.installed.actionScript), mode: 0o755 });
	return files;
}

/** Built pieces that are missing (an install without them would prefetch nothing). */
export function missingPieces(): string[] {
	return libexecFiles().filter((f) => !existsSync(f.from)).map((f) => f.from);
}

/** True when `b` is a regular file with `a`'s content. */
export function sameFile(a: string, b: string): boolean {
	try {
		if (!lstatSync(b).isFile() || lstatSync(a).size !== lstatSync(b).size) return false;
		return readFileSync(a).equals(readFileSync(b));
	} catch {
		return false;
	}
}

/** Copies every piece into `dir` (each renamed into place); lists what changed and what did not. */
export function installLibexec(dir: string, changed: string[], unchanged: string[]): void {
	// A private Node from an earlier install that this build no longer has would be used forever.
	const stale = path.join(dir, PRIVATE_NODE);
	if (!existsSync(privateNodePath()) && existsSync(stale)) {
		rmSync(stale);
		changed.push(stale);
	}
	for (const file of libexecFiles()) {
		const target = path.join(dir, file.to);
		if (sameFile(file.from, target)) {
			unchanged.push(target);
			continue;
		}
		replaceAtomically(target, (tmp) => {
			copyFileSync(file.from, tmp);
			// copyFileSync keeps the source's mode, which a checkout may have made looser.
			chmodSync(tmp, file.mode);
		});
		changed.push(target);
	}
}

/** Removes what installLibexec put in `dir`, then the directories it leaves empty. */
export function uninstallLibexec(dir: string, changed: string[], unchanged: string[]): void {
	const names = new Set([...libexecFiles().map((f) => f.to), PRIVATE_NODE]);
	for (const name of names) {
		const target = path.join(dir, name);
		if (existsSync(target) || isLink(target)) {
			rmSync(target, { force: true });
			changed.push(target);
		} else unchanged.push(target);
	}
	for (const sub of ['dist/hooks', 'dist', 'proto', 'build/Release', 'build', '.']) {
		try {
			rmdirSync(path.join(dir, sub));
		} catch {
			// Not empty (something of someone else's) or already gone.
		}
	}
}

function isLink(file: string): boolean {
	try {
		return lstatSync(file).isSymbolicLink();
	} catch {
		return false;
	}
}

export interface PrefetcherCheck {
	status: 'ok' | 'warn' | 'fail';
	detail: string;
}

function nodeVersion(node: string): string | null {
	const r = spawnSync(node, ['--version'], { encoding: 'utf8', timeout: 10_000 });
	return r.status === 0 ? r.stdout.trim() : null;
}

/** Which Node and which prefetcher an installed action script in `dir` starts, as it decides. */
export function checkPrefetcher(dir: string): PrefetcherCheck {
	// Every piece an install copies but the private Node, which is optional.
	const missing = libexecFiles().map((f) => f.to).filter((f) => f !== PRIVATE_NODE && !existsSync(path.join(dir, f)));
	if (missing.length) return { status: 'fail', detail: `${missing.map((f) => path.join(dir, f)).join(', ')} missing: run hotcache install` };
	const privateNode = path.join(dir, PRIVATE_NODE);
	if (existsSync(privateNode)) {
		const version = nodeVersion(privateNode);
		return version ? { status: 'ok', detail: `self-contained: Node ${version} at ${privateNode}` } : { status: 'fail', detail: `${privateNode} does not run (--version failed)` };
	}
	const version = nodeVersion('node');
	return version
		? { status: 'warn', detail: `no private Node in ${dir}: the prefetcher runs on node ${version} from PATH` }
		: { status: 'fail', detail: `no private Node in ${dir} and no node on PATH: restores prefetch nothing` };
}
