// Samples a counter every 100 ms on a fixed schedule (late ticks are not made up for, and every
// sample carries the time it was really taken), on the wall clock that CRIU's steps, the shell's
// `date +%s%N` and an application's own time stamps share.
import type { Counts } from './progress-file.js';
import type { Timeline } from './timeline.js';

export const SAMPLE_MS = 100;

export interface RawSample extends Counts {
	/** Milliseconds since the epoch, sub-millisecond. */
	at: number;
}

/** Wall-clock milliseconds with the monotonic clock's resolution. */
export function wallMs(): number {
	return performance.timeOrigin + performance.now();
}

export class Sampler {
	private readonly samples: RawSample[] = [];
	private timer: NodeJS.Timeout | null = null;
	private last: Counts = { bytes: 0, ops: 0 };

	/** `read` returns null while there is nothing to read yet (the workload not started). */
	constructor(
		private readonly read: () => Counts | null,
		private readonly periodMs = SAMPLE_MS,
	) {}

	start(): void {
		const origin = wallMs();
		let k = 0;
		const tick = (): void => {
			const at = wallMs();
			const counts = this.read();
			// Before the workload maps its file, and if it ever went away, it has done what it had done.
			if (counts) this.last = counts;
			this.samples.push({ at, ...this.last });
			k = Math.max(k + 1, Math.ceil((wallMs() - origin) / this.periodMs));
			this.timer = setTimeout(tick, Math.max(0, origin + k * this.periodMs - wallMs()));
		};
		tick();
	}

	/** Stops sampling (one last sample first) and returns every sample taken. */
	stop(): RawSample[] {
		if (this.timer) clearTimeout(this.timer);
		this.timer = null;
		const counts = this.read();
		if (counts) this.last = counts;
		this.samples.push({ at: wallMs(), ...this.last });
		return this.samples;
	}
}

/** Samples as a timeline in seconds since `originMs`; samples at the same instant are merged. */
export function toTimeline(samples: RawSample[], originMs: number): Timeline {
	const out: Timeline = [];
	for (const s of samples) {
		const t = (s.at - originMs) / 1000;
		const prev = out[out.length - 1];
		if (prev && t <= prev.t) {
			prev.bytes = Math.max(prev.bytes, s.bytes);
			prev.ops = Math.max(prev.ops, s.ops);
		} else out.push({ t, bytes: s.bytes, ops: s.ops });
	}
	return out;
}
