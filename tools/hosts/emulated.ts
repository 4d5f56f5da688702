// The emulated hosts as a Node orchestrator inside the test environment uses them (the benchmark's
// runs, tools/bench/hosts-run.ts): hosts.ts set up around this process (it and its children on the
// links), a scratch directory both hosts share with one page cache (progress counters, logs), and
// commands run on either host.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { onDestination, setUpHosts, tearDownHosts, type Hosts } from './hosts.js';
import type { LinkLimit } from './link.js';

export interface CommandResult {
	code: number | null;
	stdout: string;
	stderr: string;
}

export interface EmulatedHosts {
	hosts: Hosts;
	/** Where both hosts see the shared storage. */
	storageDir: string;
	/** Writable, the same path and the same page cache on both hosts. */
	scratchDir: string;
	/** `hotcache migrate --to` for the destination. */
	destination: string;
	runOnSource(script: string, opts?: { timeoutMs?: number }): Promise<CommandResult>;
	runOnDestination(script: string, opts?: { timeoutMs?: number }): Promise<CommandResult>;
	/** Tears the hosts down (processes left in the destination's namespace must be stopped first). */
	close(): Promise<void>;
}

export interface EmulatedHostsOptions {
	/** Unique: hotcache-... */
	name: string;
	/** The shared storage's ext4 image (storage.ts makeStorage, made outside the test environment). */
	storage: string;
	link: LinkLimit;
	/** Directories each host has its own of. */
	local?: string[];
}

function run(argv: string[], timeoutMs: number): Promise<CommandResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
		child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({ code, stdout, stderr });
		});
	});
}

export async function openEmulatedHosts(opts: EmulatedHostsOptions): Promise<EmulatedHosts> {
	const storageDir = `/tmp/${opts.name}-storage`;
	const scratchDir = `/tmp/${opts.name}-scratch`;
	// Made before the destination's namespace, which then shares it (the same tmpfs).
	mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
	const hosts = await setUpHosts({ name: opts.name, storage: opts.storage, mountPoint: storageDir, link: opts.link, local: opts.local ?? [], join: [process.pid] });
	const dest = onDestination(hosts);
	const onSource = (script: string, o?: { timeoutMs?: number }) => run(['/bin/sh', '-c', script], o?.timeoutMs ?? 600_000);
	const onDest = (script: string, o?: { timeoutMs?: number }) => run([...dest, '/bin/sh', '-c', script], o?.timeoutMs ?? 600_000);
	return {
		hosts,
		storageDir,
		scratchDir,
		destination: `exec:${dest.join(' ')}`,
		runOnSource: onSource,
		runOnDestination: onDest,
		async close() {
			await tearDownHosts(hosts);
			rmSync(scratchDir, { recursive: true, force: true });
		},
	};
}
