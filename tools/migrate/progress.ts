// What `hotcache migrate` shows on a terminal while it works: one line per phase, a bar with bytes and
// rate where the total is known, notes as they come. Off the terminal (and with --json) it is silent:
// the summary says it all. With --events, a program that runs it (the benchmark) gets each phase and
// note as one JSON line on stderr the moment it happens, to act on it (start a prefetch at the freeze).
import { now } from './clock.js';
import type { MigrateUi, Phase } from './source.js';

const BAR = 24;
const REDRAW_MS = 100;
const MB = 1e6;

export const silentUi: MigrateUi = { phase() {}, progress() {}, note() {} };

/** One JSON line per phase (`{"phase":"freeze","atMs":...}`, wall-clock ms) and per note. */
export function eventsUi(out: NodeJS.WritableStream): MigrateUi {
	const line = (event: { phase: Phase } | { note: string }): void => void out.write(JSON.stringify({ ...event, atMs: now() }) + '\n');
	return { phase: (phase) => line({ phase }), progress() {}, note: (text) => line({ note: text }) };
}

export function terminalUi(out: NodeJS.WriteStream): MigrateUi {
	let barShown = false;
	let lastDraw = 0;
	const endBar = (): void => {
		if (barShown) out.write('\n');
		barShown = false;
	};
	return {
		phase(phase: Phase) {
			endBar();
			out.write(`hotcache migrate: ${phase}\n`);
		},
		progress(what, done, total, rate) {
			const t = performance.now();
			if (t - lastDraw < REDRAW_MS && (total === null || done < total)) return;
			lastDraw = t;
			const bar = total ? `[${'#'.repeat(Math.round((Math.min(done, total) / total) * BAR)).padEnd(BAR, '.')}] ` : '';
			const amount = `${(done / MB).toFixed(1)}${total ? `/${(total / MB).toFixed(1)}` : ''} MB`;
			out.write(`\r  ${what} ${bar}${amount}${rate ? `  ${(rate / MB).toFixed(1)} MB/s` : ''}\x1b[K`);
			barShown = true;
		},
		note(text) {
			endBar();
			out.write(`hotcache migrate: ${text}\n`);
		},
	};
}
