// hotcache-capture (criu-plugin/out/) in the guests: where the built tool is, and what the image it wrote
// on the guest's disk holds, decoded by the project's TypeScript codec.
import { constants } from 'node:fs';
import { decodeImage, pageCounts } from '../../proto/image.js';
import { builtIf } from '../project.js';

export function builtCaptureTool(): string | null {
	return builtIf('capture', constants.X_OK);
}

/** Per file of the image hotcache-capture wrote in the guest, as decoded by the TypeScript codec. */
export interface CapturedFile {
	path: string;
	fds: number;
	resident: number;
	hot: number;
	warm: number;
}

export interface CapturedImage {
	backend: string;
	lru: string;
	scope: string;
	cgroup: string;
	partial: boolean;
	files: CapturedFile[];
}

export function summariseImage(buf: Buffer): CapturedImage {
	const image = decodeImage(buf);
	return {
		backend: image.capture.backend,
		lru: image.capture.lru,
		scope: image.capture.scope ?? 'unspecified',
		cgroup: image.capture.cgroup ?? '',
		partial: image.capture.partial,
		files: image.files.map((f) => ({ path: f.path, fds: f.fds.length, ...pageCounts(f) })),
	};
}
