// One side of the conversation: frames out on a writable stream (waiting for it to drain, so a slow
// link slows the sender instead of filling memory), checked messages in from a readable one.
// A message is either taken by whoever waits for it (`expect`, `next`) or queued until someone does;
// `watch` sees every message first (progress displays). End of stream, a bad frame or a message that
// fails its check closes the channel: every waiter is rejected with that reason.
import type { Readable, Writable } from 'node:stream';
import { encodeFrame, FrameDecoder } from './framing.js';

export class ChannelClosed extends Error {
	override name = 'ChannelClosed';
}

interface Waiter<In> {
	accept(message: In): boolean;
	resolve(message: In): void;
	reject(err: Error): void;
}

export class Channel<In extends { type: string }, Out> {
	private readonly queue: In[] = [];
	private waiters: Waiter<In>[] = [];
	private failure: Error | null = null;
	private readonly watchers: ((message: In) => void)[] = [];
	/** Messages of these types are seen by watchers only, never queued. */
	private readonly transient: ReadonlySet<string>;

	constructor(
		private readonly input: Readable,
		private readonly output: Writable,
		private readonly parse: (raw: unknown) => In,
		private readonly peer: string,
		transient: string[] = [],
	) {
		this.transient = new Set(transient);
		const decoder = new FrameDecoder();
		input.on('data', (chunk: Buffer) => {
			if (this.failure) return;
			try {
				for (const raw of decoder.push(chunk)) this.deliver(this.parse(raw));
			} catch (err) {
				this.close(new ChannelClosed(`${peer} sent a bad message: ${(err as Error).message}`));
			}
		});
		input.on('end', () => this.close(new ChannelClosed(`${peer} closed the connection${decoder.pending ? ` in the middle of a message` : ''}`)));
		input.on('error', (err) => this.close(new ChannelClosed(`cannot read from ${peer}: ${err.message}`)));
		output.on('error', (err) => this.close(new ChannelClosed(`cannot write to ${peer}: ${err.message}`)));
	}

	get closed(): Error | null {
		return this.failure;
	}

	watch(fn: (message: In) => void): void {
		this.watchers.push(fn);
	}

	async send(message: Out): Promise<void> {
		if (this.failure) throw this.failure;
		if (!this.output.write(encodeFrame(message))) {
			await new Promise<void>((resolve, reject) => {
				const done = (): void => {
					this.output.off('drain', done);
					this.output.off('close', done);
					if (this.failure) reject(this.failure);
					else resolve();
				};
				this.output.on('drain', done).on('close', done);
			});
		}
	}

	/** The next message of `type` (queued or to come). */
	expect<T extends In['type']>(type: T, signal?: AbortSignal): Promise<Extract<In, { type: T }>> {
		return this.take((m) => m.type === type, signal) as Promise<Extract<In, { type: T }>>;
	}

	/** The next message, whatever its type. */
	next(signal?: AbortSignal): Promise<In> {
		return this.take(() => true, signal);
	}

	/** Closes the channel (idempotent): waiters are rejected with `reason`, the output is ended. */
	close(reason: Error = new ChannelClosed('closed')): void {
		if (this.failure) return;
		this.failure = reason;
		for (const w of this.waiters) w.reject(reason);
		this.waiters = [];
		this.output.end();
		this.input.destroy();
	}

	private deliver(message: In): void {
		for (const fn of this.watchers) fn(message);
		if (this.transient.has(message.type)) return;
		const i = this.waiters.findIndex((w) => w.accept(message));
		if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(message);
		else this.queue.push(message);
	}

	private take(accept: (m: In) => boolean, signal?: AbortSignal): Promise<In> {
		const i = this.queue.findIndex(accept);
		if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
		if (this.failure) return Promise.reject(this.failure);
		if (signal?.aborted) return Promise.reject(signal.reason as Error);
		return new Promise((resolve, reject) => {
			const onAbort = (): void => {
				this.waiters = this.waiters.filter((w) => w !== waiter);
				reject(signal!.reason as Error);
			};
			const waiter: Waiter<In> = {
				accept,
				resolve: (m) => {
					signal?.removeEventListener('abort', onAbort);
					resolve(m);
				},
				reject: (err) => {
					signal?.removeEventListener('abort', onAbort);
					reject(err);
				},
			};
			this.waiters.push(waiter);
			signal?.addEventListener('abort', onAbort, { once: true });
		});
	}
}
