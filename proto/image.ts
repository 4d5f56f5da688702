// hotcache.img in TypeScript: framing, decoding with bounds, validation, encoding.
// The schema is proto/hotcache.proto; the format's facts and bounds come from the contract
// (contract/contract.json), as in the C writer.
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import { BACKEND, FORMAT_VERSION, Hotness, IMAGE, LIMITS, LRU, SCOPE } from '../contract/out/contract.js';

export { FORMAT_VERSION, Hotness, LIMITS };
export const IMAGE_FILE = IMAGE.file;
/** The bytes that open every hotcache.img, then a u32 little-endian payload length. */
export const MAGIC = Buffer.from(IMAGE.magic, 'ascii');
export const HEADER_BYTES = IMAGE.headerBytes;

/** 0 in an image: the capture did not say. */
export type BackendName = Exclude<keyof typeof BACKEND, 'auto'> | 'unspecified';
export type LruName = keyof typeof LRU;
/** 0 in an image: written before scopes existed, by a capture of the tree. */
export type ScopeName = Exclude<keyof typeof SCOPE, 'auto'> | 'unspecified';

export interface PageRange {
	start: number;
	count: number;
	hotness: Hotness;
}

export interface FileIdentity {
	size: number;
	mtimeNs: bigint;
	inode: bigint;
	dev: bigint;
	handle: Uint8Array;
	handleType: number;
}

export interface OpenFd {
	pid: number;
	fd: number;
	offset: number;
}

export interface ImageFile {
	path: string;
	identity: FileIdentity;
	fds: OpenFd[];
	mapped: boolean;
	sizePages: number;
	dirtySynced: boolean;
	/** Sorted, non-overlapping, within the file. */
	ranges: PageRange[];
}

export interface Capture {
	host: string;
	kernel: string;
	timeNs: bigint;
	backend: BackendName;
	lru: LruName;
	hotWarmExact: boolean;
	pageSize: number;
	durationMs: number;
	rootPid: number;
	ownRoot: boolean;
	partial: boolean;
	partialReason: string;
	tool: string;
	/** What the capture covered; decodeImage always sets it, a writer may leave it out (unspecified). */
	scope?: ScopeName;
	/** The memory cgroup of a cgroup scope, as the capture saw its directory; decodeImage always sets it ('' when none). */
	cgroup?: string;
}

export interface HotcacheImage {
	version: number;
	capture: Capture;
	files: ImageFile[];
}

export type ImageErrorKind = 'truncated' | 'bad-magic' | 'too-large' | 'malformed' | 'bad-version' | 'invalid';

/** Why an image was refused. `path` names the file entry at fault, when there is one. */
export class ImageError extends Error {
	override name = 'ImageError';
	constructor(
		readonly kind: ImageErrorKind,
		message: string,
		readonly path?: string,
	) {
		super(message);
	}
}

/** Name by number, and number by name. */
function enumTable<Name extends string>(values: Readonly<Record<string, number>>, zero: Name): { name(n: number): Name; number(name: Name): number } {
	const names = new Map<number, Name>(Object.entries(values).map(([name, n]) => [n, (n === 0 ? zero : name) as Name]));
	return { name: (n) => names.get(n) ?? zero, number: (name) => (name === zero ? 0 : (values[name] ?? 0)) };
}
const BACKENDS = enumTable<BackendName>(BACKEND, 'unspecified');
const LRUS = enumTable<LruName>(LRU, 'unspecified');
const SCOPES = enumTable<ScopeName>(SCOPE, 'unspecified');

const schemaFile = fileURLToPath(new URL('../../proto/hotcache.proto', import.meta.url));
let messageType: protobuf.Type | undefined;
function imageType(): protobuf.Type {
	messageType ??= protobuf.loadSync(schemaFile).resolveAll().lookupType('hotcache.HotcacheImage');
	return messageType;
}

const RANGE_ARRAYS = ['gaps', 'lengths', 'classes'] as const;

/**
 * The schema without File's range arrays, for decoding: protobufjs skips them as unknown fields, and
 * the wire walk, which reads them anyway, decodes them straight to numbers. Decoded by protobufjs,
 * each uint64 became a Long, then a string: 4 million ranges cost about 1.2 GB and 9 s.
 */
