import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { builtPaths } from '../../project.js';

export const paths: Command = {
	name: 'paths',
	summary: 'print where the built plugin, action script and kernel module are',
	usage: 'hotcache paths [--json]',
	async run(args) {
		const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
		const built = builtPaths();
		if (values.json) {
			process.stdout.write(JSON.stringify(built) + '\n');
		} else {
			for (const [piece, file] of Object.entries(built)) {
				process.stdout.write(`${piece.padEnd(13)} ${file ?? '(not built)'}\n`);
			}
		}
		return 0;
	},
};
