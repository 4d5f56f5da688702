// What one criu guest did (guest-criu.sh): its console lines per step, joined with what the step left in
// out/ on the job disk (criu's logs and output, hotcache.img decoded with proto/image.ts, the
// prefetcher's status line), read back on the host.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeImage, IMAGE_FILE, type HotcacheImage } from '../../proto/image.js';
import { jsonLines } from './result.js';

/** Who started the prefetcher of a restore. */
export type Starter = 'plugin' | 'action-script' | 'both';

/** Resident pages of the reader's files, as fincore counted them in the guest. */
type Residency = Record<'A' | 'B' | 'C' | 'D', number>;

/** "HOTCACHE-CRIU-DUMP {json}": criu dump's exit status, the reader's pid, how long (0.1 s) it waited for it. */
interface DumpLine {
	/** The image directory under out/. */
	name: string;
	/** HOTCACHE_BACKEND as forced, or "auto". */
	backend: string;
	/** Further options given to criu dump. */
	options: string;
	/** /sys/kernel/mm/lru_gen/enabled during the dump ("0x0000": classic LRU). */
	lruGen: string;
	dump: number;
	pid: number;
	waited: number;
}

/** "HOTCACHE-CRIU-RESTORE {json}". */
interface RestoreLine {
	starter: Starter;
	lruGen: string;
	restore: number;
	pid: number;
	/** The restored reader was alive after the prefetcher's verdict. */
	running: boolean;
	/** The reader's counter as criu restore returned, and after the prefetcher's verdict. */
	counter: [number, number];
	/** Before criu restore ran (after dropping the page cache), and after the prefetcher's verdict. */
	cold: Residency;
	resident: Residency;
	/** Starts of Node (the guest's wrapper counts them), and "start" events in the prefetcher's record. */
	launches: number;
	starts: number;
	/** Guest uptime (s) when criu restore started, returned, and the verdict was seen (or 120 s passed, or no launcher claimed the restore). */
	times: [number, number, number];
}

export interface CriuDumpStep extends DumpLine {
	/** criu's -v4 log and its stdout/stderr, as left on the job disk. */
	log: string | null;
	output: string | null;
	/** hotcache.img decoded, or why it could not be (absent, or the codec's error). */
	image: HotcacheImage | null;
	imageError: string | null;
}

export interface CriuRestoreStep extends RestoreLine {
	log: string | null;
	output: string | null;
	/** The prefetcher's status line (the restore's state directory), or null. */
	status: string | null;
}

export interface CriuSteps {
	/** `criu --version` and `node --version` in the guest. */
	criuVersion: string | null;
	nodeVersion: string | null;
	/** The guest ran every step (HOTCACHE-CRIU-DONE). */
	done: boolean;
	dumps: CriuDumpStep[];
	restores: CriuRestoreStep[];
}

function text(file: string): string | null {
	return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

function decode(file: string): { image: HotcacheImage | null; imageError: string | null } {
	if (!existsSync(file)) return { image: null, imageError: `no ${IMAGE_FILE} in the image directory` };
	try {
		return { image: decodeImage(readFileSync(file)), imageError: null };
	} catch (err) {
		return { image: null, imageError: `decodeImage: ${(err as Error).message}` };
	}
}

/** The status line of the (one) restore directory under `state`/restores. */
function statusLine(state: string): string | null {
	const restores = path.join(state, 'restores');
	if (!existsSync(restores)) return null;
	for (const dir of readdirSync(restores)) {
		const status = text(path.join(restores, dir, 'status'));
		if (status !== null) return status.trim();
	}
	return null;
}

const tagged = (console: string, tag: string): string | null => new RegExp(`${tag} ([^\\r\\n]*)`).exec(console)?.[1]?.trim() || null;

/** The guest's steps from its console and from `out`, its out/ directory copied to the host (or null). */
export function readCriuSteps(console: string, out: string | null): CriuSteps {
	const at = (...parts: string[]) => (out ? path.join(out, ...parts) : '/nonexistent');
	return {
		criuVersion: tagged(console, 'HOTCACHE-CRIU-VERSION'),
		nodeVersion: tagged(console, 'HOTCACHE-CRIU-NODE'),
		done: /HOTCACHE-CRIU-DONE/.test(console),
		dumps: jsonLines<DumpLine>(console, 'HOTCACHE-CRIU-DUMP').map((d) => ({
			...d,
			log: text(at(d.name, 'dump.log')),
			output: text(at(d.name, 'criu.out')),
			...decode(at(d.name, IMAGE_FILE)),
		})),
		restores: jsonLines<RestoreLine>(console, 'HOTCACHE-CRIU-RESTORE').map((r) => ({
			...r,
			log: text(at(`restore-${r.starter}`, 'restore.log')),
			output: text(at(`restore-${r.starter}`, 'criu.out')),
			status: statusLine(at(`restore-${r.starter}`, 'state')),
		})),
	};
}
