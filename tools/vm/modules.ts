// Kernel modules a guest needs before it can see its disk (virtio_blk is a module in Debian's cloud
// kernels, and so is virtio_pci on 6.1), in load order. There is no depmod output to lean on (the rootfs
// may hold no modules.dep), so dependencies come from each module's own "depends=" modinfo entry.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface GuestModule {
	name: string;
	/** Uncompressed: busybox insmod cannot read .ko.xz. */
	contents: Buffer;
}

const normalise = (name: string): string => name.replace(/-/g, '_');

function indexModules(dir: string, index: Map<string, string>): void {
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) indexModules(full, index);
		else if (/\.ko(\.xz)?$/.test(entry.name)) index.set(normalise(entry.name.replace(/\.ko(\.xz)?$/, '')), full);
	}
}

function readModule(file: string): Buffer {
	return file.endsWith('.xz') ? execFileSync('xz', ['-dc', file], { maxBuffer: 64 << 20 }) : readFileSync(file);
}

function dependsOf(contents: Buffer): string[] {
	const at = contents.indexOf('\0depends=');
	if (at < 0) return [];
	const end = contents.indexOf(0, at + 1);
	const list = contents.subarray(at + '\0depends='.length, end).toString();
	return list ? list.split(',').map(normalise) : [];
}

function builtIn(modulesDir: string): Set<string> {
	const file = path.join(modulesDir, 'modules.builtin');
	if (!existsSync(file)) return new Set();
	return new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => normalise(path.basename(l, '.ko'))));
}

/** `wanted` and their dependencies, dependencies first; names built into the kernel are left out. */
export function guestModules(modulesDir: string, wanted: string[]): GuestModule[] {
	const index = new Map<string, string>();
	indexModules(path.join(modulesDir, 'kernel'), index);
	const inKernel = builtIn(modulesDir);
	const ordered: GuestModule[] = [];
	const seen = new Set<string>();
	const visit = (name: string): void => {
		if (seen.has(name)) return;
		seen.add(name);
		const file = index.get(name);
		if (!file) {
			if (inKernel.has(name)) return;
			throw new Error(`kernel module ${name} is neither in ${modulesDir} nor built in`);
		}
		const contents = readModule(file);
		for (const dep of dependsOf(contents)) visit(dep);
		ordered.push({ name, contents });
	};
	for (const name of wanted) visit(normalise(name));
	return ordered;
}
