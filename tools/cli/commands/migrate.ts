// `hotcache migrate`: moves a running process to another host that shares its storage, with the
// destination's page cache warmed before the process resumes there (tools/migrate/source.ts).
import { parseArgs } from 'node:util';
import { CliError, UsageError, type Command } from '../command.js';
import { DestinationError, defaultAgent, parseDestination } from '../../migrate/transport.js';
import { MigrateError, Migration } from '../../migrate/source.js';
import { PiecesError } from '../../migrate/criu.js';
import { MigrationDirError } from '../../migrate/migration-dir.js';
import { eventsUi, silentUi, terminalUi } from '../../migrate/progress.js';
import { WARM_MODES, type Warm } from '../../migrate/protocol.js';
import { isScope, SCOPES } from '../../migrate/scope.js';
import { summaryText } from '../../migrate/summary.js';

/** Options of `criu dump` the migration sets itself, or that would leave the process running here. */
const RESERVED_DUMP_OPTIONS = ['-t', '--tree', '-D', '--images-dir', '-o', '--log-file', '-R', '--leave-running', '-W', '--work-dir'];

function number(value: string | undefined, option: string, min: number, max: number): number | null {
	if (value === undefined) return null;
	const n = Number(value);
	if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${option} must be a number from ${min} to ${max}`);
	return n;
}

export const migrateCommand: Command = {
	name: 'migrate',
	summary: 'move a running process to a host that shares its storage, its page cache warmed first',
	usage:
		'hotcache migrate --pid PID --to ssh:[user@]host[:port]|exec:COMMAND [--warm precopy|freeze|restore|off] ' +
		'[--scope auto|tree|cgroup] [--images-dir DIR] [--precopy-timeout S] [--link-mbps N] [--agent COMMAND] [--json] [--events] [-- criu dump options]',
	async run(argv) {
		const split = argv.indexOf('--');
		const args = split < 0 ? argv : argv.slice(0, split);
		const criuDumpArgs = split < 0 ? [] : argv.slice(split + 1);
		const { values } = parseArgs({
			args,
			strict: true,
			options: {
				pid: { type: 'string' },
				to: { type: 'string' },
				warm: { type: 'string' },
				scope: { type: 'string' },
				'images-dir': { type: 'string' },
				'precopy-timeout': { type: 'string' },
				'link-mbps': { type: 'string' },
				agent: { type: 'string' },
				json: { type: 'boolean' },
				events: { type: 'boolean' },
			},
		});
		if (!values.pid || !/^[1-9]\d{0,9}$/.test(values.pid)) throw new UsageError('--pid PID is required');
		if (!values.to) throw new UsageError('--to DEST is required');
		const warm = (values.warm ?? 'precopy') as Warm;
		if (!WARM_MODES.includes(warm)) throw new UsageError(`--warm must be one of ${WARM_MODES.join(', ')}`);
		if (values.scope !== undefined && !isScope(values.scope)) throw new UsageError(`--scope must be one of ${SCOPES.join(', ')}`);
		const reserved = criuDumpArgs.find((a) => RESERVED_DUMP_OPTIONS.includes(a.split('=')[0]!));
		if (reserved) throw new UsageError(`${reserved} is set by hotcache migrate itself and cannot be passed to criu dump`);
		let destination;
		try {
			destination = parseDestination(values.to);
		} catch (err) {
			if (err instanceof DestinationError) throw new UsageError(err.message);
			throw err;
		}
		if (process.getuid?.() !== 0) throw new CliError('not-root', 'hotcache migrate runs CRIU: run it as root');
		const linkMbps = number(values['link-mbps'], '--link-mbps', 0, 1e6) ?? 0;
		const json = values.json === true;

		const controller = new AbortController();
		let migration: Migration | null = null;
		const interrupt = (signal: NodeJS.Signals): void => {
			if (migration?.frozen) process.stderr.write(`hotcache migrate: ${signal} ignored: the process is frozen and on its way; it ends up on the destination or back here\n`);
			else controller.abort(new Error(signal));
		};
		process.on('SIGINT', interrupt).on('SIGTERM', interrupt);
		try {
			migration = new Migration({
				pid: Number(values.pid),
				destination,
				warm,
				imagesDir: values['images-dir'] ?? null,
				precopyTimeoutS: number(values['precopy-timeout'], '--precopy-timeout', 0, 86_400),
				// Megabits per second, as links are labelled.
				linkBytesPerSecond: (linkMbps * 1e6) / 8,
				agent: values.agent ? values.agent.split(/\s+/).filter(Boolean) : defaultAgent(),
				scope: values.scope !== undefined && isScope(values.scope) ? values.scope : null,
				criuDumpArgs,
				signal: controller.signal,
				ui: values.events ? eventsUi(process.stderr) : process.stderr.isTTY && !json ? terminalUi(process.stderr) : silentUi,
			});
			const summary = await migration.run();
			process.stdout.write(json ? JSON.stringify(summary) + '\n' : summaryText(summary) + '\n');
			return summary.outcome === 'moved' ? 0 : 1;
		} catch (err) {
			if (err instanceof MigrateError) throw new CliError(err.code, err.message);
			if (err instanceof PiecesError) throw new CliError('not-built', err.message);
			if (err instanceof MigrationDirError) throw new CliError('state-dir', err.message);
			throw err;
		} finally {
			process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
		}
	},
};

