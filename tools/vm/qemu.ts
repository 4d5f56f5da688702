// Boots a kernel in QEMU with software emulation (/dev/kvm exists here but nested guests hang under it)
// and collects the serial console. A guest still running at the timeout, or when this process exits,
// is killed by its pid; setpriv --pdeathsig also has it killed when this process dies without running
// its exit handlers (SIGTERM, SIGKILL; seen to take effect about 2 s later).
import { spawn, type ChildProcess } from 'node:child_process';

export interface BootOptions {
	kernel: string;
	initrd: string;
	/** Raw disk images, attached as virtio /dev/vda, /dev/vdb, ... in this order. */
	drives: Drive[];
	append: string;
	timeoutMs: number;
	memoryMb?: number;
	/** QEMU's network options (netdevs and NICs); none by default. */
	network?: string[];
	/** Stops the guest (killed by its pid) when aborted: a guest that serves others until they are done. */
	signal?: AbortSignal;
	/** Called with the console's output as it comes (a long guest's progress). */
	onOutput?: (chunk: string) => void;
}

export interface Drive {
	file: string;
	/** Attached read-only: a cached image the guest must not change. */
	readOnly?: boolean;
	/** Writable, the writes kept in a temporary file QEMU discards at exit: a cached image used as a guest's own. */
	snapshot?: boolean;
}

export interface BootResult {
	console: string;
	code: number | null;
	timedOut: boolean;
	ms: number;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
	for (const child of live) if (child.pid) process.kill(child.pid, 'SIGKILL');
});

export function bootVm(opts: BootOptions): Promise<BootResult> {
	const args = [
		'-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2', '-m', String(opts.memoryMb ?? 1024),
		'-nographic', ...(opts.network ?? ['-nic', 'none']), '-no-reboot', '-kernel', opts.kernel, '-initrd', opts.initrd,
		...opts.drives.flatMap((d) => ['-drive', `file=${d.file},if=virtio,format=raw${d.readOnly ? ',readonly=on' : ''}${d.snapshot ? ',snapshot=on' : ''}`]),
		'-append', `console=ttyS0 quiet panic=-1 ${opts.append}`,
	];
	const started = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
		live.add(child);
		let console = '';
		let timedOut = false;
		const keep = (c: Buffer): void => {
			const text = c.toString('latin1');
			console += text;
			opts.onOutput?.(text);
		};
		child.stdout.on('data', keep);
		child.stderr.on('data', keep);
		const stop = (): void => {
			if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
		};
		const timer = setTimeout(() => {
			timedOut = true;
			stop();
		}, opts.timeoutMs);
		opts.signal?.addEventListener('abort', stop, { once: true });
		child.on('error', (err) => {
			clearTimeout(timer);
			opts.signal?.removeEventListener('abort', stop);
			live.delete(child);
			reject(err);
		});
		child.on('close', (code) => {
			clearTimeout(timer);
			opts.signal?.removeEventListener('abort', stop);
			live.delete(child);
			resolve({ console, code, timedOut, ms: Date.now() - started });
		});
	});
}
