// The plugin's capture without CRIU (criu-plugin/out/hotcache-capture), as `hotcache scan` and
// `hotcache migrate --warm precopy` run it: the framed image it writes to stdout.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { CliError } from './cli/command.js';
import { HEADER_BYTES, LIMITS } from '../proto/image.js';
import { builtFile, builtIf } from './project.js';

/** Runs hotcache-capture with `args`; resolves to the framed image it wrote to stdout. */
export function runCapture(args: string[], signal?: AbortSignal): Promise<Buffer> {
	const tool = builtIf('capture', constants.X_OK);
	if (tool === null) throw new CliError('not-built', `${builtFile('capture')} is not built (run \`make -C criu-plugin\`)`);
	return new Promise((resolve, reject) => {
		execFile(tool, args, { encoding: 'buffer', maxBuffer: HEADER_BYTES + LIMITS.imageBytes, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
			if (err) reject(new CliError('capture-failed', `hotcache-capture failed: ${stderr.toString().trim() || err.message}`));
			else resolve(stdout);
		});
	});
}