let decodingMessageType: protobuf.Type | undefined;
function decodingType(): protobuf.Type {
	if (!decodingMessageType) {
		const root = protobuf.loadSync(schemaFile);
		const file = root.lookupType('hotcache.File');
		for (const name of RANGE_ARRAYS) file.remove(file.fields[name]!);
		decodingMessageType = root.resolveAll().lookupType('hotcache.HotcacheImage');
	}
	return decodingMessageType;
}

/** Page counts of one file, derived from its ranges (never trusted from the image). */
export function pageCounts(file: Pick<ImageFile, 'ranges'>): { resident: number; hot: number; warm: number } {
	let resident = 0;
	let hot = 0;
	let warm = 0;
	for (const r of file.ranges) {
		resident += r.count;
		if (r.hotness === Hotness.Hot) hot += r.count;
		else if (r.hotness === Hotness.Warm) warm += r.count;
	}
	return { resident, hot, warm };
}

/** Strips and checks the frame; returns the protobuf payload. */
function unframe(buf: Uint8Array): Uint8Array {
	if (buf.length < HEADER_BYTES) throw new ImageError('truncated', `image is ${buf.length} bytes, shorter than its ${HEADER_BYTES}-byte header`);
	if (!MAGIC.equals(Buffer.from(buf.subarray(0, MAGIC.length)))) throw new ImageError('bad-magic', 'not a hotcache image (bad magic)');
	const length = Buffer.from(buf.buffer, buf.byteOffset, buf.length).readUInt32LE(MAGIC.length);
	if (length > LIMITS.imageBytes) throw new ImageError('too-large', `image payload of ${length} bytes exceeds the ${LIMITS.imageBytes}-byte limit`);
	if (buf.length - HEADER_BYTES < length) throw new ImageError('truncated', `image payload is ${buf.length - HEADER_BYTES} of ${length} bytes`);
	if (buf.length - HEADER_BYTES > length) throw new ImageError('malformed', `${buf.length - HEADER_BYTES - length} trailing bytes after the image payload`);
	return buf.subarray(HEADER_BYTES);
}

interface RawFile {
	path: string;
	identity?: { size: string; mtimeNs: string; inode: string; dev: string; handle: Uint8Array; handleType: number };
	fds: { pid: number; fd: number; offset: string }[];
	mapped: boolean;
	sizePages: string;
	dirtySynced: boolean;
	gaps: number[];
	lengths: number[];
	classes: number[];
}
interface RawImage {
	version: number;
	capture?: Record<string, unknown>;
	files: RawFile[];
}

function safeNumber(text: string | number, what: string, max: number, path?: string): number {
	const value = Number(text);
	if (!Number.isSafeInteger(value) || value < 0 || value > max) throw new ImageError('invalid', `${what} ${text} is out of range`, path);
	return value;
}

/**
 * Appends the varints in `bytes` to `out` as numbers: exact up to 2^53, larger ones only roughly
 * (every bound they are checked against is far below that).
 */
function decodeVarints(bytes: Uint8Array, out: number[]): void {
	let value = 0;
	let scale = 1;
	for (const byte of bytes) {
		value += (byte & 0x7f) * scale;
		if (byte < 0x80) {
			out.push(value);
			value = 0;
			scale = 1;
		} else if ((scale *= 128) > 2 ** 63) {
			throw new ImageError('malformed', 'a varint longer than 10 bytes');
		}
	}
	if (scale !== 1) throw new ImageError('malformed', 'a packed array ends inside a varint');
}

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const WIRE_GROUP_START = 3;
const WIRE_GROUP_END = 4;
const WIRE_FIXED32 = 5;

/** The wire types a field may arrive with: its type's own, and length-delimited for a packed repeated scalar. */
function wireTypesOf(field: protobuf.Field): number[] {
	if (field.resolvedType instanceof protobuf.Type) return [WIRE_BYTES];
	const own = field.resolvedType instanceof protobuf.Enum ? WIRE_VARINT : (protobuf.types.basic as Record<string, number>)[field.type]!;
	return field.repeated && own !== WIRE_BYTES ? [own, WIRE_BYTES] : [own];
}

