// One move of a benchmark run: `hotcache migrate --json --events` as its own process (as a user runs
// it), the phases it reports on stderr as they begin handed to the run (which starts the outside
// prefetchers and moves the progress file's epoch at the freeze), and its summary at the end.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../project.js';
import type { Phase } from '../migrate/source.js';
import type { MigrationSummary } from '../migrate/summary.js';
import type { Variant } from './variants.js';

const HOTCACHE = path.join(projectRoot, 'tools/hotcache.js');

export interface MigrationRequest {
	pid: number;
	/** `hotcache migrate --to`. */
	destination: string;
	warm: NonNullable<Variant['warm']>;
	/** The images' pace, bytes per second. */
	migrationBps: number;
	/** Called as each phase begins, with its wall-clock time (ms since the epoch). */
	onPhase(phase: Phase, atMs: number): void;
}

/** A phase line of `--events` (tools/migrate/progress.ts eventsUi); null for any other line. */
export function parseEvent(line: string): { phase: Phase; atMs: number } | null {
	try {
		const e = JSON.parse(line) as { phase?: unknown; atMs?: unknown };
		return typeof e.phase === 'string' && typeof e.atMs === 'number' ? { phase: e.phase as Phase, atMs: e.atMs } : null;
	} catch {
		return null;
	}
}

/** Runs the migration; resolves to its summary once the process moved, rejects with why otherwise. */
export function migrate(req: MigrationRequest): Promise<MigrationSummary> {
	const args = [
		HOTCACHE, 'migrate', '--pid', String(req.pid), '--to', req.destination, '--warm', req.warm,
		// Megabits per second, as `hotcache migrate` takes a link's rate.
		'--link-mbps', String((req.migrationBps * 8) / 1e6), '--json', '--events',
	];
	const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	const other: string[] = [];
	child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
	createInterface({ input: child.stderr }).on('line', (line) => {
		const event = parseEvent(line);
		if (event) req.onPhase(event.phase, event.atMs);
		else other.push(line);
	});
	return new Promise((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (code) => {
			let summary: MigrationSummary | null = null;
			try {
				summary = JSON.parse(stdout) as MigrationSummary;
			} catch {
				// Reported below with what it printed.
			}
			if (code === 0 && summary?.outcome === 'moved') resolve(summary);
			else reject(new Error(`hotcache migrate --warm ${req.warm} exited ${code}${summary?.error ? `: ${summary.error}` : ''}\n${stdout.trim()}\n${other.slice(-20).join('\n')}`.trim()));
		});
	});
}
