// Reads and validates a hotcache.img for the prefetcher and the CLI: a refused image becomes a reason,
// not an exception, because the prefetcher must record it and carry on (the restore never notices).
// The image is untrusted, and so is the directory it comes in: it is opened only when it is a regular
// file (never through a link, never a FIFO or a device: those are refused without being opened), and
// read only up to the size its frame may have.
import { fstat, read, type Stats } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeImage, HEADER_BYTES, IMAGE_FILE, ImageError, LIMITS, type HotcacheImage, type ImageErrorKind } from '../proto/image.js';
import { closeFd, openRegular, openRoot } from './open-in-root.js';

/** A refusal: `unreadable` when there is no regular file to read, else the decoder's kind. */
export type LoadedImage = { ok: true; image: HotcacheImage } | { ok: false; kind: ImageErrorKind | 'unreadable'; reason: string };

/** Where an image is: a file in a directory (`name` defaults to hotcache.img), or an fd already open on one. */
export type ImageSource = { dir: string; name?: string } | { fd: number };

const fstatAsync = promisify(fstat);
const readAsync = promisify(read);

function decoded(buf: Uint8Array): LoadedImage {
	try {
		return { ok: true, image: decodeImage(buf) };
	} catch (err) {
		if (!(err instanceof ImageError)) throw err;
		const where = err.path !== undefined ? ` (file ${JSON.stringify(err.path)})` : '';
		return { ok: false, kind: err.kind, reason: `image refused, ${err.kind}: ${err.message}${where}` };
	}
}

/** The whole of a regular file's fd, from offset 0, if it is no larger than an image may be. */
async function readBounded(fd: number, label: string): Promise<LoadedImage> {
	const st: Stats = await fstatAsync(fd);
	if (!st.isFile()) return { ok: false, kind: 'unreadable', reason: `${label} is not a regular file: refused` };
	if (st.size > HEADER_BYTES + LIMITS.imageBytes) return { ok: false, kind: 'too-large', reason: `image refused, too-large: ${st.size} bytes exceed the limit` };
	const buf = Buffer.alloc(st.size);
	let done = 0;
	while (done < buf.length) {
		const { bytesRead } = await readAsync(fd, buf, done, buf.length - done, done);
		if (bytesRead === 0) break; // shrunk meanwhile: the frame check says so
		done += bytesRead;
	}
	return decoded(buf.subarray(0, done));
}

/** Loads an image; a missing, unsafe or invalid one is a reason. An fd given stays open. */
export async function readImage(source: ImageSource): Promise<LoadedImage> {
	if ('fd' in source) return readBounded(source.fd, `the image (fd ${source.fd})`);
	const name = source.name ?? IMAGE_FILE;
	const label = path.join(source.dir, name);
	let dirFd;
	try {
		dirFd = await openRoot(source.dir);
	} catch (err) {
		return { ok: false, kind: 'unreadable', reason: `cannot open ${source.dir}: ${(err as Error).message}` };
	}
	try {
		const opened = await openRegular(dirFd, `/${name}`);
		if (!opened.ok) return { ok: false, kind: 'unreadable', reason: `${label}: ${opened.reason}` };
		try {
			return await readBounded(opened.file.fd, label);
		} finally {
			await closeFd(opened.file.fd);
		}
	} finally {
		await closeFd(dirFd);
	}
}
