// hotcache.img: the C writer (hotcache-capture) read by the one decoder, TypeScript's; the TypeScript
// writer read back; hostile images refused, each for its reason; and the path rules, where the C
// writer records exactly the paths the decoder accepts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import protobuf from 'protobufjs';
import { decodeImage, encodeImage, HEADER_BYTES, Hotness, IMAGE_FILE, ImageError, LIMITS, MAGIC, pageCounts, type HotcacheImage } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { evict, PAGE, pagesOf, range, readPages, runCaptureTool, scratchDir, testRunner, writeFile } from './support.js';

const image = suite('hotcache.img');
const scratch = scratchDir('image');
image.after(() => scratch.remove());

/** The totals of an image as the decoder reads them. */
function totals(img: HotcacheImage): { files: number; resident: number; hot: number; warm: number } {
	const sum = { files: img.files.length, resident: 0, hot: 0, warm: 0 };
	for (const f of img.files) {
		const c = pageCounts(f);
		sum.resident += c.resident;
		sum.hot += c.hot;
		sum.warm += c.warm;
	}
	return sum;
}

image('a capture written by C decodes in TypeScript', async () => {
	const a = path.join(realpathSync(scratch.dir), 'a');
	const b = path.join(realpathSync(scratch.dir), 'b');
	writeFile(a, 64 * PAGE);
	writeFile(b, 16 * PAGE);
	await evict(a);
	await evict(b);
	const read = [...range(0, 8), ...range(20, 30)];
	await readPages(a, read, 3);
	const out = path.join(scratch.dir, 'out1');
	spawnSync('mkdir', [out]);
	const r = runCaptureTool(['--backend', 'mincore', '--out', out, a, b]);
	assert.is(r.code, 0, r.stderr);
	assert.equal(readdirSync(out), [IMAGE_FILE], 'only the image is left in the directory (no temporary file)');
	const file = path.join(out, IMAGE_FILE);
	const img = decodeImage(readFileSync(file));
	assert.is(img.capture.tool, 'hotcache-capture');
	assert.is(img.capture.backend, 'mincore');
	assert.is(img.capture.pageSize, 4096);
	assert.is(img.capture.partial, false);
	assert.equal(img.files.map((f) => f.path), [a, b]);
	const [fa, fb] = img.files;
	const st = statSync(a);
	assert.is(fa!.identity.size, st.size);
	assert.is(fa!.identity.inode, BigInt(st.ino));
	assert.is(fa!.identity.mtimeNs, statSync(a, { bigint: true }).mtimeNs);
	assert.is(fa!.sizePages, 64);
	const cached = pagesOf(fa!.ranges);
	assert.ok(cached.every((p) => read.includes(p)), `only pages that were read are cached: ${cached.join(',')}`);
	assert.ok(cached.length >= read.length - 2, `the pages read are cached (${cached.length} of ${read.length})`);
	assert.is(pageCounts(fb!).resident, 0, 'b was evicted and never read');
	assert.equal(totals(img), { files: 2, resident: cached.length, hot: 0, warm: 0 });
});

image('a capture with hotness classes (best backend here) decodes to the totals the writer logged', async () => {
	const a = path.join(scratch.dir, 'hot');
	writeFile(a, 32 * PAGE);
	await evict(a);
	await readPages(a, range(0, 16), 3);
	await readPages(a, range(16, 24), 1);
	const r = runCaptureTool([a], { HOTCACHE_VERBOSE: '1' });
	assert.is(r.code, 0, r.stderr);
	const logged = /captured (\d+) files, (\d+) pages, (\d+) hot, (\d+) warm/.exec(r.stderr);
	assert.ok(logged, r.stderr);
	const [files, resident, hot, warm] = logged.slice(1).map(Number);
	assert.equal(totals(decodeImage(r.stdout)), { files, resident, hot, warm });
});

