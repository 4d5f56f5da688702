// Words for a POSIX shell command line that another shell will read (ssh's remote command, a guest's
// config, a command run on an emulated host).

/** Quotes one word for a POSIX shell: as it is when it holds nothing the shell would interpret. */
export function shellQuote(word: string): string {
	return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
