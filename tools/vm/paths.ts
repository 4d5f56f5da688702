// Where the VM harness keeps what it builds and boots.
import path from 'node:path';
import { cacheDir } from '../testenv/rootfs.js';

/** The VM harness's own cache (built modules, initramfs images, scratch disks). */
export function vmCacheDir(): string {
	return path.join(cacheDir(), 'vm');
}
