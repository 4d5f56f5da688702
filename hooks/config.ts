// The settings, from hotcache.conf then the environment, read from the contract's table (every key's
// type, default and bounds: contract/contract.json) by the rules criu-plugin/lib/config.c and
// hooks/config.sh also follow; the parity test holds the three to the same values and warnings:
//  - the file is $HOTCACHE_CONFIG, else /etc/criu/hotcache.conf; an absent file is no file; NUL bytes
//    are dropped, as sh's read drops them;
//  - '#' starts a comment; blanks (space, tab) around key and value do not count; a line that is not
//    printable ASCII, not KEY=VALUE, or names an unknown key is a warning and is ignored;
//  - an empty value, in the file or in the environment, sets nothing;
//  - a value that does not fit its key is a warning and is ignored, as if it were not there; otherwise
//    later lines win, and the environment wins over the file.
import { readFileSync, statSync } from 'node:fs';
import { CONFIG, CONFIG_KEYS, POOL_EXTRA_THREADS, type ConfigKey, type ConfigKeySpec, type ConfigValues } from '../contract/out/contract.js';

export const MAX_WORKERS = CONFIG_KEYS.HOTCACHE_WORKERS.max!;

/** libuv threads for `workers` chunks in flight: one each, and a few for the opens and cachestat calls (the action script adds the same). */
export function threadPoolSize(workers: number): number {
	return workers + POOL_EXTRA_THREADS;
}

/** What the prefetcher uses. */
export interface Config {
	stateDir: string;
	workers: number;
	/** Bytes per second; 0 = no cap. */
	bandwidth: number;
	/** Second read of the hot pages so they land on the active list. */
	activate: boolean;
	/** An extra copy of the record, for the operator or the benchmark. */
	record: string | null;
	/** Requests per second; 0 = no cap. */
	iops: number;
	/** Files on FUSE are prefetched (with the stall guard); false refuses them without opening them. */
	fuse: boolean;
	/** Seconds one open or one read may take before its file is abandoned. */
	stallSeconds: number;
	/** Bytes the record may grow to: past it, per-file and per-request events are dropped (and counted). */
	recordMaxBytes: number;
}

/** A bad value given on a command line (where it is an error, not a warning). */
export class ConfigError extends Error {
	override name = 'ConfigError';
}

/** The contract's messages are printf formats with %s and %d only. */
function format(fmt: string, ...args: (string | number)[]): string {
	let i = 0;
	return fmt.replace(/%[sd]/g, () => String(args[i++]));
}

const printable = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** Digits only, at most 15 once leading zeros are dropped (every bound is below 10^15). */
function digits(s: string): number | undefined {
	return /^[0-9]+$/.test(s) && s.replace(/^0+(?=.)/, '').length <= 15 ? Number(s) : undefined;
}

/** N or N.F with at most as many decimals as `scale` has zeros, scaled to an integer; N past `max` is refused before scaling. */
function decimal(s: string, scale: number, max: number): number | undefined {
	const m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(s);
	const places = String(scale).length - 1;
	if (!m || (m[2] ?? '').length > places) return undefined;
	const whole = digits(m[1]!);
	return whole === undefined || whole > max ? undefined : whole * scale + Number((m[2] ?? '').padEnd(places, '0'));
}

function parse(spec: ConfigKeySpec, text: string): boolean | number | string | undefined {
	if (!printable(text)) return undefined;
	const inRange = (n: number | undefined, scale = 1) => (n !== undefined && n >= spec.min! * scale && n <= spec.max! * scale ? n : undefined);
	switch (spec.type) {
		case 'bool':
			return (CONFIG.trueWords as readonly string[]).includes(text) ? true : (CONFIG.falseWords as readonly string[]).includes(text) ? false : undefined;
		case 'int':
			return inRange(digits(text));
		case 'decimal':
			return inRange(decimal(text, spec.scale!, spec.max!), spec.scale!);
		case 'enum':
			return spec.choices!.includes(text) ? text : undefined;
		case 'path':
			return text.startsWith('/') && text.length <= CONFIG.pathBytes ? text : undefined;
		case 'command':
			return text.length <= CONFIG.pathBytes ? text : undefined;
	}
}

/** The value `text` gives `key`, or undefined when it does not fit (the key's `expected` says what would). */
function parseValue<K extends ConfigKey>(key: K, text: string): ConfigValues[K] | undefined {
	return parse(CONFIG_KEYS[key], text) as ConfigValues[K] | undefined;
}