/** Entries counted on the wire; the limits are checked as each one is seen. */
interface WireCounts {
	files: number;
	fdsInImage: number;
	fdsOfFile: number;
	/** gaps, lengths, classes entries in the whole image. */
	ranges: Record<string, number>;
	/** Each file's range arrays, decoded. */
	rangeArrays: Pick<RawFile, (typeof RANGE_ARRAYS)[number]>[];
}

/** Strict UTF-8: overlong forms, surrogates and values past U+10FFFF are refused, as the C capture refuses to write them. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Walks a payload on the wire without decoding it, and refuses: a field whose wire type is not its
 * schema's (protobufjs reads a varint as an empty message, or a value as a length); groups and
 * reserved wire types; a path that is not strict UTF-8 (decoded, it would name another file); more
 * repeated entries than the limits. Decoding first would build an object for every entry: a 64 MiB
 * payload of empty entries costs gigabytes.
 */
function checkWire(reader: protobuf.Reader, type: protobuf.Type, counts: WireCounts): void {
	const inFile = type.name === 'File';
	while (reader.pos < reader.len) {
		const tag = reader.uint32();
		const id = tag >>> 3;
		const wire = tag & 7;
		if (id === 0 || wire === WIRE_GROUP_START || wire === WIRE_GROUP_END || wire > WIRE_FIXED32) {
			throw new ImageError('malformed', `${type.name} has a field ${id} of wire type ${wire}`);
		}
		const field = type.fieldsById[id];
		if (!field) {
			reader.skipType(wire); // a later version's field
			continue;
		}
		const allowed = wireTypesOf(field);
		if (!allowed.includes(wire)) throw new ImageError('malformed', `${type.name}.${field.name} has wire type ${wire}, not ${allowed.join(' or ')}`);
		if (field.resolvedType instanceof protobuf.Type) {
			if (type.name === 'HotcacheImage' && field.name === 'files') {
				if (++counts.files > LIMITS.files) throw new ImageError('invalid', `more than ${LIMITS.files} files in the image`);
				counts.fdsOfFile = 0;
				counts.rangeArrays.push({ gaps: [], lengths: [], classes: [] });
			} else if (inFile && field.name === 'fds') {
				if (++counts.fdsOfFile > LIMITS.fdsPerFile) throw new ImageError('invalid', `more than ${LIMITS.fdsPerFile} fds on one file`);
				if (++counts.fdsInImage > LIMITS.fdsPerImage) throw new ImageError('invalid', `more than ${LIMITS.fdsPerImage} fds in the image`);
			}
			checkWire(protobuf.Reader.create(reader.bytes()), field.resolvedType, counts);
		} else if (inFile && (RANGE_ARRAYS as readonly string[]).includes(field.name)) {
			// Packed: one element per byte without the continuation bit, counted before any is decoded;
			// unpacked: one element.
			const start = reader.pos;
			const bytes = wire === WIRE_BYTES ? reader.bytes() : (reader.skipType(wire), reader.buf.subarray(start, reader.pos));
			const entries = wire === WIRE_BYTES ? bytes.reduce((n, byte) => n + (byte < 0x80 ? 1 : 0), 0) : 1;
			counts.ranges[field.name] = (counts.ranges[field.name] ?? 0) + entries;
			if (counts.ranges[field.name]! > LIMITS.rangesPerImage) throw new ImageError('invalid', `more than ${LIMITS.rangesPerImage} ranges in the image`);
			decodeVarints(bytes, counts.rangeArrays.at(-1)![field.name as (typeof RANGE_ARRAYS)[number]]);
		} else if (inFile && field.name === 'path') {
			try {
				utf8.decode(reader.bytes());
			} catch {
				throw new ImageError('invalid', 'a path is not valid UTF-8');
			}
		} else {
			reader.skipType(wire);
		}
	}
}

