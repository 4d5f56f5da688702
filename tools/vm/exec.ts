// Runs a host command to completion and returns its output; a failure throws with the output attached.
import { spawn, type ChildProcess } from 'node:child_process';

/** The commands running now, for a caller interrupted before they end (a Ctrl-C sent to it alone). */
const running = new Set<ChildProcess>();

export function execCommand(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		running.add(child);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
		child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
		child.on('error', reject);
		child.on('close', (code, signal) => {
			running.delete(child);
			if (code === 0) resolve({ stdout, stderr });
			else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${stderr.slice(-4000)}`));
		});
	});
}

/** Kills every command started here that has not ended (by its pid, through its handle). */
export function killRunningCommands(): void {
	for (const child of running) child.kill('SIGKILL');
}
