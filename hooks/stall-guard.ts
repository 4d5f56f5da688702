// Blocking calls the prefetch cannot interrupt: an open or a read on a file system whose server does
// not answer (a FUSE daemon, a dead NFS server, autofs) holds its libuv thread in the kernel, maybe
// forever (a FUSE request its daemon has read is waited out even by a fatal signal:
// fs/fuse/dev.c request_wait_answer). The prefetch waits for such a call only up to a deadline (or
// SIGTERM), then goes on without it; the call keeps its thread (counted as stuck until it returns)
// and keeps its file descriptor open: an fd is closed only when no call uses it any more, so a late
// call never reads a closed fd, nor a newer file that reused its number.

/** The outcome of a call waited for up to a deadline. */
export type Deadlined<T> = { done: true; value: T } | { done: false };

/** Calls still running past their deadline, each holding a libuv thread. */
export class StuckCalls {
	private count = 0;

	get stuck(): number {
		return this.count;
	}

	/**
	 * Waits for `call` up to `ms`, or until `signal` aborts; then resolves { done: false } and counts
	 * the call as stuck until it settles. A rejection before that rejects.
	 */
	async within<T>(call: Promise<T>, ms: number, signal?: AbortSignal): Promise<Deadlined<T>> {
		let timer: NodeJS.Timeout | undefined;
		let onAbort: (() => void) | undefined;
		const late = new Promise<'late'>((resolve) => {
			timer = setTimeout(() => resolve('late'), ms);
			onAbort = () => resolve('late');
			signal?.addEventListener('abort', onAbort, { once: true });
			if (signal?.aborted) resolve('late');
		});
		try {
			const first = await Promise.race([call.then((value) => ({ done: true as const, value })), late]);
			if (first !== 'late') return first;
		} finally {
			clearTimeout(timer);
			if (onAbort) signal?.removeEventListener('abort', onAbort);
		}
		this.count++;
		call.then(
			() => this.count--,
			() => this.count--,
		);
		return { done: false };
	}
}

/** An fd several calls share: closed once the owner lets go of it and the last call using it has returned. */
export class SharedFd {
	private users = 0;
	private released = false;
	private closing: Promise<void> | null = null;

	constructor(
		readonly fd: number,
		private readonly closer: (fd: number) => Promise<void>,
	) {}

	/** Runs `call` with the fd held open until it settles, however long that is. */
	use<T>(call: (fd: number) => Promise<T>): Promise<T> {
		if (this.released) return Promise.reject(new Error(`fd ${this.fd} was already let go of`));
		this.users++;
		const running = call(this.fd);
		running.then(
			() => this.done(),
			() => this.done(),
		);
		return running;
	}

	/** Calls still using the fd. */
	get busy(): number {
		return this.users;
	}

	/** The owner is done with the fd: it closes now, or when the last call using it returns. */
	release(): Promise<void> {
		this.released = true;
		if (this.users === 0) this.closing ??= this.closer(this.fd);
		return this.closing ?? Promise.resolve();
	}

	private done(): void {
		this.users--;
		if (this.released && this.users === 0) this.closing ??= this.closer(this.fd).catch(() => {});
	}
}
