// What `hotcache-capture --check IMAGE` prints: the C decoder's verdict and counts, one JSON line.
// Tests compare it with the TypeScript decoder; the VM tests read it from a guest.
export interface CaptureCheck {
	ok: boolean;
	/** ImageError kind when refused. */
	kind?: string;
	message?: string;
	files?: number;
	ranges?: number;
	resident?: number;
	hot?: number;
	warm?: number;
	fds?: number;
}
