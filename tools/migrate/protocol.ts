// The messages between `hotcache migrate` (the source) and its destination agent (`hotcache receive`),
// one msgpack map per frame (framing.ts). The source speaks first, with `hello`; the agent answers with
// its own. A peer that sees another protocol number stops with an error before anything else happens.
//
// Times (`time`, `start`, ...) are the sender's clock in milliseconds since the epoch, with sub-millisecond
// precision (clock.ts); the source maps the agent's onto its own with the offset the ping exchange gives.
// Every incoming message is checked here (parseToAgent / parseFromAgent): the peer is another process,
// possibly another machine, and its bytes are untrusted.

export const PROTOCOL_VERSION = 2;

export type Warm = 'precopy' | 'freeze' | 'restore' | 'off';
export const WARM_MODES: readonly Warm[] = ['precopy', 'freeze', 'restore', 'off'];

/** What the agent learnt from the record of the destination's prefetch (record-totals.ts). */
export interface WarmTotals {
	/** pids of every process that prefetched for this migration (one, when all is well). */
	prefetchers: number[];
	/** When the first prefetch started and the last one ended (agent's clock), or null. */
	firstStart: number | null;
	lastEnd: number | null;
	askedBytes: number;
	alreadyResidentBytes: number;
	fetchedBytes: number;
	/** What the engine read, its second pass over the hot pages included. */
	bytesRead: number;
	/** Bytes made resident by chunks that finished after the restored process resumed. */
	fetchedAfterResume: number;
	/** The last status line, or null. */
	status: string | null;
}

export type ToAgent =
	| { type: 'hello'; protocol: number; migration: string; warm: Warm; pid: number; host: string; time: number }
	| { type: 'ping'; time: number }
	/** A plan: a framed hotcache.img. `final`: the plugin's, at the freeze (fetch what is still missing). */
	| { type: 'plan'; seq: number; final: boolean; image: Uint8Array }
	/** A piece of an image file, in order: `offset` is where it goes, `size` the whole file's. */
	| { type: 'file'; name: string; size: number; offset: number; data: Uint8Array }
	| { type: 'files-done'; files: number; bytes: number }
	| { type: 'restore' }
	/** The migration is over: report what the prefetch did, then exit. */
	| { type: 'finish' }
	/** Stop everything, remove what this migration received, exit. */
	| { type: 'abort'; reason: string };

export type FromAgent =
	/**
	 * `criu`: its version, null when there is none; `pieces`: where CRIU gets hotcache from there, or why it
	 * cannot; `pidNamespace`: its pid namespace (pid-namespace.ts), null when unknown.
	 */
	| { type: 'hello'; protocol: number; host: string; pid: number; time: number; pageSize: number; criu: string | null; pieces: { from: 'install' | 'checkout' | null; problem: string | null }; dir: string; pidNamespace: string | null }
	| { type: 'pong'; time: number }
	/** The prefetch of plan `seq` started with this many pages to do. */
	| { type: 'warming'; seq: number; time: number; pages: number }
	| { type: 'progress'; seq: number; time: number; donePages: number; totalPages: number; fetchedBytes: number }
	| { type: 'warm-done'; seq: number; time: number; fetchedBytes: number; stopped: string | null }
	| { type: 'files-received'; files: number; bytes: number; time: number }
	| {
			type: 'restored';
			ok: true;
			pid: number;
			start: number;
			/** criu restore returned: the process runs. */
			time: number;
			planBytes: number | null;
			residentBeforeRestore: number | null;
			residentAtResume: number | null;
	  }
	| { type: 'restored'; ok: false; reason: string; log: string }
	| { type: 'result'; totals: WarmTotals }
	/** Something the operator should know (a refused plan, a prefetch that could not start). */
	| { type: 'note'; text: string }
	| { type: 'error'; message: string };

export class ProtocolError extends Error {
	override name = 'ProtocolError';
}

type Shape = Record<string, 'string' | 'number' | 'boolean' | 'bytes' | 'number|null' | 'string|null' | 'numbers' | 'object'>;

const TO_AGENT: Record<ToAgent['type'], Shape> = {
	hello: { protocol: 'number', migration: 'string', warm: 'string', pid: 'number', host: 'string', time: 'number' },
	ping: { time: 'number' },
	plan: { seq: 'number', final: 'boolean', image: 'bytes' },
	file: { name: 'string', size: 'number', offset: 'number', data: 'bytes' },
	'files-done': { files: 'number', bytes: 'number' },
	restore: {},
	finish: {},
	abort: { reason: 'string' },
};

