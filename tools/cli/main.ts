// `hotcache`: dispatch to a subcommand; turn errors into messages and exit codes once, here.
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type Command } from './command.js';
import { paths } from './commands/paths.js';
import { installCommand, uninstallCommand } from './commands/install.js';
import { doctorCommand } from './commands/doctor.js';
import { inspectCommand } from './commands/inspect.js';
import { scanCommand } from './commands/scan.js';
import { prefetchCommand } from './commands/prefetch.js';
import { benchCommand } from './commands/bench.js';
import { migrateCommand } from './commands/migrate.js';
import { receiveCommand } from './commands/receive.js';
import { projectVersion } from '../project.js';
import { jsonLine, printable } from '../../hooks/printable.js';

const commands: Command[] = [paths, installCommand, uninstallCommand, doctorCommand, inspectCommand, scanCommand, prefetchCommand, migrateCommand, receiveCommand, benchCommand];

function usage(): string {
	const width = Math.max(...commands.map((c) => c.name.length));
	const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
	return [
		'usage: hotcache <command> [options]',
		'',
		'Keeps the page cache of a migrated process warm: the CRIU plugin records the hot pages',
		'at checkpoint, the action script prefetches them on restore.',
		'',
		'commands:',
		...lines,
		'',
		'options: --help, --version; `hotcache <command> --help` for a command\'s options.',
	].join('\n');
}

function wantsJson(args: string[]): boolean {
	return args.includes('--json');
}

export async function main(argv: string[]): Promise<number> {
	const [name, ...args] = argv;
	if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
		process.stdout.write(usage() + '\n');
		return name === undefined ? EXIT_USAGE : EXIT_OK;
	}
	if (name === '--version' || name === '-V') {
		process.stdout.write(`hotcache ${projectVersion()}\n`);
		return EXIT_OK;
	}
	const command = commands.find((c) => c.name === name);
	if (!command) {
		process.stderr.write(`hotcache: unknown command '${name}'\n\n${usage()}\n`);
		return EXIT_USAGE;
	}
	if (args.includes('--help') || args.includes('-h')) {
		process.stdout.write(`usage: ${command.usage}\n`);
		return EXIT_OK;
	}
	try {
		return await command.run(args);
	} catch (err) {
		return report(command, err, wantsJson(args));
	}
}

function report(command: Command, err: unknown, json: boolean): number {
	const usageFailure = err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
	const code = usageFailure ? 'usage' : err instanceof CliError ? err.code : 'internal';
	const message = err instanceof Error ? err.message : String(err);
	if (json) {
		process.stdout.write(jsonLine({ error: { code, message } }));
	} else {
		// A message may quote an image (a path, a reason): printed escaped.
		process.stderr.write(`hotcache ${command.name}: ${printable(message)}\n`);
		if (usageFailure) process.stderr.write(`usage: ${command.usage}\n`);
		else if (code === 'internal' && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
	}
	return usageFailure ? EXIT_USAGE : EXIT_FAILURE;
}
