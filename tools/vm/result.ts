// What the guest reports on its console (tools/vm/guest-init.sh and kmod/selftest/hotcache_test.c).
import { consoleShowsOops } from './retry.js';

export interface ClassCounts {
	hot: number;
	warm: number;
	resident: number;
}

export interface GuestResult {
	kernel: string;
	/** HOTCACHE_LRU_* the module reported: 1 classic, 2 MGLRU. */
	lru: number;
	checks: number;
	failures: number;
	files: Record<'A' | 'B' | 'C' | 'P', ClassCounts>;
	/** HOTCACHE_IOC_MEMCG_SCAN of cgroup X: M1 read 3x, M2 once, L 3x through overlayfs in X; M3 read in Y; M4 never. */
	memcg: Record<'M1' | 'M2' | 'M3' | 'M4' | 'L', ClassCounts>;
	ok: boolean;
}

/** Whether hotcache-capture succeeded on the reader (guest-capture.sh); the host decodes its image. */
export interface CaptureCounts {
	ok: boolean;
	/** hotcache-capture's exit code when it failed. */
	exit?: number;
}

export interface GuestReport {
	/** The result line, or null when the guest never printed one. */
	result: GuestResult | null;
	/** /sys/kernel/mm/lru_gen/enabled as the guest read it after setting it ("0x0007", "absent"). */
	mglru: string | null;
	/** The test program's "# ..." remarks (how many scans raced with evictions). */
	notes: string[];
	/** The test checks that failed, as the test program printed them. */
	failed: string[];
	/** Null when the guest ran no capture (hotcache-capture not built) or printed nothing parsable. */
	capture: CaptureCounts | null;
	/** hotcache-capture's own log lines (stderr). */
	captureLog: string[];
	/** Whether hotcache-capture's cgroup scope captures succeeded, per backend (guest-capture.sh). */
	scope: (CaptureCounts & { backend: string })[];
	/** Their log lines. */
	scopeLog: string[];
	/** The guest kernel crashed (seen now and then under TCG, research/nfs-vms.md). */
	oops: boolean;
}

/**
 * Every "TAG {json}" line of the console, in order; a line that does not parse is left out. Not anchored
 * at line starts: the first console line carries the firmware's screen-clearing escapes.
 */
export function jsonLines<T>(console: string, tag: string): T[] {
	const found: T[] = [];
	for (const m of console.matchAll(new RegExp(`${tag} (\\{[^\\r\\n]*\\})`, 'g'))) {
		try {
			found.push(JSON.parse(m[1]!) as T);
		} catch {
			// A line cut by the guest's crash or mixed with a kernel message: the step counts as missing.
		}
	}
	return found;
}

/** The first "TAG {json}" line, or null. */
function jsonAfter<T>(console: string, tag: string): T | null {
	return jsonLines<T>(console, tag)[0] ?? null;
}

/** The MGLRU setting guest-init.sh applied, as it read it back ("0x0007", "absent"). */
export function lruGenSetting(console: string): string | null {
	return /HOTCACHE-VM mglru (\S+)/.exec(console)?.[1] ?? null;
}

export function parseGuestConsole(console: string): GuestReport {
	return {
		result: jsonAfter<GuestResult>(console, 'HOTCACHE-RESULT'),
		capture: jsonAfter<CaptureCounts>(console, 'HOTCACHE-CAPTURE'),
		captureLog: [...console.matchAll(/HOTCACHE-CAPTURE-LOG ([^\r\n]*)/g)].map((m) => m[1]!),
		scope: jsonLines<CaptureCounts & { backend: string }>(console, 'HOTCACHE-SCOPE'),
		scopeLog: [...console.matchAll(/HOTCACHE-SCOPE-LOG ([^\r\n]*)/g)].map((m) => m[1]!),
		mglru: lruGenSetting(console),
		notes: [...console.matchAll(/(?:^|\n)# ([^\r\n]*)/g)].map((m) => m[1]!),
		failed: [...console.matchAll(/not ok ([^\r\n]*)/g)].map((m) => m[1]!.trim()),
		oops: consoleShowsOops(console),
	};
}