const FROM_AGENT: Record<FromAgent['type'], Shape> = {
	hello: { protocol: 'number', host: 'string', pid: 'number', time: 'number', pageSize: 'number', criu: 'string|null', pieces: 'object', dir: 'string', pidNamespace: 'string|null' },
	pong: { time: 'number' },
	warming: { seq: 'number', time: 'number', pages: 'number' },
	progress: { seq: 'number', time: 'number', donePages: 'number', totalPages: 'number', fetchedBytes: 'number' },
	'warm-done': { seq: 'number', time: 'number', fetchedBytes: 'number', stopped: 'string|null' },
	'files-received': { files: 'number', bytes: 'number', time: 'number' },
	restored: { ok: 'boolean' },
	result: { totals: 'object' },
	note: { text: 'string' },
	error: { message: 'string' },
};

const RESTORED_OK: Shape = { pid: 'number', start: 'number', time: 'number', planBytes: 'number|null', residentBeforeRestore: 'number|null', residentAtResume: 'number|null' };
const RESTORED_FAILED: Shape = { reason: 'string', log: 'string' };
const TOTALS: Shape = {
	prefetchers: 'numbers',
	firstStart: 'number|null',
	lastEnd: 'number|null',
	askedBytes: 'number',
	alreadyResidentBytes: 'number',
	fetchedBytes: 'number',
	bytesRead: 'number',
	fetchedAfterResume: 'number',
	status: 'string|null',
};

/** Strings and lists a message may hold; bytes are bounded by the frame. */
const MAX_STRING = 64 << 10;
const MAX_LIST = 4096;

function fits(value: unknown, kind: Shape[string]): boolean {
	switch (kind) {
		case 'string':
			return typeof value === 'string' && value.length <= MAX_STRING;
		case 'number':
			return typeof value === 'number' && Number.isFinite(value);
		case 'boolean':
			return typeof value === 'boolean';
		case 'bytes':
			return value instanceof Uint8Array;
		case 'number|null':
			return value === null || fits(value, 'number');
		case 'string|null':
			return value === null || fits(value, 'string');
		case 'numbers':
			return Array.isArray(value) && value.length <= MAX_LIST && value.every((v) => fits(v, 'number'));
		case 'object':
			return typeof value === 'object' && value !== null && !Array.isArray(value);
	}
}

function check(raw: Record<string, unknown>, shape: Shape, what: string): void {
	for (const [key, kind] of Object.entries(shape)) {
		if (!fits(raw[key], kind)) throw new ProtocolError(`${what}: field ${key} is not a ${kind}`);
	}
}

function messageOf(raw: unknown): Record<string, unknown> & { type: string } {
	if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || typeof (raw as { type?: unknown }).type !== 'string') {
		throw new ProtocolError('a message that is not a map with a type');
	}
	return raw as Record<string, unknown> & { type: string };
}

/**
 * A hello of another protocol version may have other fields: only its version and host are checked, so
 * that the receiver can say which versions differ (it reads nothing else of it before refusing it).
 */
function otherVersionHello(m: Record<string, unknown> & { type: string }): boolean {
	if (m.type !== 'hello' || m.protocol === PROTOCOL_VERSION) return false;
	check(m, { protocol: 'number', host: 'string' }, 'hello');
	return true;
}

/** A message from the source, checked field by field. */
export function parseToAgent(raw: unknown): ToAgent {
	const m = messageOf(raw);
	const shape = TO_AGENT[m.type as ToAgent['type']];
	if (!shape) throw new ProtocolError(`unknown message type ${JSON.stringify(m.type.slice(0, 40))}`);
	if (otherVersionHello(m)) return m as unknown as ToAgent;
	check(m, shape, m.type);
	if (m.type === 'hello' && !WARM_MODES.includes(m.warm as Warm)) throw new ProtocolError(`hello: unknown warm mode ${JSON.stringify(m.warm)}`);
	return m as unknown as ToAgent;
}

/** A message from the agent, checked field by field. */
export function parseFromAgent(raw: unknown): FromAgent {
	const m = messageOf(raw);
	const shape = FROM_AGENT[m.type as FromAgent['type']];
	if (!shape) throw new ProtocolError(`unknown message type ${JSON.stringify(m.type.slice(0, 40))}`);
	if (otherVersionHello(m)) return m as unknown as FromAgent;
	check(m, shape, m.type);
	if (m.type === 'hello') check(m.pieces as Record<string, unknown>, { from: 'string|null', problem: 'string|null' }, 'hello.pieces');
	if (m.type === 'restored') check(m, m.ok ? RESTORED_OK : RESTORED_FAILED, 'restored');
	if (m.type === 'result') check(m.totals as Record<string, unknown>, TOTALS, 'result.totals');
	return m as unknown as FromAgent;
}
