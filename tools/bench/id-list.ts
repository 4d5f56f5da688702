// A comma-separated list of known names from the command line (--workloads, --variants).

/** The names in `text`, each checked against `known`; throws naming the first unknown one. */
export function parseIdList<T extends string>(text: string, known: readonly T[], what: string): T[] {
	const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
	for (const id of ids) if (!(known as readonly string[]).includes(id)) throw new Error(`unknown ${what} '${id}' (known: ${known.join(', ')})`);
	return ids as T[];
}