image('a capture stopped by its time limit is marked partial and keeps the files it finished', () => {
	const dir = path.join(scratch.dir, 'many');
	spawnSync('mkdir', [dir]);
	const files = range(0, 300).map((i) => path.join(dir, `f${i}`));
	for (const f of files) writeFile(f, 4 * PAGE);
	const r = runCaptureTool(['--backend', 'mincore', '--time-limit-ms', '1', ...files]);
	assert.is(r.code, 0, r.stderr);
	const img = decodeImage(r.stdout);
	assert.is(img.capture.partial, true);
	assert.match(img.capture.partialReason, /time limit/);
	assert.ok(img.files.length < files.length, `${img.files.length} files`);
	assert.equal(img.files.map((f) => f.path), files.slice(0, img.files.length), 'the files kept are the first ones, whole');
	// The last file may have been cut mid-scan: its ranges are a valid prefix.
	for (const f of img.files.slice(0, -1)) assert.is(pageCounts(f).resident, 4, `${f.path} was written just now, so fully cached`);
});

function sampleImage(): HotcacheImage {
	const identity = (size: number) => ({ size, mtimeNs: 1_700_000_000_123_456_789n, inode: 42n, dev: 2049n, handle: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), handleType: 1 });
	return {
		version: 1,
		capture: {
			host: 'source',
			kernel: '6.1.0-test',
			timeNs: 1_700_000_000_000_000_000n,
			backend: 'kmod',
			lru: 'mglru',
			hotWarmExact: true,
			pageSize: 4096,
			durationMs: 12,
			rootPid: 1234,
			ownRoot: true,
			partial: false,
			partialReason: '',
			tool: 'test',
			scope: 'cgroup',
			cgroup: '/sys/fs/cgroup/system.slice/app.scope',
		},
		files: [
			{
				path: '/srv/data/big',
				identity: identity(1 << 30),
				fds: [{ pid: 1234, fd: 3, offset: 5 << 20 }],
				mapped: false,
				sizePages: 262144,
				dirtySynced: true,
				ranges: [
					{ start: 0, count: 262144, hotness: Hotness.Hot },
				],
			},
			{
				path: '/srv/data/mixed',
				identity: identity(10 * 4096 + 1),
				fds: [],
				mapped: true,
				sizePages: 11,
				dirtySynced: false,
				ranges: [
					{ start: 0, count: 2, hotness: Hotness.Hot },
					{ start: 2, count: 3, hotness: Hotness.Warm },
					{ start: 7, count: 1, hotness: Hotness.Resident },
					{ start: 10, count: 1, hotness: Hotness.Hot },
				],
			},
			{ path: '/srv/empty', identity: identity(0), fds: [{ pid: 1, fd: 0, offset: 0 }, { pid: 1, fd: 9, offset: 0 }], mapped: false, sizePages: 0, dirtySynced: false, ranges: [] },
		],
	};
}

image('an image written by TypeScript reads back as written', () => {
	const img = sampleImage();
	assert.equal(decodeImage(encodeImage(img)), img);
});

image('an image that does not say its scope (written before scopes existed) reads as unspecified, with no cgroup', () => {
	const img = sampleImage();
	delete img.capture.scope;
	delete img.capture.cgroup;
	const back = decodeImage(encodeImage(img));
	assert.is(back.capture.scope, 'unspecified');
	assert.is(back.capture.cgroup, '');
});

image('a fully hot 1 GiB file costs a few bytes', () => {
	const img = sampleImage();
	img.files = img.files.slice(0, 1);
	const withRanges = encodeImage(img).length;
	img.files[0]!.ranges = [];
	assert.ok(withRanges - encodeImage(img).length <= 16, `${withRanges - encodeImage(img).length} bytes for the ranges`);
});

image('the encoder refuses overlapping or unsorted ranges (the format cannot express them)', () => {
	const img = sampleImage();
	img.files[1]!.ranges = [
		{ start: 0, count: 4, hotness: Hotness.Hot },
		{ start: 2, count: 4, hotness: Hotness.Warm },
	];
	assert.throws(() => encodeImage(img), (err: unknown) => err instanceof ImageError && err.kind === 'invalid');
});