/** Megabytes (10^6 bytes) per second, as on a link's label, in bytes per second; 0 = unlimited. Throws ConfigError. */
export function parseBandwidth(value: string, name: string): number {
	const bytes = parseValue('HOTCACHE_BANDWIDTH', value);
	if (bytes === undefined) throw new ConfigError(`${name}=${value}: expected ${CONFIG_KEYS.HOTCACHE_BANDWIDTH.expected}`);
	return bytes;
}

interface Settings {
	values: ConfigValues;
	/** One per bad line or value, in the order they were met: the file, then the environment. */
	warnings: string[];
}

const KEYS = Object.keys(CONFIG_KEYS) as ConfigKey[];
const isKey = (key: string): key is ConfigKey => Object.hasOwn(CONFIG_KEYS, key);

function defaults(): ConfigValues {
	const value = ({ type, default: d, scale }: ConfigKeySpec) => (type === 'decimal' ? Number(d) * scale! : d);
	return Object.fromEntries(KEYS.map((k) => [k, value(CONFIG_KEYS[k])])) as unknown as ConfigValues;
}

/** The lines of the file, NUL bytes dropped; null when there is no file to read, after warning why. */
function fileLines(file: string, warn: (message: string) => void): string[] | null {
	try {
		if (!statSync(file).isFile()) {
			warn(format(CONFIG.messages.notRegular, file));
			return null;
		}
	} catch {
		// Whatever keeps stat from finding it, it is absent: sh's test -e cannot tell more.
		return null;
	}
	try {
		// latin1 keeps every byte as one character: a line that is not ASCII is refused below, whatever it holds.
		return readFileSync(file).toString('latin1').replace(/\0/g, '').split('\n');
	} catch {
		warn(format(CONFIG.messages.unreadable, file));
		return null;
	}
}

/** Every key's value: defaults, then the file (HOTCACHE_CONFIG, else /etc/criu/hotcache.conf), then `env`. Never throws. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
	const values = defaults();
	const warnings: string[] = [];
	const warn = (message: string): void => void warnings.push(message);
	const set = (key: ConfigKey, text: string, where: string): void => {
		if (text === '') return;
		const value = parse(CONFIG_KEYS[key], text);
		if (value === undefined) warn(format(CONFIG.messages.badValue, where, key, CONFIG_KEYS[key].expected));
		else (values as unknown as Record<ConfigKey, unknown>)[key] = value;
	};
	const file = env[CONFIG.fileVariable] || CONFIG.file;
	(fileLines(file, warn) ?? []).forEach((raw, i) => {
		const where = format(CONFIG.messages.line, file, i + 1);
		const line = raw.replace(/#.*/s, '').replace(/^[ \t]+|[ \t]+$/g, '');
		if (line === '') return;
		if (!/^[\t\x20-\x7e]*$/.test(line)) return warn(format(CONFIG.messages.notText, where));
		const eq = line.indexOf('=');
		const key = eq < 0 ? '' : line.slice(0, eq).replace(/[ \t]+$/, '');
		if (key === '') return warn(format(CONFIG.messages.notKeyValue, where));
		if (!isKey(key)) return warn(format(CONFIG.messages.unknownKey, where, key));
		set(key, line.slice(eq + 1).replace(/^[ \t]+/, ''), where);
	});
	for (const key of KEYS) set(key, env[key] ?? '', CONFIG.messages.environment);
	return { values, warnings };
}

/** The prefetcher's settings; each warning goes to `warn` (stderr: the prefetcher's log). Never throws. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, warn = (message: string): void => void process.stderr.write(`hotcache: ${message}\n`)): Config {
	const { values, warnings } = readSettings(env);
	warnings.forEach(warn);
	return {
		stateDir: values.HOTCACHE_STATE_DIR,
		workers: values.HOTCACHE_WORKERS,
		bandwidth: values.HOTCACHE_BANDWIDTH,
		activate: values.HOTCACHE_ACTIVATE,
		record: values.HOTCACHE_RECORD,
		iops: values.HOTCACHE_IOPS,
		fuse: values.HOTCACHE_FUSE,
		stallSeconds: values.HOTCACHE_STALL_TIMEOUT / CONFIG_KEYS.HOTCACHE_STALL_TIMEOUT.scale!,
		recordMaxBytes: values.HOTCACHE_RECORD_MAX * 1e6,
	};
}
