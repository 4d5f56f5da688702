import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { installedCriuVersion, parseCriuVersion } from '../../install/criu-version.js';
import { install, uninstall, type InstallReport } from '../../install/install.js';
import { UsageError } from '../command.js';

const OPTIONS = {
	json: { type: 'boolean' },
	root: { type: 'string', default: '/' },
	'criu-version': { type: 'string' },
} as const;

function print(report: InstallReport, json: boolean | undefined): void {
	if (json) {
		process.stdout.write(JSON.stringify(report) + '\n');
		return;
	}
	for (const file of report.changed) process.stdout.write(`updated    ${file}\n`);
	for (const file of report.unchanged) process.stdout.write(`unchanged  ${file}\n`);
	for (const warning of report.warnings) process.stderr.write(`warning: ${warning}\n`);
}

export const installCommand: Command = {
	name: 'install',
	summary: 'install the plugin and the action script for CRIU (idempotent)',
	usage: 'hotcache install [--json] [--root DIR] [--criu-version X.Y]',
	async run(args) {
		const { values } = parseArgs({ args, options: OPTIONS, strict: true });
		let criu = installedCriuVersion();
		if (values['criu-version'] !== undefined) {
			criu = parseCriuVersion(`Version: ${values['criu-version']}`);
			if (!criu) throw new UsageError(`--criu-version ${values['criu-version']} is not a version like 4.1`);
		}
		print(install(values.root, criu), values.json);
		return 0;
	},
};

export const uninstallCommand: Command = {
	name: 'uninstall',
	summary: 'remove what `hotcache install` put in place (idempotent)',
	usage: 'hotcache uninstall [--json] [--root DIR]',
	async run(args) {
		const { values } = parseArgs({ args, options: { json: OPTIONS.json, root: OPTIONS.root }, strict: true });
		print(uninstall(values.root), values.json);
		return 0;
	},
};
