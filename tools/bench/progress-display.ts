// The whole benchmark's progress on stderr: runs done, the current run, the time left (the mean run
// time so far times the runs left). Redrawn in place on a terminal, one line per run otherwise.

export interface ProgressState {
	done: number;
	total: number;
	/** What runs now, for example "reread / CRIU alone, run 3". */
	current: string;
	/** Seconds each finished run took. */
	runSeconds: number[];
}

export function formatDuration(seconds: number): string {
	if (!Number.isFinite(seconds)) return '?';
	const s = Math.round(seconds);
	if (s < 60) return `${s} s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
	return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function progressLine(p: ProgressState): string {
	const width = String(p.total).length;
	const left = p.runSeconds.length ? (p.runSeconds.reduce((a, b) => a + b, 0) / p.runSeconds.length) * (p.total - p.done) : NaN;
	const eta = p.done === p.total ? 'done' : p.runSeconds.length ? `about ${formatDuration(left)} left` : 'time left known after the first run';
	return `[${String(p.done).padStart(width)}/${p.total}] ${p.current} · ${eta}`;
}

export class ProgressDisplay {
	private readonly runSeconds: number[] = [];
	private done = 0;
	private startedAt = 0;

	constructor(
		private readonly total: number,
		private readonly out: NodeJS.WriteStream = process.stderr,
	) {}

	begin(current: string): void {
		this.startedAt = performance.now();
		this.show(current);
	}

	end(current: string): void {
		this.runSeconds.push((performance.now() - this.startedAt) / 1000);
		this.done++;
		if (this.done === this.total) this.show(current);
	}

	private show(current: string): void {
		const line = progressLine({ done: this.done, total: this.total, current, runSeconds: this.runSeconds });
		if (this.out.isTTY) this.out.write(`\r\x1b[K${line}${this.done === this.total ? '\n' : ''}`);
		else this.out.write(line + '\n');
	}
}
