// Frames on a byte stream (the agent's stdin and stdout, through ssh or any command): a u32 big-endian
// length, then that many bytes of one msgpack value. The length is checked before anything is
// buffered or decoded, so a peer cannot make us hold more than one frame's worth.
import { Packr, Unpackr } from 'msgpackr';

/** An image file travels in pieces of this size, so every frame stays far below the bound. */
export const PIECE_BYTES = 1 << 20;
/** The largest frame: a plan (a hotcache.img is at most 64 MiB) and its envelope. */
export const MAX_FRAME_BYTES = (64 << 20) + (1 << 20);
const LENGTH_BYTES = 4;

// Plain maps both ways: no msgpackr records or structure sharing between the two sides.
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export class FrameError extends Error {
	override name = 'FrameError';
}

export function encodeFrame(message: unknown): Buffer {
	const body = packr.pack(message);
	if (body.length > MAX_FRAME_BYTES) throw new FrameError(`a message of ${body.length} bytes exceeds the ${MAX_FRAME_BYTES}-byte frame limit`);
	const head = Buffer.alloc(LENGTH_BYTES);
	head.writeUInt32BE(body.length);
	return Buffer.concat([head, body]);
}

/** Splits a byte stream into decoded messages, whatever the chunking. */
export class FrameDecoder {
	private chunks: Buffer[] = [];
	private buffered = 0;

	/** Adds bytes; returns the messages now complete. Throws FrameError on a frame too large or undecodable. */
	push(chunk: Buffer): unknown[] {
		this.chunks.push(chunk);
		this.buffered += chunk.length;
		const out: unknown[] = [];
		for (;;) {
			if (this.buffered < LENGTH_BYTES) return out;
			const head = this.peek(LENGTH_BYTES);
			const length = head.readUInt32BE(0);
			if (length > MAX_FRAME_BYTES) throw new FrameError(`a frame announces ${length} bytes, more than the ${MAX_FRAME_BYTES}-byte limit`);
			if (this.buffered < LENGTH_BYTES + length) return out;
			const frame = this.take(LENGTH_BYTES + length).subarray(LENGTH_BYTES);
			try {
				out.push(unpackr.unpack(frame));
			} catch (err) {
				throw new FrameError(`a frame does not decode: ${(err as Error).message}`);
			}
		}
	}

	/** Bytes of an unfinished frame at the end of the stream. */
	get pending(): number {
		return this.buffered;
	}

	private peek(n: number): Buffer {
		if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
		return this.chunks[0]!.subarray(0, n);
	}

	private take(n: number): Buffer {
		const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
		const frame = Buffer.from(all.subarray(0, n));
		const rest = all.subarray(n);
		this.chunks = rest.length ? [rest] : [];
		this.buffered = rest.length;
		return frame;
	}
}
