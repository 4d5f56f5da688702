// `hotcache scan`: the page-cache hotness of files or of a process tree, right now. Runs the
// plugin's own capture (hotcache-capture) and shows its image like `inspect`.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError, UsageError, type Command } from '../command.js';
import { LIMITS, HEADER_BYTES } from '../../../proto/image.js';
import { builtFile, builtIf } from '../../project.js';
import { decodeOrFail, imageView, printView } from './inspect.js';

const BACKENDS = ['auto', 'kmod', 'kpageflags', 'mincore'];

/** Runs hotcache-capture with `args`; resolves to the framed image it wrote to stdout. */
function runCapture(args: string[]): Promise<Buffer> {
	const tool = builtIf('capture', constants.X_OK);
	if (tool === null) throw new CliError('not-built', `${builtFile('capture')} is not built (run \`make -C criu-plugin\`)`);
	return new Promise((resolve, reject) => {
		execFile(tool, args, { encoding: 'buffer', maxBuffer: HEADER_BYTES + LIMITS.imageBytes }, (err, stdout, stderr) => {
			if (err) reject(new CliError('capture-failed', `hotcache-capture failed: ${stderr.toString().trim() || err.message}`));
			else resolve(stdout);
		});
	});
}

export const scanCommand: Command = {
	name: 'scan',
	summary: 'hot, warm and cached pages of files or of a process tree (like fincore, with hotness)',
	usage: 'hotcache scan [--json] [--backend auto|kmod|kpageflags|mincore] (FILE... | --pid PID)',
	async run(args) {
		const { values, positionals } = parseArgs({
			args,
			options: { json: { type: 'boolean' }, backend: { type: 'string' }, pid: { type: 'string' } },
			allowPositionals: true,
			strict: true,
		});
		const pid = values.pid;
		if ((pid === undefined) === (positionals.length === 0)) throw new UsageError('give either files or --pid');
		if (pid !== undefined && !/^[1-9]\d{0,9}$/.test(pid)) throw new UsageError(`--pid ${pid} is not a process id`);
		if (values.backend !== undefined && !BACKENDS.includes(values.backend)) throw new UsageError(`unknown backend ${values.backend}`);
		const toolArgs = [...(values.backend ? ['--backend', values.backend] : []), ...(pid !== undefined ? ['--pid', pid] : ['--', ...positionals])];
		const image = decodeOrFail(await runCapture(toolArgs), 'hotcache-capture');
		printView(imageView(image), values.json === true);
		return 0;
	},
};
