// Where the pieces of an installed or checked-out criu-hotcache live.
import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { PATHS } from '../contract/out/contract.js';

/** The project's top directory: this file is compiled to dist/tools/project.js. */
export const projectRoot: string = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

export function projectVersion(): string {
	const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
	return pkg.version;
}

export interface BuiltPaths {
	plugin: string | null;
	actionScript: string | null;
	kmod: string | null;
}

function existing(file: string, mode: number): string | null {
	try {
		accessSync(file, mode);
		return file;
	} catch {
		return null;
	}
}

/** The absolute path of a built piece, whether it is built or not. */
export function builtFile(piece: keyof typeof PATHS.built): string {
	return path.join(projectRoot, PATHS.built[piece]);
}

/** The built piece when it is there with `mode` (constants.R_OK, X_OK), else null. */
export function builtIf(piece: keyof typeof PATHS.built, mode: number): string | null {
	return existing(builtFile(piece), mode);
}

/** Absolute paths of the built pieces, null where a piece is not built. */
export function builtPaths(): BuiltPaths {
	return {
		plugin: builtIf('plugin', constants.R_OK),
		actionScript: builtIf('actionScript', constants.X_OK),
		kmod: builtIf('kmod', constants.R_OK),
	};
}
