// `hotcache scan`: the page-cache hotness of files or of a process tree, right now. Runs the
// plugin's own capture (hotcache-capture) and shows its image like `inspect`.
import { parseArgs } from 'node:util';
import { UsageError, type Command } from '../command.js';
import { runCapture } from '../../capture-tool.js';
import { isScope } from '../../migrate/scope.js';
import { decodeOrFail, imageView, printView } from './inspect.js';

const BACKENDS = ['auto', 'kmod', 'kpageflags', 'mincore'];

export const scanCommand: Command = {
	name: 'scan',
	summary: 'hot, warm and cached pages of files, of a process tree or of a memory cgroup (like fincore, with hotness)',
	usage: 'hotcache scan [--json] [--backend auto|kmod|kpageflags|mincore] (FILE... | --pid PID [--scope auto|tree|cgroup] | --cgroup DIR)',
	async run(args) {
		const { values, positionals } = parseArgs({
			args,
			options: { json: { type: 'boolean' }, backend: { type: 'string' }, pid: { type: 'string' }, scope: { type: 'string' }, cgroup: { type: 'string' } },
			allowPositionals: true,
			strict: true,
		});
		const { pid, cgroup, scope } = values;
		if ([pid !== undefined, cgroup !== undefined, positionals.length > 0].filter(Boolean).length !== 1) throw new UsageError('give files, --pid or --cgroup');
		if (pid !== undefined && !/^[1-9]\d{0,9}$/.test(pid)) throw new UsageError(`--pid ${pid} is not a process id`);
		if (cgroup === '') throw new UsageError('--cgroup needs a cgroup directory');
		if (scope !== undefined && (pid === undefined || !isScope(scope))) throw new UsageError(pid === undefined ? '--scope goes with --pid' : `unknown scope ${scope}`);
		if (values.backend !== undefined && !BACKENDS.includes(values.backend)) throw new UsageError(`unknown backend ${values.backend}`);
		const what = pid !== undefined ? ['--pid', pid, ...(scope ? ['--scope', scope] : [])] : cgroup !== undefined ? ['--cgroup', cgroup] : ['--', ...positionals];
		const toolArgs = [...(values.backend ? ['--backend', values.backend] : []), ...what];
		const image = decodeOrFail(await runCapture(toolArgs), 'hotcache-capture');
		printView(imageView(image), values.json === true);
		return 0;
	},
};
