// Restore-side configuration: /etc/criu/hotcache.conf (KEY=VALUE lines, the same names as the
// environment variables), overridden by the environment. Documented in hooks/README.md.
// HOTCACHE_STRICT and HOTCACHE_DISABLE are the action script's alone: the prefetcher ignores them.
import { readFileSync } from 'node:fs';

const CONFIG_FILE = '/etc/criu/hotcache.conf';
export const DEFAULT_STATE_DIR = '/var/lib/criu-hotcache';
/** Measured on this machine (hooks/README.md): throughput stops growing beyond this on a local disk. */
export const DEFAULT_WORKERS = 8;
export const MAX_WORKERS = 64;

/** libuv threads for `workers` chunks in flight: one each, and two for the opens and cachestat calls (as in the action script). */
export function threadPoolSize(workers: number): number {
	return workers + 2;
}

export interface Config {
	stateDir: string;
	workers: number;
	/** Bytes per second; 0 = no cap. */
	bandwidth: number;
	/** Second read of the hot pages so they land on the active list. */
	activate: boolean;
	/** An extra copy of the record, for the operator or the benchmark. */
	record: string | null;
}

export class ConfigError extends Error {
	override name = 'ConfigError';
}

/** KEY=VALUE lines; '#' starts a comment; no shell expansion of any kind. */
export function parseConfigFile(text: string, file: string = CONFIG_FILE): Record<string, string> {
	const out: Record<string, string> = {};
	for (const line of text.split('\n')) {
		const trimmed = line.replace(/#.*/, '').trim();
		if (!trimmed) continue;
		const eq = trimmed.indexOf('=');
		if (eq <= 0) throw new ConfigError(`${file}: line ${JSON.stringify(line)} is not KEY=VALUE`);
		out[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
	}
	return out;
}

function readConfigFile(file: string): Record<string, string> {
	try {
		return parseConfigFile(readFileSync(file, 'utf8'), file);
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
		throw err;
	}
}

function flag(value: string | undefined, name: string, fallback: boolean): boolean {
	if (value === undefined || value === '') return fallback;
	if (/^(1|yes|true|on)$/i.test(value)) return true;
	if (/^(0|no|false|off)$/i.test(value)) return false;
	throw new ConfigError(`${name}=${value}: expected 1 or 0`);
}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
	if (value === undefined || value === '') return fallback;
	const n = Number(value);
	if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name}=${value}: expected an integer from ${min} to ${max}`);
	return n;
}

/** Megabytes (10^6 bytes) per second, as on a link's label; 0 = unlimited. */
export function parseBandwidth(value: string | undefined, name: string): number {
	if (value === undefined || value === '') return 0;
	const n = Number(value);
	if (!Number.isFinite(n) || n < 0 || n > 1e6) throw new ConfigError(`${name}=${value}: expected megabytes per second (0 = unlimited)`);
	return Math.round(n * 1e6);
}

/** `file` defaults to HOTCACHE_CONFIG (as in the action script), else /etc/criu/hotcache.conf. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, file: string = env.HOTCACHE_CONFIG || CONFIG_FILE): Config {
	const merged: Record<string, string | undefined> = { ...readConfigFile(file) };
	// An empty variable counts as unset, as in the action script's ${VAR:=...}.
	for (const [k, v] of Object.entries(env)) if (k.startsWith('HOTCACHE_') && v) merged[k] = v;
	return {
		stateDir: merged.HOTCACHE_STATE_DIR || DEFAULT_STATE_DIR,
		workers: integer(merged.HOTCACHE_WORKERS, 'HOTCACHE_WORKERS', DEFAULT_WORKERS, 1, MAX_WORKERS),
		bandwidth: parseBandwidth(merged.HOTCACHE_BANDWIDTH, 'HOTCACHE_BANDWIDTH'),
		activate: flag(merged.HOTCACHE_ACTIVATE, 'HOTCACHE_ACTIVATE', true),
		record: merged.HOTCACHE_RECORD || null,
	};
}
