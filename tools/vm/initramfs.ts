// A busybox initramfs (newc cpio) holding the test: /init, busybox, the disk driver modules, hotcache.ko,
// the static test program and, when built, hotcache-capture with the shared libraries it needs.
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
	/** criu-plugin/out/hotcache-capture, or null when it is not built. */
	capture: string | null;
}

/** The shared libraries of an executable, as absolute host paths; none when ldd finds it static. */
async function sharedLibraries(executable: string): Promise<string[]> {
	let stdout: string;
	try {
		({ stdout } = await execCommand('ldd', [executable]));
	} catch {
		return [];
	}
	return [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
}

async function addCapture(staging: string, capture: string): Promise<void> {
	copyFileSync(capture, path.join(staging, 'hotcache-capture'));
	chmodSync(path.join(staging, 'hotcache-capture'), 0o755);
	copyFileSync(path.join(projectRoot, 'tools/vm/guest-capture.sh'), path.join(staging, 'guest-capture.sh'));
	for (const lib of await sharedLibraries(capture)) {
		mkdirSync(path.join(staging, path.dirname(lib)), { recursive: true });
		copyFileSync(lib, path.join(staging, lib));
	}
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
	if (contents.capture) await addCapture(staging, contents.capture);
	await execCommand('sh', ['-c', 'cd "$1" && find . | cpio -o -H newc --quiet > "$2"', 'sh', staging, out]);
	rmSync(staging, { recursive: true, force: true });
}
