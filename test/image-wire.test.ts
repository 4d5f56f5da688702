// The TypeScript decoder counts repeated entries on the wire before decoding, so an image built to
// make the decoder allocate an object per entry is refused with the limit, cheaply.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { decodeImage, ImageError, LIMITS, MAGIC } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';

const wire = suite('image wire counts');

function frame(payload: Buffer): Buffer {
	const header = Buffer.alloc(MAGIC.length + 4);
	MAGIC.copy(header);
	header.writeUInt32LE(payload.length, MAGIC.length);
	return Buffer.concat([header, payload]);
}

/** A length-delimited field: tag, varint length, bytes. */
function field(number: number, body: Buffer): Buffer {
	const length: number[] = [];
	let n = body.length;
	do {
		length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
		n >>>= 7;
	} while (n > 0);
	return Buffer.concat([Buffer.from([(number << 3) | 2, ...length]), body]);
}

function refusal(image: Buffer): ImageError {
	try {
		decodeImage(image);
	} catch (err) {
		if (err instanceof ImageError) return err;
		throw err;
	}
	throw new Error('the image was accepted');
}

wire('more empty file entries than the limit are refused before decoding', () => {
	const payload = Buffer.alloc((LIMITS.files + 1) * 2);
	for (let i = 0; i < payload.length; i += 2) payload[i] = (3 << 3) | 2;
	const err = refusal(frame(payload));
	assert.is(err.kind, 'invalid');
	assert.match(err.message, /more than 100000 files/);
});

wire('a packed range array longer than the image-wide limit is refused before decoding', () => {
	const gaps = Buffer.alloc(LIMITS.rangesPerImage + 1); // one-byte varints of 0
	const err = refusal(frame(field(3, field(10, gaps))));
	assert.is(err.kind, 'invalid');
	assert.match(err.message, /more than 4000000 ranges/);
});

wire('more fds on one file than the limit are refused before decoding', () => {
	const fds = Buffer.concat(Array.from({ length: LIMITS.fdsPerFile + 1 }, () => field(3, Buffer.alloc(0))));
	const err = refusal(frame(field(3, fds)));
	assert.is(err.kind, 'invalid');
	assert.match(err.message, /more than 4096 fds/);
});

wire('a truncated nested entry is malformed', () => {
	const err = refusal(frame(Buffer.from([(3 << 3) | 2, 10, 1, 2])));
	assert.is(err.kind, 'malformed');
});

// protobufjs decoded every gap and length into a Long, then a string: an image at the range limit
// took about 1.2 GB (1.1 GB of heap). Decoded on the wire walk, it fits a 600 MB heap.
wire('an image at the range limit decodes within a 600 MB heap', () => {
	const n = LIMITS.rangesPerImage;
	const head = protobuf.Writer.create().uint32((1 << 3) | 0).uint32(1).uint32((2 << 3) | 2).bytes(Buffer.from([(7 << 3) | 0, 0x80, 0x20])).finish();
	const identity = protobuf.Writer.create().uint32((1 << 3) | 0).uint64(2 * n * 4096).finish();
	const file = Buffer.concat([
		field(1, Buffer.from('/f')),
		field(2, Buffer.from(identity)),
		protobuf.Writer.create().uint32((5 << 3) | 0).uint64(2 * n).finish(),
		field(10, Buffer.alloc(n, 1)), // gaps of one page
		field(11, Buffer.alloc(n, 1)), // one page each
		field(12, Buffer.alloc(n, 3)), // hot
	]);
	const dir = mkdtempSync('/var/tmp/hotcache-wire-');
	try {
		const image = path.join(dir, 'hotcache.img');
		writeFileSync(image, frame(Buffer.concat([head, field(3, file)])));
		const decode = `import(${JSON.stringify(path.join(projectRoot, 'dist/proto/image.js'))}).then((m) => process.stdout.write(String(m.decodeImage(require('fs').readFileSync(${JSON.stringify(image)})).files[0].ranges.length)))`;
		const r = spawnSync(process.execPath, ['--max-old-space-size=600', '-e', decode], { encoding: 'utf8' });
		assert.is(r.status, 0, r.stderr.slice(-400));
		assert.is(r.stdout, String(n));
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

wire.run();