// Hostile images: crafted at the protobuf level, so that they can say what encodeImage never would.
const schema = protobuf.loadSync(path.join(projectRoot, 'proto/hotcache.proto')).lookupType('hotcache.HotcacheImage');

type Raw = Record<string, unknown> & { files: Record<string, unknown>[]; capture: Record<string, unknown> };
function validRaw(): Raw {
	return {
		version: 1,
		capture: { pageSize: 4096, backend: 2, lru: 1, tool: 'hostile' },
		files: [
			{
				path: '/data/a',
				identity: { size: 10 * 4096, inode: 5, dev: 1 },
				sizePages: 10,
				gaps: [0, 2],
				lengths: [3, 4],
				classes: [3, 2],
				fds: [{ pid: 1, fd: 3, offset: 100 }],
			},
		],
	};
}

function frame(payload: Uint8Array, length = payload.length): Buffer {
	const header = Buffer.alloc(HEADER_BYTES);
	MAGIC.copy(header);
	header.writeUInt32LE(length, MAGIC.length);
	return Buffer.concat([header, payload]);
}

function encodeRaw(edit: (raw: Raw) => void): Buffer {
	const raw = validRaw();
	edit(raw);
	// fromObject, not verify: verify would refuse the unknown enum value the test wants to send.
	return frame(schema.encode(schema.fromObject(raw)).finish());
}

