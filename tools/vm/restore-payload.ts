// The restore side of this checkout, as built, for a guest: the action script, what it sources and
// what it starts (dist/, the native addon, the schema, package.json for ESM, and the production
// dependencies), laid out as in the checkout so that the script finds its files and the prefetcher next
// to itself and the prefetcher finds the addon under its project root.
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PATHS } from '../../contract/out/contract.js';
import { projectRoot } from '../project.js';

const { actionScript, actionScriptContract, actionScriptConfig, actionScriptRestoreKey, addon } = PATHS.built;
const FILES = ['package.json', actionScript, actionScriptContract, actionScriptConfig, actionScriptRestoreKey, 'proto/hotcache.proto', addon];
/** Compiled TypeScript; the tests are left out. */
const DIST = ['dist/contract', 'dist/hooks', 'dist/proto', 'dist/tools'];

/** Why the payload cannot be made from this checkout, or null. */
export function restorePayloadMissing(): string | null {
	for (const f of [...FILES, ...DIST]) if (!existsSync(path.join(projectRoot, f))) return `${f} is not built (npm ci)`;
	return null;
}

function dependencies(dir: string): string[] {
	const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
	return Object.keys(pkg.dependencies ?? {});
}

/** The packages `dependencies` pulls in, transitively, from the flat node_modules npm ci made. */
function productionPackages(): string[] {
	const seen = new Set<string>();
	const visit = (name: string): void => {
		if (seen.has(name)) return;
		seen.add(name);
		const dir = path.join(projectRoot, 'node_modules', name);
		// A package nested under another's own node_modules travels with that package's directory.
		if (existsSync(dir)) for (const dep of dependencies(dir)) visit(dep);
	};
	for (const dep of dependencies(projectRoot)) visit(dep);
	return [...seen].filter((name) => existsSync(path.join(projectRoot, 'node_modules', name)));
}

/**
 * Copies the payload into `dir` (created); the action script is then `dir`/hooks/action-script. `more`:
 * further built paths of the checkout to copy alike (the NFS VMs' whole installation: the `hotcache`
 * command, the plugin, hotcache-capture, the private Node).
 */
export function stageRestorePayload(dir: string, more: string[] = []): void {
	const missing = restorePayloadMissing();
	if (missing) throw new Error(missing);
	const copy = (rel: string) => {
		mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
		// Modes must survive: the action script is executed.
		cpSync(path.join(projectRoot, rel), path.join(dir, rel), { recursive: true, preserveTimestamps: true });
	};
	for (const rel of [...FILES, ...DIST, ...more]) copy(rel);
	for (const name of productionPackages()) copy(path.join('node_modules', name));
}
