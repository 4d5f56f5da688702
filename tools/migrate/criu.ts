// Running CRIU for a migration, on either side, with hotcache's pieces: those of an installation
// (CRIU then finds the plugin in /usr/lib/criu and the action script in /etc/criu/default.conf, or the
// plugin starts it at init(RESTORE)), or else this checkout's built plugin (--libdir) and action script
// (--action-script).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { builtPaths } from '../project.js';
import { installLayout } from '../install/layout.js';

export interface Pieces {
	/** Options that make CRIU use hotcache. */
	args: string[];
	/** Where they come from. */
	from: 'install' | 'checkout';
}

export class PiecesError extends Error {
	override name = 'PiecesError';
}

/** For a dump: the plugin. For a restore: the plugin and the action script. */
export function criuPieces(side: 'dump' | 'restore'): Pieces {
	if (existsSync(installLayout('/').plugin)) return { args: [], from: 'install' };
	const built = builtPaths();
	if (!built.plugin) throw new PiecesError('hotcache is neither installed (hotcache install) nor built here (npm ci): no plugin for CRIU');
	const args = ['--libdir', path.dirname(built.plugin)];
	if (side === 'restore') {
		if (!built.actionScript) throw new PiecesError('the action script is missing from this checkout');
		args.push('--action-script', built.actionScript);
	}
	return { args, from: 'checkout' };
}

export interface CriuOutcome {
	ok: boolean;
	/** "exit 1", "signal SIGKILL" when it failed. */
	how: string;
	/** CRIU's errors from its log (the last ones), for the operator. */
	errors: string;
}

/** Starts `criu ARGS` with `-o LOG` in `dir` (CRIU's working directory: its images). */
export function startCriu(args: string[], dir: string, log: string, env: NodeJS.ProcessEnv): ChildProcess {
	return spawn('criu', [...args, '-o', log, '-v4'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Waits for a CRIU started by startCriu; reads the errors from its log when it failed. */
export function criuDone(child: ChildProcess, dir: string, log: string): Promise<CriuOutcome> {
	let stderr = '';
	child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4096)));
	return new Promise((resolve) => {
		const finish = (how: string): void => resolve({ ok: how === 'exit 0', how, errors: how === 'exit 0' ? '' : logErrors(path.join(dir, log)) || stderr.trim() });
		child.on('error', (err) => finish(`not started: ${err.message}`));
		child.on('close', (code, signal) => finish(signal ? `signal ${signal}` : `exit ${code}`));
	});
}

/** The last error lines of a CRIU log (its harmless rlimit warning aside). */
export function logErrors(file: string, lines = 12): string {
	try {
		return readFileSync(file, 'utf8')
			.split('\n')
			.filter((l) => /Error|error:|hotcache: .*(fail|cannot)/.test(l) && !l.includes('RLIMIT_NOFILE'))
			.slice(-lines)
			.join('\n');
	} catch {
		return '';
	}
}