const first = (raw: Raw) => raw.files[0]!;
/** A top-level files entry (field 3) holding @body as is. */
function fileEntry(body: Uint8Array): Uint8Array {
	return protobuf.Writer.create().uint32((3 << 3) | 2).bytes(body).finish();
}
/** Files of 4096 empty fds each, just past the image-wide fd limit: built once, repeated on the wire. */
function manyFdsImage(): Buffer {
	const fileType = schema.lookupType('hotcache.File');
	const full = fileType.encode(fileType.fromObject({ path: '/f', identity: {}, fds: range(0, LIMITS.fdsPerFile).map(() => ({})) })).finish();
	const entry = fileEntry(full);
	const head = schema.encode(schema.fromObject({ version: 1, capture: { pageSize: 4096 } })).finish();
	return frame(Buffer.concat([head, ...range(0, Math.ceil((LIMITS.fdsPerImage + 1) / LIMITS.fdsPerFile)).map(() => entry)]));
}
const valid = encodeRaw(() => {});
const hostile: [string, Buffer, string][] = [
	['truncated payload', valid.subarray(0, valid.length - 3), 'truncated'],
	['shorter than the header', Buffer.from('HOTC'), 'truncated'],
	['bad magic', Buffer.concat([Buffer.from('NOTCACHE'), valid.subarray(8)]), 'bad-magic'],
	['length field past the limit', frame(Buffer.alloc(0), LIMITS.imageBytes + 1), 'too-large'],
	['trailing bytes', Buffer.concat([valid, Buffer.from([0])]), 'malformed'],
	['payload that is not protobuf', frame(Buffer.alloc(16, 0xff)), 'malformed'],
	['newer version', encodeRaw((r) => (r.version = 2)), 'bad-version'],
	['no version', encodeRaw((r) => delete r.version), 'bad-version'],
	['range past the end of the file', encodeRaw((r) => (first(r).lengths = [3, 8])), 'invalid'],
	['oversized gap', encodeRaw((r) => (first(r).gaps = [0, 2 ** 41])), 'invalid'],
	['oversized range length', encodeRaw((r) => (first(r).lengths = [3, 2 ** 50])), 'invalid'],
	['oversized file size', encodeRaw((r) => Object.assign(first(r), { sizePages: 2 ** 41, identity: { size: 2 ** 53 } })), 'invalid'],
	['more fds than the limit', encodeRaw((r) => (first(r).fds = range(0, LIMITS.fdsPerFile + 1).map((fd) => ({ pid: 1, fd, offset: 0 })))), 'invalid'],
	['more files than the limit', encodeRaw((r) => (r.files = range(0, LIMITS.files + 1).map(() => ({ path: '/f', identity: {} })))), 'invalid'],
	['range arrays of different lengths', encodeRaw((r) => (first(r).classes = [3])), 'invalid'],
	['empty range', encodeRaw((r) => (first(r).lengths = [3, 0])), 'invalid'],
	['unknown class', encodeRaw((r) => (first(r).classes = [3, 7])), 'invalid'],
	['relative path', encodeRaw((r) => (first(r).path = 'data/a')), 'invalid'],
	["path with '..'", encodeRaw((r) => (first(r).path = '/data/../etc/shadow')), 'invalid'],
	['path with a NUL byte (C strings would end at it)', encodeRaw((r) => (first(r).path = '/data/a\0/../../etc/shadow')), 'invalid'],
	['path that is not UTF-8', withPathBytes(Buffer.from([0x2f, 0xc3, 0x28])), 'invalid'],
	['more fds in the image than the limit', manyFdsImage(), 'invalid'],
	['packed range array past the image-wide limit', frame(fileEntry(protobuf.Writer.create().uint32((10 << 3) | 2).bytes(Buffer.alloc(LIMITS.rangesPerImage + 1)).finish())), 'invalid'],
	['range array with a fixed-width wire type', frame(fileEntry(Buffer.from([(10 << 3) | 5, 0, 0, 0, 0]))), 'malformed'],
	['truncated nested file entry', frame(Buffer.from([(3 << 3) | 2, 10, 1, 2])), 'malformed'],
	['path longer than the limit', encodeRaw((r) => (first(r).path = '/' + 'x'.repeat(LIMITS.pathBytes))), 'invalid'],
	['size and page count disagree', encodeRaw((r) => (first(r).sizePages = 11)), 'invalid'],
	['file without identity', encodeRaw((r) => delete first(r).identity), 'invalid'],
	['oversized file handle', encodeRaw((r) => (first(r).identity = { size: 10 * 4096, handle: Buffer.alloc(LIMITS.handleBytes + 1) })), 'invalid'],
	['page size not a power of two', encodeRaw((r) => (r.capture.pageSize = 5000)), 'invalid'],
	['cgroup path longer than the limit', encodeRaw((r) => ((r.capture as Record<string, unknown>).cgroup = '/' + 'c'.repeat(LIMITS.pathBytes))), 'invalid'],
	['capture scope sent as a length', frame(protobuf.Writer.create().uint32((1 << 3) | 0).uint32(1).uint32((2 << 3) | 2).bytes(Buffer.from([(7 << 3) | 0, 0x80, 0x20, (14 << 3) | 2, 1, 2])).finish()), 'malformed'],
	['no capture', encodeRaw((r) => delete (r as Record<string, unknown>).capture), 'invalid'],
	// A field whose wire type is not its schema's: decoders that trust the field number read a varint
	// as an empty message, or a length as a value (issue 7, item 3).
	['file entries sent as varints', frame(Buffer.concat([valid.subarray(HEADER_BYTES), Buffer.from([(3 << 3) | 0, 0, (3 << 3) | 0, 0])])), 'malformed'],
	['capture sent as a varint', frame(Buffer.from([(1 << 3) | 0, 1, (2 << 3) | 0, 5])), 'malformed'],
	['a path sent as a fixed64', frame(fileEntry(Buffer.from([(1 << 3) | 1, 0x2f, 0, 0, 0, 0, 0, 0, 0]))), 'malformed'],
	['an identity sent as a varint', frame(fileEntry(Buffer.from([(2 << 3) | 0, 7]))), 'malformed'],
	['an fd sent as a fixed32', frame(fileEntry(Buffer.from([(3 << 3) | 5, 0, 0, 0, 0]))), 'malformed'],
	['an fd offset sent as a length', frame(fileEntry(protobuf.Writer.create().uint32((3 << 3) | 2).bytes(Buffer.from([(3 << 3) | 2, 1, 0])).finish())), 'malformed'],
	['a page size sent as a length', frame(protobuf.Writer.create().uint32((1 << 3) | 0).uint32(1).uint32((2 << 3) | 2).bytes(Buffer.from([(7 << 3) | 2, 2, 0x10, 0x00])).finish()), 'malformed'],
	['a packed range array that ends inside a varint', frame(fileEntry(protobuf.Writer.create().uint32((10 << 3) | 2).bytes(Buffer.from([0x01, 0x80])).finish())), 'malformed'],
	['a range gap varint of 11 bytes', frame(fileEntry(protobuf.Writer.create().uint32((10 << 3) | 2).bytes(Buffer.from([...Array(10).fill(0x80), 0x01])).finish())), 'malformed'],
	['a group in an unknown field', frame(Buffer.concat([valid.subarray(HEADER_BYTES), Buffer.from([(9 << 3) | 3, (9 << 3) | 4])])), 'malformed'],
];

