// A busybox initramfs (newc cpio) holding the test: /init, busybox, the disk driver modules, hotcache.ko
// and the static test program.
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project.js';
import { execCommand } from './exec.js';
import type { GuestModule } from './modules.js';

export interface InitramfsContents {
	busybox: string;
	module: string;
	selftest: string;
	driverModules: GuestModule[];
}

export async function makeInitramfs(out: string, contents: InitramfsContents): Promise<void> {
	const staging = `${out}.d`;
	rmSync(staging, { recursive: true, force: true });
	mkdirSync(path.join(staging, 'bin'), { recursive: true });
	mkdirSync(path.join(staging, 'modules'));
	copyFileSync(path.join(projectRoot, 'tools/vm/guest-init.sh'), path.join(staging, 'init'));
	copyFileSync(contents.busybox, path.join(staging, 'bin/busybox'));
	copyFileSync(contents.module, path.join(staging, 'hotcache.ko'));
	copyFileSync(contents.selftest, path.join(staging, 'hotcache_test'));
	for (const m of contents.driverModules) writeFileSync(path.join(staging, 'modules', `${m.name}.ko`), m.contents);
	writeFileSync(path.join(staging, 'modules.order'), contents.driverModules.map((m) => m.name).join('\n') + '\n');
	for (const exe of ['init', 'bin/busybox', 'hotcache_test']) chmodSync(path.join(staging, exe), 0o755);
	await execCommand('sh', ['-c', 'cd "$1" && find . | cpio -o -H newc --quiet > "$2"', 'sh', staging, out]);
	rmSync(staging, { recursive: true, force: true });
}
