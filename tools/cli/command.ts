// The shape every `hotcache` subcommand has, and the errors the CLI edge turns into exit codes.

export interface Command {
	name: string;
	summary: string;
	usage: string;
	/** Returns the exit code. Throws UsageError for bad arguments. */
	run(args: string[]): Promise<number>;
}

/** Bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
	override name = 'UsageError';
}

/** An expected failure with a stable code, printed without a stack trace, exit code 1. */
export class CliError extends Error {
	override name = 'CliError';
	constructor(
		readonly code: string,
		message: string,
	) {
		super(message);
	}
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