image('the hostile-image table starts from an image the decoder accepts', () => {
	assert.equal(pageCounts(decodeImage(valid).files[0]!), { resident: 7, hot: 3, warm: 4 });
});

for (const [name, buf, kind] of hostile) {
	image(`hostile image refused: ${name} (${kind})`, () => {
		assert.throws(() => decodeImage(buf), (err: unknown) => err instanceof ImageError && err.kind === kind, `expected ${kind}`);
	});
}

// The same 32 MiB as field 3 with the varint wire type: protobufjs decoded each as an empty File
// (48 s of CPU and 4.7 GB at 64 MiB before the heap limit); the wire-type check refuses it first.
image('hostile image refused, quickly: millions of file entries sent as varints (malformed)', () => {
	const head = schema.encode(schema.fromObject({ version: 1, capture: { pageSize: 4096 } })).finish();
	const buf = frame(Buffer.concat([head, Buffer.alloc(32 << 20, Buffer.from([(3 << 3) | 0, 0]))]));
	assert.throws(() => decodeImage(buf), (err: unknown) => err instanceof ImageError && err.kind === 'malformed' && /HotcacheImage.files has wire type 0/.test(err.message), 'expected malformed');
});

// 16 Mi empty File entries (two bytes each) in a 32 MiB payload: a decoder that builds every entry
// before counting them needs gigabytes. It must count first.
image('hostile image refused: millions of empty file entries (invalid)', () => {
	const head = schema.encode(schema.fromObject({ version: 1, capture: { pageSize: 4096 } })).finish();
	const emptyFile = Buffer.from([(3 << 3) | 2, 0]);
	const buf = frame(Buffer.concat([head, Buffer.alloc(32 << 20, emptyFile)]));
	assert.throws(() => decodeImage(buf), (err: unknown) => err instanceof ImageError && err.kind === 'invalid');
});

/** An image of one file whose path field holds `bytes` as they are (protobufjs would encode a string as UTF-8). */
function withPathBytes(bytes: Buffer): Buffer {
	const fileType = schema.lookupType('hotcache.File');
	const { path: _path, ...rest } = validRaw().files[0]!;
	const body = Buffer.concat([protobuf.Writer.create().uint32((1 << 3) | 2).bytes(bytes).finish(), fileType.encode(fileType.fromObject(rest)).finish()]);
	const head = schema.encode(schema.fromObject({ version: 1, capture: validRaw().capture })).finish();
	return frame(Buffer.concat([head, fileEntry(body)]));
}

