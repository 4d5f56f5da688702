// `hotcache scan`: the page-cache hotness of files or of a process tree, right now. Runs the
// plugin's own capture (hotcache-capture) and shows its image like `inspect`.
import { parseArgs } from 'node:util';
import { UsageError, type Command } from '../command.js';
import { runCapture } from '../../capture-tool.js';
import { decodeOrFail, imageView, printView } from './inspect.js';

const BACKENDS = ['auto', 'kmod', 'kpageflags', 'mincore'];

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
