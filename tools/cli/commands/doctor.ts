import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { doctor } from '../../install/doctor.js';

export const doctorCommand: Command = {
	name: 'doctor',
	summary: 'what this host supports: CRIU, plugin, action script, module, backends, LRU',
	usage: 'hotcache doctor [--json] [--root DIR]',
	async run(args) {
		const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, root: { type: 'string', default: '/' } }, strict: true });
		const findings = doctor(values.root);
		if (values.json) process.stdout.write(JSON.stringify({ findings }) + '\n');
		else for (const f of findings) process.stdout.write(`${f.status.padEnd(4)}  ${f.check.padEnd(15)}  ${f.detail}\n`);
		return findings.some((f) => f.status === 'fail') ? 1 : 0;
	},
};