/** Decodes and validates a framed hotcache.img. Throws ImageError on anything hostile or corrupt. */
export function decodeImage(buf: Uint8Array): HotcacheImage {
	if (buf.length > HEADER_BYTES + LIMITS.imageBytes) throw new ImageError('too-large', `image of ${buf.length} bytes exceeds the limit`);
	const payload = unframe(buf);
	const counts: WireCounts = { files: 0, fdsInImage: 0, fdsOfFile: 0, ranges: {}, rangeArrays: [] };
	try {
		checkWire(protobuf.Reader.create(payload), imageType(), counts);
	} catch (err) {
		if (err instanceof ImageError) throw err;
		throw new ImageError('malformed', `image payload does not decode: ${(err as Error).message}`);
	}
	let raw: RawImage;
	try {
		const type = decodingType();
		raw = type.toObject(type.decode(payload), { longs: String, enums: Number, bytes: Uint8Array, defaults: true, arrays: true }) as RawImage;
	} catch (err) {
		throw new ImageError('malformed', `image payload does not decode: ${(err as Error).message}`);
	}
	// The walk saw the same files entries, in the same order.
	raw.files.forEach((f, i) => Object.assign(f, counts.rangeArrays[i]));
	if (raw.version !== FORMAT_VERSION) throw new ImageError('bad-version', `image format version ${raw.version}, this hotcache reads version ${FORMAT_VERSION}`);
	if (raw.files.length > LIMITS.files) throw new ImageError('invalid', `${raw.files.length} files exceed the limit of ${LIMITS.files}`);
	const capture = decodeCapture(raw.capture ?? {});
	let rangeBudget: number = LIMITS.rangesPerImage;
	const files = raw.files.map((f) => {
		const file = decodeFile(f, capture.pageSize, rangeBudget);
		rangeBudget -= file.ranges.length;
		return file;
	});
	return { version: raw.version, capture, files };
}

function decodeCapture(c: Record<string, unknown>): Capture {
	const pageSize = Number(c.pageSize ?? 0);
	if (pageSize < IMAGE.pageSize.min || pageSize > IMAGE.pageSize.max || (pageSize & (pageSize - 1)) !== 0) {
		throw new ImageError('invalid', `page size ${pageSize} is not a power of two from ${IMAGE.pageSize.min} to ${IMAGE.pageSize.max}`);
	}
	const cgroup = String(c.cgroup ?? '');
	if (Buffer.byteLength(cgroup) > LIMITS.pathBytes) throw new ImageError('invalid', `a cgroup path of ${Buffer.byteLength(cgroup)} bytes exceeds the limit`);
	return {
		host: String(c.host ?? ''),
		kernel: String(c.kernel ?? ''),
		timeNs: BigInt(String(c.timeNs ?? '0')),
		backend: BACKENDS.name(Number(c.backend)),
		lru: LRUS.name(Number(c.lru)),
		hotWarmExact: Boolean(c.hotWarmExact),
		pageSize,
		durationMs: Number(c.durationMs ?? 0),
		rootPid: Number(c.rootPid ?? 0),
		ownRoot: Boolean(c.ownRoot),
		partial: Boolean(c.partial),
		partialReason: String(c.partialReason ?? ''),
		tool: String(c.tool ?? ''),
		scope: SCOPES.name(Number(c.scope)),
		cgroup,
	};
}

