// What the benchmark needs from `hotcache migrate` and its two emulated hosts (issue10) to run every
// variant for real, precopy included. Types only: issue10 provides an implementation, and a runner
// over it (an EmulatedHostsRunner beside same-host.ts) replaces the stand-in's script steps one for
// one. Nothing here runs yet.
import type { VariantId } from './variants.js';

/** Two hosts sharing one storage, not their page caches (tools/hosts/ of issue10). */
export interface EmulatedHosts {
	/** Where the shared storage is mounted, the same path on both hosts (read-only during runs). */
	readonly storageDir: string;
	/** A writable directory at the same path with the same page cache on both hosts (progress files, logs). */
	readonly scratchDir: string;
	/** The `--to` of `hotcache migrate` that reaches the destination (`exec:nsenter -t PID -m --`). */
	readonly destination: string;
	/** Runs `/bin/sh -c script` on the source, in its storage-link cgroup, all fds above 2 closed; resolves when it exits. */
	runOnSource(script: string, opts?: { timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
	/** The same on the destination (the baselines' prefetchers run there). */
	runOnDestination(script: string, opts?: { timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
	/** Drops both hosts' cached pages of these storage paths (each run starts the destination cold). */
	evict(paths: string[], host: 'source' | 'destination' | 'both'): Promise<void>;
	/** Removes the hosts: loop devices, mounts, cgroups, namespaces, by the names they were made with. */
	close(): Promise<void>;
}

/** Each host's link to the storage (issue10's LinkLimit); 0 = no limit. */
export interface LinkSettings {
	readBps: number;
	readIops: number;
}

/** Makes the hosts: `fill` writes the storage's files (issue10's makeStorage), each host's link as in `link`. */
export type CreateHosts = (opts: { name: string; link: LinkSettings; fill: (dir: string) => Promise<void> }) => Promise<EmulatedHosts>;

/** `hotcache migrate --json`'s summary, with the phase times the metrics need (wall clock, ms since the epoch). */
export interface MigrationSummary {
	freezeAtMs: number;
	resumeAtMs: number;
	imageBytes: number;
	imageSeconds: number;
	hotBytesResidentAtResume: number;
	prefetchedAfterResumeBytes: number;
	/** The prefetcher's record (JSON lines, hooks/record.ts), for "prefetched and never read". */
	recordFile: string | null;
}

/**
 * Runs `hotcache migrate --pid PID --to hosts.destination --warm MODE --link-mbps N --json`, calling
 * `onPhase` as each phase starts (the baselines start their prefetch at 'freeze' or 'restore').
 */
export type Migrate = (opts: {
	pid: number;
	hosts: EmulatedHosts;
	warm: Extract<VariantId, 'off' | 'restore' | 'freeze' | 'precopy'>;
	linkMbps: number;
	onPhase?: (phase: 'plan' | 'warmup' | 'freeze' | 'images' | 'restore' | 'resumed', atMs: number) => void;
}) => Promise<MigrationSummary>;
