// `npm ci` / `npm run build`, after tsc: the self-contained prefetcher's pieces (the bundle and the
// private Node). A failure to fetch the Node is reported, not fatal: the checkout still works with
// the host's node, and `hotcache doctor` says which one an install uses.
import { bundlePrefetcher } from './prefetcher-bundle.js';
import { ensurePrivateNode } from './private-node.js';

await bundlePrefetcher();
try {
	ensurePrivateNode();
} catch (err) {
	process.stderr.write(`criu-hotcache: no private Node for the prefetcher: ${(err as Error).message}\n`);
}
