// One retry for a boot that crashed or hung (Debian kernels occasionally oops under TCG,
// research/nfs-vms.md). A boot that ran to the end stands, pass or fail; a retry is logged.

export interface Retried<T> {
	last: T;
	/** Boots it took; more than 1 means a retry. */
	attempts: number;
	/** Why each earlier boot was retried. */
	retries: string[];
}

export async function bootWithOneRetry<T extends { console: string }>(
	what: string,
	boot: () => Promise<T>,
	retryReason: (result: T) => string | null,
	log: (line: string) => void,
): Promise<Retried<T>> {
	const retries: string[] = [];
	for (let attempt = 1; ; attempt++) {
		const last = await boot();
		const reason = retryReason(last);
		if (reason === null || attempt === 2) return { last, attempts: attempt, retries };
		retries.push(reason);
		log(`vm: ${what}: ${reason}, retrying once; console:\n${consoleExcerpt(last.console)}`);
	}
}

const OOPS = /\b(Oops|BUG:|Kernel panic|general protection fault)/;

/** Signs of a crashed guest kernel on its console. */
export function consoleShowsOops(console: string): boolean {
	return OOPS.test(console);
}

/** From just before the first sign of a crash (where its cause is), else the tail. */
function consoleExcerpt(console: string): string {
	const at = console.search(OOPS);
	return at < 0 ? console.slice(-3000) : console.slice(Math.max(0, at - 500), at + 6000);
}
