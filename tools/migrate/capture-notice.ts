// The plugin's notification that hotcache.img is written (criu-plugin/notify.c): a unix socket in a
// private directory, named to CRIU in HOTCACHE_NOTIFY. The plugin sends one line at the freeze, before
// CRIU dumps the memory: "written <bytes>" or "failed <reason>".
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export type Notice = { written: true; bytes: number } | { written: false; reason: string };

/** One line from one connection is all a notice is. */
const MAX_LINE = 256;

export class CaptureNotice {
	private constructor(
		private readonly server: Server,
		private readonly dir: string,
		readonly socket: string,
		readonly notice: Promise<Notice>,
	) {}

	static async listen(): Promise<CaptureNotice> {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'hotcache-notify-'));
		const socket = path.join(dir, 'notify.sock');
		let deliver: (n: Notice) => void = () => {};
		const notice = new Promise<Notice>((resolve) => (deliver = resolve));
		const server = createServer((conn) => {
			let text = '';
			conn.on('data', (c: Buffer) => {
				text += c.toString();
				if (text.length > MAX_LINE) conn.destroy();
			});
			conn.on('end', () => deliver(parseNotice(text)));
			conn.on('error', () => {});
		});
		await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
		return new CaptureNotice(server, dir, socket, notice);
	}

	close(): void {
		this.server.close();
		rmSync(this.dir, { recursive: true, force: true });
	}
}

export function parseNotice(text: string): Notice {
	const line = text.split('\n')[0] ?? '';
	const written = /^written (\d+)$/.exec(line);
	if (written) return { written: true, bytes: Number(written[1]) };
	return { written: false, reason: line.startsWith('failed ') ? line.slice('failed '.length) : `unreadable notice ${JSON.stringify(line.slice(0, 80))}` };
}
