// `hotcache inspect`: decode an image directory's hotcache.img. Also the view `scan` prints.
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, UsageError, type Command } from '../command.js';
import { decodeImage, Hotness, ImageError, pageCounts, type HotcacheImage, type ScopeName } from '../../../proto/image.js';
import { readImage } from '../../../hooks/load-image.js';
import { restoreState, type RestoreState } from '../../../hooks/state-dir.js';
import { jsonLine, printable } from '../../../hooks/printable.js';

export type ClassName = 'hot' | 'warm' | 'resident';

/** The stable `--json` shape of `inspect` and `scan`. */
export interface ImageView {
	backend: string;
	lru: string;
	hotWarmExact: boolean;
	partial: boolean;
	partialReason: string;
	host: string;
	kernel: string;
	timeNs: string;
	durationMs: number;
	pageSize: number;
	rootPid: number;
	ownRoot: boolean;
	tool: string;
	/** What the capture covered: tree (open and mapped files), cgroup (also what its memory cgroup brought into the cache). */
	scope: ScopeName;
	/** The memory cgroup's directory of a cgroup scope, else ''. */
	cgroup: string;
	files: FileView[];
}

export interface FileView {
	path: string;
	sizePages: number;
	resident: number;
	hot: number;
	warm: number;
	mapped: boolean;
	dirtySynced: boolean;
	identity: { size: number; mtimeNs: string; inode: string; dev: string; handle: string; handleType: number };
	fds: { pid: number; fd: number; offset: number }[];
	ranges: { start: number; count: number; class: ClassName }[];
}

const CLASS_NAMES: Record<Hotness, ClassName> = { [Hotness.Hot]: 'hot', [Hotness.Warm]: 'warm', [Hotness.Resident]: 'resident' };

export function imageView(image: HotcacheImage): ImageView {
	const c = image.capture;
	return {
		backend: c.backend,
		lru: c.lru,
		hotWarmExact: c.hotWarmExact,
		partial: c.partial,
		partialReason: c.partialReason,
		host: c.host,
		kernel: c.kernel,
		timeNs: c.timeNs.toString(),
		durationMs: c.durationMs,
		pageSize: c.pageSize,
		rootPid: c.rootPid,
		ownRoot: c.ownRoot,
		tool: c.tool,
		scope: c.scope ?? 'unspecified',
		cgroup: c.cgroup ?? '',
		files: image.files.map((f) => ({
			path: f.path,
			sizePages: f.sizePages,
			...pageCounts(f),
			mapped: f.mapped,
			dirtySynced: f.dirtySynced,
			identity: {
				size: f.identity.size,
				mtimeNs: f.identity.mtimeNs.toString(),
				inode: f.identity.inode.toString(),
				dev: f.identity.dev.toString(),
				handle: Buffer.from(f.identity.handle).toString('hex'),
				handleType: f.identity.handleType,
			},
			fds: f.fds,
			ranges: f.ranges.map((r) => ({ start: r.start, count: r.count, class: CLASS_NAMES[r.hotness] })),
		})),
	};
}

/** A compact table: one header line, then one line per file. */
function renderTable(view: ImageView): string {
	const sum = (key: 'resident' | 'hot' | 'warm') => view.files.reduce((n, f) => n + f[key], 0);
	const head =
		`backend ${view.backend}, ${view.lru} LRU${view.hotWarmExact ? '' : ' (hot and warm not told apart)'}, ` +
		`${view.files.length} files, ${sum('resident')} pages cached, ${sum('hot')} hot, ${sum('warm')} warm, ${view.durationMs} ms` +
		`\nscope ${view.scope === 'unspecified' ? 'tree (not recorded)' : view.scope}${view.cgroup ? ` (memory cgroup ${printable(view.cgroup)})` : ''}` +
		(view.partial ? `\npartial: ${printable(view.partialReason)}` : '');
	const rows = view.files.map((f) => {
		const flags = (f.mapped ? 'm' : '-') + (f.dirtySynced ? 's' : '-');
		const fds = f.fds.map((d) => `${d.pid}:${d.fd}@${d.offset}`).join(',');
		return [String(f.sizePages), String(f.resident), String(f.hot), String(f.warm), flags, printable(f.path) + (fds ? `  [${fds}]` : '')];
	});
	const table = [['PAGES', 'CACHED', 'HOT', 'WARM', 'MS', 'PATH  [PID:FD@OFFSET]'], ...rows];
	const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...table.map((r) => r[i]!.length)));
	const lines = table.map((r) => r.map((cell, i) => (i < 5 ? cell.padStart(widths[i]!) : cell)).join('  '));
	return `${head}\n${lines.join('\n')}\nMS: m = mapped, s = had dirty pages, synced at capture\n`;
}

export function printView(view: ImageView, json: boolean): void {
	process.stdout.write(json ? jsonLine(view) : renderTable(view));
}

/** Decodes a framed image; a refused image becomes a CliError naming why. */
export function decodeOrFail(buf: Uint8Array, source: string): HotcacheImage {
	try {
		return decodeImage(buf);
	} catch (err) {
		if (err instanceof ImageError) throw new CliError(`image-${err.kind}`, `${source}: ${err.message}`);
		throw err;
	}
}

interface RestoreView {
	/** finished, running, ended (gone without a verdict: killed, out of memory, crashed) or not started. */
	prefetcher: RestoreState['state'];
	pid: number | null;
	status: string | null;
}

function restoreView(r: RestoreState): RestoreView {
	return { prefetcher: r.state, pid: r.prefetcher?.pid ?? null, status: r.status };
}

const STATES: Record<RestoreState['state'], string> = {
	finished: 'finished',
	running: 'running',
	ended: 'ended without finishing (killed, out of memory or crashed)',
	'not started': 'not started',
};

function renderRestore(r: RestoreState): string {
	const who = r.prefetcher ? ` (pid ${r.prefetcher.pid})` : '';
	return `prefetcher${who}: ${STATES[r.state]}\nstatus: ${r.status === null ? '(none)' : printable(r.status)}\n`;
}

function isDirectory(file: string): boolean {
	try {
		return statSync(file).isDirectory();
	} catch {
		return false;
	}
}

export const inspectCommand: Command = {
	name: 'inspect',
	summary: "decode an image directory's hotcache.img: files, fds, hot/warm/cached pages",
	usage: 'hotcache inspect [--json] IMAGE_DIR|IMAGE_FILE',
	async run(args) {
		const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
		if (positionals.length !== 1) throw new UsageError('give one image directory');
		const given = positionals[0]!;
		const json = values.json === true;
		// The directory named is followed like any argument; the image in it must be a regular file.
		const source = isDirectory(given) ? { dir: given } : { dir: path.dirname(given), name: path.basename(given) };
		// A restore directory of the state directory: what became of its prefetcher, first.
		const restore = 'name' in source ? null : restoreState(given);
		const loaded = await readImage(source);
		if (!loaded.ok && restore && loaded.kind === 'unreadable') {
			// The plugin passed the image as an fd: no link or copy of it stays.
			process.stdout.write(json ? jsonLine({ restore: restoreView(restore) }) : renderRestore(restore));
			return 0;
		}
		if (!loaded.ok) throw new CliError(loaded.kind === 'unreadable' ? 'no-image' : `image-${loaded.kind}`, loaded.reason);
		const view = imageView(loaded.image);
		if (json) process.stdout.write(jsonLine(restore ? { restore: restoreView(restore), ...view } : view));
		else process.stdout.write((restore ? renderRestore(restore) : '') + renderTable(view));
		return 0;
	},
};
