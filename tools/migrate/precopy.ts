// --warm precopy before the freeze: capture the running process (hotcache-capture, the plugin's
// capture without CRIU), send the plan, wait while the destination prefetches it, then re-capture and
// send what the working set gained meanwhile (up to MAX_RECAPTURES rounds), until the destination is
// done and the working set stays put, or the timeout comes. Either way the freeze follows.
import { decodeImage, encodeImage, type HotcacheImage } from '../../proto/image.js';
import { runCapture } from '../capture-tool.js';
import { now } from './clock.js';
import { addPages, pageCount, plannedPages, subtractPages } from './plan-pages.js';
import { MAX_RECAPTURES, precopyTimeoutS, workingSetMoved } from './precopy-policy.js';
import type { FromAgent } from './protocol.js';
import type { Scope } from './scope.js';

/** Ctrl-C before the freeze. */
export class Interrupted extends Error {
	override name = 'Interrupted';
}

/** What precopy needs from the migration. */
export interface PrecopyLink {
	pid: number;
	/** The capture's scope (--scope of hotcache-capture), or null for the configuration's, as the plugin reads it at the freeze. */
	scope: Scope | null;
	/** Aborted by Ctrl-C. */
	signal: AbortSignal;
	/** --precopy-timeout, or null for the default (precopy-policy.ts). */
	timeoutS: number | null;
	/** Sends a plan (a framed hotcache.img); resolves to its sequence number. */
	sendPlan(image: Uint8Array): Promise<number>;
	/** The agent's next warm-done (rejects when `signal` aborts or the channel closes). */
	nextWarmDone(signal: AbortSignal): Promise<Extract<FromAgent, { type: 'warm-done' }>>;
	/** What the destination has fetched so far, and in how many seconds. */
	fetched(): { bytes: number; seconds: number };
	note(text: string): void;
	warmingUp(): void;
}

export interface PrecopyOutcome {
	/** Bytes of the pages sent to fetch, all rounds together. */
	planBytes: number;
	recaptures: number;
	timeoutS: number;
	timedOut: boolean;
	/** Agent time of the last warm-done before the freeze, or null. */
	warmDone: number | null;
}

/** The capture of the running process stops there (its image then says partial), as the plugin's does. */
const CAPTURE_LIMIT_MS = 10_000;
const POLL_MS = 250;

/** hotcache-capture's command line for the running process: the plugin's time limit, and the scope when one is given. */
export function captureArgs(pid: number, scope: Scope | null): string[] {
	return ['--time-limit-ms', String(CAPTURE_LIMIT_MS), '--pid', String(pid), ...(scope ? ['--scope', scope] : [])];
}

async function capture(link: PrecopyLink): Promise<{ image: HotcacheImage; framed: Uint8Array } | null> {
	try {
		const framed = await runCapture(captureArgs(link.pid, link.scope), link.signal);
		return { image: decodeImage(framed), framed };
	} catch (err) {
		if (link.signal.aborted) throw new Interrupted();
		link.note(`the capture of the running process failed (${(err as Error).message}): the plan goes at the freeze`);
		return null;
	}
}

/** Waits for the warm-done of plan `seq`: its time (agent clock), or null when the (moving) deadline passes first. */
async function warmDoneBy(link: PrecopyLink, seq: number, deadline: () => number): Promise<number | null> {
	for (;;) {
		const controller = new AbortController();
		const onAbort = (): void => controller.abort(new Interrupted());
		link.signal.addEventListener('abort', onAbort, { once: true });
		const waiting = link.nextWarmDone(controller.signal);
		waiting.catch(() => {});
		try {
			for (;;) {
				const left = deadline() - now();
				if (left <= 0) return null;
				const result = await Promise.race([waiting, new Promise<null>((resolve) => setTimeout(resolve, Math.min(left, POLL_MS), null))]);
				if (result === null) continue;
				if (result.stopped) link.note(`the destination's warm-up of plan ${result.seq} stopped: ${result.stopped}`);
				if (result.seq >= seq) return result.time;
				break; // an earlier plan's: wait for the next
			}
		} catch (err) {
			if (link.signal.aborted) throw new Interrupted();
			throw err;
		} finally {
			link.signal.removeEventListener('abort', onAbort);
			controller.abort(new Error('no longer waiting'));
		}
	}
}

/** Null when there was nothing to warm before the freeze (the capture failed, the process has its own root). */
export async function precopy(link: PrecopyLink): Promise<PrecopyOutcome | null> {
	const captured = await capture(link);
	if (!captured) return null;
	const first = captured.image;
	if (first.capture.ownRoot) {
		link.note('the process has its own root: its files can be opened on the destination only once it is restored, so the plan goes at the freeze');
		return null;
	}
	const sent = plannedPages(first);
	const out: PrecopyOutcome = { planBytes: pageCount(sent) * first.capture.pageSize, recaptures: 0, timeoutS: 0, timedOut: false, warmDone: null };
	let last = await link.sendPlan(captured.framed);
	link.warmingUp();
	const started = now();
	const deadline = (): number => {
		const { bytes, seconds } = link.fetched();
		out.timeoutS = link.timeoutS ?? precopyTimeoutS(out.planBytes, bytes, seconds);
		return started + out.timeoutS * 1000;
	};
	for (;;) {
		const done = await warmDoneBy(link, last, deadline);
		if (done === null) {
			out.timedOut = true;
			link.note(`the destination had not finished its warm-up after ${out.timeoutS.toFixed(1)} s: freezing now, the rest is fetched from the plan at the freeze`);
			return out;
		}
		out.warmDone = done;
		if (out.recaptures >= MAX_RECAPTURES) return out;
		const recaptured = await capture(link);
		if (!recaptured) return out;
		const delta = subtractPages(recaptured.image, sent);
		const gained = plannedPages(delta);
		const gainedBytes = pageCount(gained) * recaptured.image.capture.pageSize;
		if (!workingSetMoved(gainedBytes, out.planBytes)) return out;
		out.recaptures++;
		addPages(sent, gained);
		out.planBytes += gainedBytes;
		last = await link.sendPlan(encodeImage(delta));
	}
}