function decodeFile(f: RawFile, pageSize: number, rangeBudget: number): ImageFile {
	const path = f.path;
	if (Buffer.byteLength(path) > LIMITS.pathBytes) throw new ImageError('invalid', `a path of ${Buffer.byteLength(path)} bytes exceeds the limit`);
	if (!path.startsWith('/') || path.includes('\0')) throw new ImageError('invalid', `path ${JSON.stringify(path)} is not absolute`, path);
	if (path.split('/').includes('..')) throw new ImageError('invalid', `path ${JSON.stringify(path)} contains '..'`, path);
	if (!f.identity) throw new ImageError('invalid', 'file entry has no identity', path);
	if (f.fds.length > LIMITS.fdsPerFile) throw new ImageError('invalid', `${f.fds.length} fds exceed the limit of ${LIMITS.fdsPerFile}`, path);
	if (f.identity.handle.length > LIMITS.handleBytes) throw new ImageError('invalid', `file handle of ${f.identity.handle.length} bytes exceeds the limit`, path);
	const size = safeNumber(f.identity.size, 'file size', LIMITS.sizePages * pageSize, path);
	const sizePages = safeNumber(f.sizePages, 'size in pages', LIMITS.sizePages, path);
	if (sizePages !== Math.ceil(size / pageSize)) throw new ImageError('invalid', `size of ${sizePages} pages does not match ${size} bytes`, path);
	const n = f.gaps.length;
	if (f.lengths.length !== n || f.classes.length !== n) throw new ImageError('invalid', `range arrays differ in length (${n}, ${f.lengths.length}, ${f.classes.length})`, path);
	if (n > rangeBudget) throw new ImageError('invalid', `more than ${LIMITS.rangesPerImage} ranges in the image`, path);
	const ranges: PageRange[] = [];
	let end = 0;
	for (let i = 0; i < n; i++) {
		const start = end + safeNumber(f.gaps[i]!, 'range gap', LIMITS.sizePages, path);
		const count = safeNumber(f.lengths[i]!, 'range length', LIMITS.sizePages, path);
		const hotness = f.classes[i]!;
		if (count === 0) throw new ImageError('invalid', `range ${i} is empty`, path);
		if (hotness !== Hotness.Resident && hotness !== Hotness.Warm && hotness !== Hotness.Hot) throw new ImageError('invalid', `range ${i} has unknown class ${hotness}`, path);
		end = start + count;
		if (end > sizePages) throw new ImageError('invalid', `range ${i} ends at page ${end}, past the file's ${sizePages} pages`, path);
		ranges.push({ start, count, hotness });
	}
	return {
		path,
		identity: {
			size,
			mtimeNs: BigInt(f.identity.mtimeNs),
			inode: BigInt(f.identity.inode),
			dev: BigInt(f.identity.dev),
			handle: f.identity.handle,
			handleType: f.identity.handleType,
		},
		fds: f.fds.map((d) => ({ pid: d.pid, fd: d.fd, offset: safeNumber(d.offset, 'fd offset', Number.MAX_SAFE_INTEGER, path) })),
		mapped: f.mapped,
		sizePages,
		dirtySynced: f.dirtySynced,
		ranges,
	};
}

/** Encodes and frames an image: the TypeScript writer (tests, and plans made without CRIU). */
export function encodeImage(image: HotcacheImage): Buffer {
	const type = imageType();
	const c = image.capture;
	const message = type.fromObject({
		version: image.version,
		capture: {
			host: c.host,
			kernel: c.kernel,
			timeNs: c.timeNs.toString(),
			backend: BACKENDS.number(c.backend),
			lru: LRUS.number(c.lru),
			hotWarmExact: c.hotWarmExact,
			pageSize: c.pageSize,
			durationMs: c.durationMs,
			rootPid: c.rootPid,
			ownRoot: c.ownRoot,
			partial: c.partial,
			partialReason: c.partialReason,
			tool: c.tool,
			scope: SCOPES.number(c.scope ?? 'unspecified'),
			cgroup: c.cgroup ?? '',
		},
		files: image.files.map((f) => {
			const counts = pageCounts(f);
			let end = 0;
			const gaps: number[] = [];
			for (const r of f.ranges) {
				if (r.start < end || r.count <= 0) throw new ImageError('invalid', 'ranges must be sorted, non-empty and non-overlapping', f.path);
				gaps.push(r.start - end);
				end = r.start + r.count;
			}
			return {
				path: f.path,
				identity: {
					size: f.identity.size,
					mtimeNs: f.identity.mtimeNs.toString(),
					inode: f.identity.inode.toString(),
					dev: f.identity.dev.toString(),
					handle: f.identity.handle,
					handleType: f.identity.handleType,
				},
				fds: f.fds,
				mapped: f.mapped,
				sizePages: f.sizePages,
				residentPages: counts.resident,
				hotPages: counts.hot,
				warmPages: counts.warm,
				dirtySynced: f.dirtySynced,
				gaps,
				lengths: f.ranges.map((r) => r.count),
				classes: f.ranges.map((r) => r.hotness),
			};
		}),
	});
	const payload = type.encode(message).finish();
	const header = Buffer.alloc(HEADER_BYTES);
	MAGIC.copy(header);
	header.writeUInt32LE(payload.length, MAGIC.length);
	return Buffer.concat([header, payload]);
}
