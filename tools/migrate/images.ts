// CRIU's images cross to the destination through the protocol: every regular file of the image
// directory (its logs aside) in pieces, in name order, paced by an optional token bucket (the
// migration link's rate), and written on the other side into a fresh directory of its own.
import { closeSync, constants, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { realClock, TokenBucket, type Clock } from '../../hooks/token-bucket.js';
import type { Channel } from './channel.js';
import { PIECE_BYTES } from './framing.js';
import type { FromAgent, ToAgent } from './protocol.js';

/** Image file names as CRIU and the plugin make them: no path, nothing hidden (the plugin's temporary file). */
const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const MAX_FILES = 100_000;

export class ImagesError extends Error {
	override name = 'ImagesError';
}

/** The files to send: regular, named like an image, not a log. */
export function imageFiles(dir: string): { name: string; size: number }[] {
	return readdirSync(dir, { withFileTypes: true })
		.filter((e) => e.isFile() && IMAGE_NAME.test(e.name) && !e.name.endsWith('.log'))
		.map((e) => ({ name: e.name, size: statSync(path.join(dir, e.name)).size }))
		.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * The migration link's pace for the images (bytes per second; null for none). A token bucket starts
 * full, a second's worth at once: this one starts empty, as a link that starts sending now.
 */
export async function linkPace(bytesPerSecond: number, clock: Clock = realClock): Promise<TokenBucket | null> {
	if (bytesPerSecond <= 0) return null;
	const bucket = new TokenBucket(bytesPerSecond, clock);
	await bucket.take(bytesPerSecond);
	return bucket;
}

export async function sendImages(channel: Channel<FromAgent, ToAgent>, dir: string, bucket: TokenBucket | null, onProgress: (bytes: number, total: number) => void): Promise<{ files: number; bytes: number }> {
	const files = imageFiles(dir);
	const total = files.reduce((sum, f) => sum + f.size, 0);
	const piece = Buffer.allocUnsafe(PIECE_BYTES);
	let sent = 0;
	for (const file of files) {
		const fd = openSync(path.join(dir, file.name), constants.O_RDONLY | constants.O_NOFOLLOW);
		try {
			let offset = 0;
			do {
				const n = readSync(fd, piece, 0, Math.min(PIECE_BYTES, file.size - offset), offset);
				if (n === 0 && offset < file.size) throw new ImagesError(`${file.name} shrank while it was sent`);
				await bucket?.take(n);
				await channel.send({ type: 'file', name: file.name, size: file.size, offset, data: piece.subarray(0, n) });
				offset += n;
				sent += n;
				onProgress(sent, total);
			} while (offset < file.size);
		} finally {
			closeSync(fd);
		}
	}
	await channel.send({ type: 'files-done', files: files.length, bytes: sent });
	return { files: files.length, bytes: sent };
}

/** The destination's side: pieces in order into new files (never through a link, never over a file). */
export class ImageWriter {
	private current: { name: string; fd: number; size: number; written: number } | null = null;
	private readonly names = new Set<string>();
	private bytes = 0;

	constructor(private readonly dir: string) {}

	write(piece: Extract<ToAgent, { type: 'file' }>): void {
		if (!IMAGE_NAME.test(piece.name)) throw new ImagesError(`refusing the image file name ${JSON.stringify(piece.name.slice(0, 80))}`);
		if (this.current?.name !== piece.name) {
			this.closeCurrent();
			if (this.names.has(piece.name)) throw new ImagesError(`${piece.name} sent twice`);
			if (this.names.size >= MAX_FILES) throw new ImagesError(`more than ${MAX_FILES} image files`);
			if (piece.offset !== 0) throw new ImagesError(`${piece.name} does not start at offset 0`);
			this.names.add(piece.name);
			const fd = openSync(path.join(this.dir, piece.name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
			this.current = { name: piece.name, fd, size: piece.size, written: 0 };
		}
		const cur = this.current!;
		if (piece.offset !== cur.written || piece.size !== cur.size || cur.written + piece.data.length > cur.size) {
			throw new ImagesError(`${piece.name}: a piece at ${piece.offset} of ${piece.data.length} bytes does not follow ${cur.written} of ${cur.size}`);
		}
		for (let done = 0; done < piece.data.length; ) done += writeSync(cur.fd, piece.data, done, piece.data.length - done);
		cur.written += piece.data.length;
		this.bytes += piece.data.length;
	}

	/** Checks the source's totals against what arrived. */
	finish(files: number, bytes: number): { files: number; bytes: number } {
		this.closeCurrent();
		if (files !== this.names.size || bytes !== this.bytes) throw new ImagesError(`the source sent ${files} files and ${bytes} bytes, ${this.names.size} and ${this.bytes} arrived`);
		return { files, bytes };
	}

	/** Closes what is open (the directory is the caller's to remove). */
	abort(): void {
		if (this.current) closeSync(this.current.fd);
		this.current = null;
	}

	private closeCurrent(): void {
		if (!this.current) return;
		const { name, fd, size, written } = this.current;
		this.current = null;
		closeSync(fd);
		if (written !== size) throw new ImagesError(`${name}: ${written} of ${size} bytes arrived`);
	}
}