// The capture records a path only if the decoder will accept it: the same rules on both sides, for
// every kind of path, valid UTF-8 or not (protobufjs alone would turn a bad byte into U+FFFD).
const paths: [string, Buffer][] = [
	['plain', Buffer.from('/data/a')],
	['dots that are not ".."', Buffer.from('/a/..b/b../.../.')],
	['UTF-8 of two to four bytes', Buffer.from('/caf\u00e9/\u20ac/\u{1f600}')],
	['the longest', Buffer.from('/' + 'x'.repeat(LIMITS.pathBytes - 1))],
	['one byte too long', Buffer.from('/' + 'x'.repeat(LIMITS.pathBytes))],
	['relative', Buffer.from('data/a')],
	['empty', Buffer.alloc(0)],
	['a ".." component', Buffer.from('/data/../etc')],
	['ending in ".."', Buffer.from('/data/..')],
	['a NUL byte', Buffer.from('/data/a\0b')],
	['an overlong "/"', Buffer.from([0x2f, 0xc0, 0xaf])],
	['an overlong three-byte form', Buffer.from([0x2f, 0xe0, 0x80, 0xaf])],
	['a surrogate', Buffer.from([0x2f, 0xed, 0xa0, 0x80])],
	['past U+10FFFF', Buffer.from([0x2f, 0xf4, 0x90, 0x80, 0x80])],
	['cut short', Buffer.from([0x2f, 0xe2, 0x82])],
	['a lone continuation byte', Buffer.from([0x2f, 0x80])],
	['0xff', Buffer.from([0x2f, 0xff])],
];

image('path rules: the C capture records exactly the paths the decoder accepts', () => {
	const verdicts = spawnSync(testRunner, ['path-ok'], { input: paths.map(([, b]) => b.toString('hex')).join('\n') + '\n', encoding: 'utf8' }).stdout.trim().split('\n');
	assert.is(verdicts.length, paths.length);
	paths.forEach(([name, bytes], i) => {
		let decoded = 'ok';
		try {
			decodeImage(withPathBytes(bytes));
		} catch (err) {
			if (!(err instanceof ImageError) || err.kind !== 'invalid') throw err;
			decoded = 'refused';
		}
		assert.is(decoded, verdicts[i], `${name}: C says ${verdicts[i]}, the decoder ${decoded}`);
	});
	assert.equal(verdicts.slice(0, 4), ['ok', 'ok', 'ok', 'ok'], 'the good ones pass');
	assert.ok(verdicts.slice(4).every((v) => v === 'refused'), 'the bad ones do not');
});

image('hotcache inspect --json shows each file with its counts, ranges and fds', () => {
	const dir = path.join(scratch.dir, 'inspect');
	spawnSync('mkdir', [dir]);
	writeFileSync(path.join(dir, IMAGE_FILE), encodeImage(sampleImage()));
	const r = spawnSync(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'inspect', '--json', dir], { encoding: 'utf8' });
	assert.is(r.status, 0, r.stderr);
	const view = JSON.parse(r.stdout) as { backend: string; lru: string; files: { path: string; sizePages: number; resident: number; hot: number; warm: number; ranges: unknown[]; fds: unknown[] }[] };
	assert.is(view.backend, 'kmod');
	assert.is(view.lru, 'mglru');
	const mixed = view.files[1]!;
	assert.equal(
		{ path: mixed.path, sizePages: mixed.sizePages, resident: mixed.resident, hot: mixed.hot, warm: mixed.warm },
		{ path: '/srv/data/mixed', sizePages: 11, resident: 7, hot: 3, warm: 3 },
	);
	assert.equal(mixed.ranges[1], { start: 2, count: 3, class: 'warm' });
	assert.equal(view.files[0]!.fds, [{ pid: 1234, fd: 3, offset: 5 << 20 }]);
	writeFileSync(path.join(scratch.dir, 'hostile.img'), hostile[0]![1]);
	const bad = spawnSync(process.execPath, [path.join(projectRoot, 'tools/hotcache.js'), 'inspect', '--json', path.join(scratch.dir, 'hostile.img')], { encoding: 'utf8' });
	assert.is(bad.status, 1);
	assert.match(bad.stdout, /"code":"image-/);
	assert.ok(existsSync(path.join(dir, IMAGE_FILE)));
});

image.run();
