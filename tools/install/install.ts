// `hotcache install` / `uninstall`: put the plugin where CRIU loads it and the action script in CRIU's
// default config. Both are idempotent and report what they changed.
import { copyFileSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { replaceAtomically } from './replace.js';
import { builtPaths } from '../project.js';
import { actionScriptSafeUnderRpc, type CriuVersion } from './criu-version.js';
import { addOption, removeOurOptions } from './criu-config.js';
import { actionScriptOption, installLayout } from './layout.js';

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

function sameContent(a: string, b: string): boolean {
	return present(b) && readFileSync(a).equals(readFileSync(b));
}

function sameLink(link: string, target: string): boolean {
	try {
		return lstatSync(link).isSymbolicLink() && readlinkSync(link) === target;
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
	if (sameContent(built.plugin, layout.plugin)) report.unchanged.push(layout.plugin);
	else {
		replaceAtomically(layout.plugin, (tmp) => copyFileSync(built.plugin!, tmp));
		report.changed.push(layout.plugin);
	}

	if (sameLink(layout.actionScript, built.actionScript)) report.unchanged.push(layout.actionScript);
	else {
		replaceAtomically(layout.actionScript, (tmp) => symlinkSync(built.actionScript!, tmp));
		report.changed.push(layout.actionScript);
	}

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
	for (const file of [layout.plugin, layout.actionScript]) {
		if (present(file)) {
			rmSync(file, { force: true });
			report.changed.push(file);
		} else report.unchanged.push(file);
	}
	(removeOurOptions(layout.criuConfig) ? report.changed : report.unchanged).push(layout.criuConfig);
	return report;
}
