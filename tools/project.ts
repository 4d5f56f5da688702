// Where the pieces of an installed or checked-out criu-hotcache live.
import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

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

/** Absolute paths of the built pieces, null where a piece is not built. */
export function builtPaths(): BuiltPaths {
	return {
		plugin: existing(path.join(projectRoot, 'criu-plugin/out/hotcache.so'), constants.R_OK),
		actionScript: existing(path.join(projectRoot, 'hooks/action-script'), constants.X_OK),
		kmod: existing(path.join(projectRoot, 'kmod/hotcache.ko'), constants.R_OK),
	};
}
