// `hotcache install` / `uninstall`: put the plugin where CRIU loads it and the action script in CRIU's
// default config. Both are idempotent and report what they changed.
import { copyFileSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { replaceAtomically } from './replace.js';
import { builtPaths } from '../project.js';
import { actionScriptSafeUnderRpc, type CriuVersion } from './criu-version.js';
import { addOption, removeOurOptions } from './criu-config.js';
import { actionScriptOption, installLayout } from './layout.js';
import { installLibexec, missingPieces, sameFile, uninstallLibexec } from '../bundle/self-contained.js';

export interface InstallReport {
	changed: string[];
	unchanged: string[];
	warnings: string[];
}

/** Present even as a dangling link. */
function present(file: string): boolean {
	try {
		lstatSync(file);
		return true;
	} catch {
		return false;
	}
}

export function install(root: string, criu: CriuVersion | null): InstallReport {
	const built = builtPaths();
	if (!built.plugin || !built.actionScript) throw new Error('the plugin or the action script is not built: run `npm ci` first');
	const layout = installLayout(root);
	const report: InstallReport = { changed: [], unchanged: [], warnings: [] };

	// The plugin is copied: CRIU dlopens it in every dump and restore, so a rebuild in the checkout
	// must not change a file CRIU may be reading. The copy is renamed into place.
	if (sameFile(built.plugin, layout.plugin)) report.unchanged.push(layout.plugin);
	else {
		replaceAtomically(layout.plugin, (tmp) => copyFileSync(built.plugin!, tmp));
		report.changed.push(layout.plugin);
	}

	// The action script with the self-contained prefetcher it starts (tools/bundle/self-contained.ts).
	const missing = missingPieces();
	if (missing.length) throw new Error(`not built: ${missing.join(', ')} (run \`npm ci\` first)`);
	installLibexec(path.dirname(layout.actionScript), report.changed, report.unchanged);

	mkdirSync(layout.stateDir, { recursive: true, mode: 0o700 });

	if (criu && !actionScriptSafeUnderRpc(criu)) {
		report.warnings.push(
			`CRIU ${criu.text} crashes when runc or crun restore with an action script in its config (fixed in 3.19): ` +
				`not adding it to ${layout.criuConfig}; the plugin starts the prefetcher at init(RESTORE) instead`,
		);
	} else {
		if (!criu) report.warnings.push('criu not found: configuring the action script for CRIU 3.19 or later');
		(addOption(layout.criuConfig, actionScriptOption()) ? report.changed : report.unchanged).push(layout.criuConfig);
	}
	return report;
}

export function uninstall(root: string): InstallReport {
	const layout = installLayout(root);
	const report: InstallReport = { changed: [], unchanged: [], warnings: [] };
	if (present(layout.plugin)) {
		rmSync(layout.plugin, { force: true });
		report.changed.push(layout.plugin);
	} else report.unchanged.push(layout.plugin);
	uninstallLibexec(path.dirname(layout.actionScript), report.changed, report.unchanged);
	(removeOurOptions(layout.criuConfig) ? report.changed : report.unchanged).push(layout.criuConfig);
	return report;
}
