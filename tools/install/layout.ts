// Where an installation puts things. Everything is relative to `root` ("/" normally; a staging
// directory for tests and images).
import path from 'node:path';
import { PATHS } from '../../contract/out/contract.js';

export interface InstallLayout {
	/** CRIU loads every *.so here for dump and restore, CLI and RPC alike. */
	plugin: string;
	/** A stable path for CRIU's config to name: a copy of hooks/action-script, the self-contained prefetcher beside it. */
	actionScript: string;
	/** CRIU's default config file, read by the CLI and by `criu swrk` (runc, podman, crun). */
	criuConfig: string;
	stateDir: string;
}

export function installLayout(root = '/'): InstallLayout {
	const at = (p: string) => path.join(root, p);
	return {
		plugin: at(PATHS.installed.plugin),
		actionScript: at(PATHS.installed.actionScript),
		criuConfig: at(PATHS.installed.criuConfig),
		stateDir: at(PATHS.installed.stateDir),
	};
}

/** The action-script line as CRIU must see it: the path on the running system, not under the staging root. */
export function actionScriptOption(): string {
	return `action-script ${installLayout('/').actionScript}`;
}
