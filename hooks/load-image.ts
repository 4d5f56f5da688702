// Reads and validates a hotcache.img for the prefetcher: a refused image becomes a reason, not an
// exception, because the prefetcher must record it and carry on (the restore never notices).
import { open } from 'node:fs/promises';
import { decodeImage, HEADER_BYTES, ImageError, LIMITS, type HotcacheImage } from '../proto/image.js';

export type LoadedImage = { ok: true; image: HotcacheImage } | { ok: false; reason: string };

function loadImage(buf: Uint8Array): LoadedImage {
	try {
		return { ok: true, image: decodeImage(buf) };
	} catch (err) {
		if (!(err instanceof ImageError)) throw err;
		const where = err.path !== undefined ? ` (file ${JSON.stringify(err.path)})` : '';
		return { ok: false, reason: `image refused, ${err.kind}: ${err.message}${where}` };
	}
}

/** Checks the size before reading, so a huge file cannot exhaust memory. */
export async function readImageFile(file: string): Promise<LoadedImage> {
	let handle;
	try {
		handle = await open(file, 'r');
	} catch (err) {
		return { ok: false, reason: `cannot open ${file}: ${(err as Error).message}` };
	}
	try {
		const { size } = await handle.stat();
		if (size > HEADER_BYTES + LIMITS.imageBytes) return { ok: false, reason: `image refused, too-large: ${size} bytes exceed the limit` };
		return loadImage(await handle.readFile());
	} finally {
		await handle.close();
	}
}
