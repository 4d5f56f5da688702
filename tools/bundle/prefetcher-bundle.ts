// The prefetcher as one file, for hosts without the checkout: esbuild bundles the compiled
// dist/hooks/prefetcher.js with its dependencies into dist/hooks/prefetcher.mjs. The bundle keeps
// the checkout's relative paths to what it loads at run time (../../proto/hotcache.proto, the
// addon under ../../build/Release), so the installed tree mirrors them (see self-contained.ts).
import { build } from 'esbuild';
import path from 'node:path';
import { projectRoot } from '../project.js';
import { BUNDLE } from './self-contained.js';

export async function bundlePrefetcher(): Promise<string> {
	const outfile = path.join(projectRoot, BUNDLE);
	await build({
		entryPoints: [path.join(projectRoot, 'dist/hooks/prefetcher.js')],
		outfile,
		bundle: true,
		platform: 'node',
		format: 'esm',
		target: 'node20',
		logLevel: 'warning',
		// The CommonJS dependencies (protobufjs) require node's own modules at run time; an ES module
		// has no `require` of its own, so the bundle makes one.
		banner: { js: "import { createRequire as hotcacheCreateRequire } from 'node:module';\nconst require = hotcacheCreateRequire(import.meta.url);" },
	});
	return outfile;
}
