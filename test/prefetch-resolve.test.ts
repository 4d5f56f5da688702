// Resolving the image's paths inside the restored root: links out of the root are not followed, ".."
// does not escape, FIFOs and devices are refused without being opened, changed files are skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, fstatSync, mkdirSync, rmSync, symlinkSync, truncateSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { closeFd, openInRoot, openRoot, type OpenOutcome } from '../hooks/open-in-root.js';
import { Resolver } from '../hooks/native.js';
import type { ImageFile } from '../proto/image.js';
import { projectRoot } from '../tools/project.js';
import { buildFixtures, scratchDir, hot, imageFile, testUnless, writeFile } from './support.js';

const leaseHolder = path.join(projectRoot, 'test/fixtures/out/lease-holder');

const base = scratchDir('resolve').dir;
const root = path.join(base, 'root');
const outside = path.join(base, 'outside');
mkdirSync(path.join(root, 'data'), { recursive: true });
mkdirSync(outside);
const inRootFile = path.join(root, 'data/file');
const secret = path.join(outside, 'secret');
writeFile(inRootFile, 3 * 4096);
writeFile(secret, 4096);
symlinkSync(secret, path.join(root, 'link-abs')); // absolute target outside the root
symlinkSync('../../outside/secret', path.join(root, 'data/link-rel')); // climbs out of the root
symlinkSync('/', path.join(root, 'to-slash'));
symlinkSync('file', path.join(root, 'data/link-in')); // stays inside
const isRoot = process.getuid?.() === 0;
spawnSync('mkfifo', [path.join(root, 'fifo')]);
if (isRoot) spawnSync('mknod', [path.join(root, 'null'), 'c', '1', '3']);

/** Opens `imagePath` in the root as an entry describing `realFile` (so identity matches when it is that file). */
async function open(imagePath: string, realFile: string, resolver = Resolver.Auto): Promise<OpenOutcome> {
	const rootFd = await openRoot(root);
	try {
		return await openInRoot(rootFd, imageFile(realFile, imagePath, [hot(0, 1)]), true, resolver);
	} finally {
		await closeFd(rootFd);
	}
}

function refusedBecause(outcome: OpenOutcome, pattern: RegExp): void {
	assert.ok(!outcome.ok, `expected a refusal, the file was opened`);
	if (!outcome.ok) assert.match(outcome.reason, pattern);
}

for (const [name, resolver] of [['openat2', Resolver.Openat2], ['the O_NOFOLLOW walk', Resolver.Walk]] as const) {
	test(`${name}: a regular file inside the root opens read-only`, async () => {
		const outcome = await open('/data/file', inRootFile, resolver);
		assert.ok(outcome.ok, outcome.ok ? '' : outcome.reason);
		if (!outcome.ok) return;
		assert.is(outcome.file.resolver, name === 'openat2' ? 'openat2' : 'walk');
		assert.is(outcome.file.stat.ino, fstatSync(outcome.file.fd, { bigint: true }).ino);
		closeSync(outcome.file.fd);
	});

	test(`${name}: a symlink pointing out of the root is not followed`, async () => {
		for (const p of ['/link-abs', '/data/link-rel', `/to-slash${secret}`]) {
			const outcome = await open(p, secret, resolver);
			refusedBecause(outcome, /not found in the root|symlink/);
		}
	});

	test(`${name}: ".." does not escape the root`, async () => {
		refusedBecause(await open('/../outside/secret', secret, resolver), /not found in the root|leave the root/);
		refusedBecause(await open('/data/../../outside/secret', secret, resolver), /not found in the root|leave the root/);
	});

	test(`${name}: a FIFO is refused without being opened`, async () => {
		refusedBecause(await open('/fifo', inRootFile, resolver), /is a FIFO, not a regular file/);
	});
}

// Regular files as far as stat goes, but no storage behind them: an attribute is refused by its file
// system before any open. Here the root is "/", where procfs, sysfs and cgroupfs are mounted.
const candidates: [string, string][] = [
	[`/proc/${process.pid}/status`, 'proc'], // not /proc/self: a symlink, which the walk refuses anyway
	['/sys/kernel/mm/transparent_hugepage/enabled', 'sysfs'],
	['/sys/fs/cgroup/cgroup.controllers', 'cgroup2'],
	['/sys/fs/cgroup/unified/cgroup.controllers', 'cgroup2'],
	['/sys/fs/cgroup/memory/memory.limit_in_bytes', 'cgroup'],
];
const kernelInterfaces = candidates.filter(([file]) => existsSync(file));

for (const resolver of [Resolver.Openat2, Resolver.Walk]) {
	test(`resolver ${Resolver[resolver]}: files of procfs, sysfs and cgroupfs are refused by their file system`, async () => {
		assert.ok(kernelInterfaces.length >= 2, `only ${kernelInterfaces.length} kernel interface files found here`);
		const rootFd = await openRoot('/');
		try {
			for (const [file, fs] of kernelInterfaces) {
				const outcome = await openInRoot(rootFd, imageFile(file, file, [hot(0, 1)]), true, resolver);
				refusedBecause(outcome, new RegExp(`^on ${fs}, a kernel interface with no storage behind it: not opened$`));
			}
			// The same root still opens a regular file on a disk.
			const onDisk = await openInRoot(rootFd, imageFile(inRootFile, inRootFile, [hot(0, 1)]), true, resolver);
			assert.ok(onDisk.ok, onDisk.ok ? '' : onDisk.reason);
			if (onDisk.ok) closeSync(onDisk.file.fd);
		} finally {
			await closeFd(rootFd);
		}
	});
}

test('no link is followed, not even one that stays inside the root: image paths are resolved paths', async () => {
	for (const resolver of [Resolver.Openat2, Resolver.Walk]) refusedBecause(await open('/data/link-in', inRootFile, resolver), /a symlink on the way/);
});

// A link inside the root whose target is padded with "." up to PATH_MAX, through itself up to the
// kernel's 40 hops: each lookup through it cost the kernel about 80,000 components.
test('a path through a padded in-root link is refused at the link, whatever its padding', async () => {
	const padded = path.join(root, 'padded');
	symlinkSync('./'.repeat(2000) + 'data/file', padded);
	try {
		for (const resolver of [Resolver.Openat2, Resolver.Walk]) refusedBecause(await open('/padded', inRootFile, resolver), /a symlink on the way/);
	} finally {
		rmSync(padded);
	}
});

testUnless(isRoot ? null : 'taking a lease on a file of another owner needs root (CAP_LEASE)', test, 'a file another process holds a write lease on is refused without breaking the lease', async () => {
	buildFixtures();
	const leased = path.join(root, 'data/leased');
	writeFile(leased, 4096);
	const holder = spawn(leaseHolder, [leased], { stdio: ['pipe', 'pipe', 'inherit'] });
	let out = '';
	holder.stdout.on('data', (b: Buffer) => (out += b));
	const exited = once(holder, 'exit');
	try {
		for (let i = 0; i < 200 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 10));
		assert.is(out, 'ready\n', 'the lease is held');
		// The opens share a list of leases read at most every 10 ms: one taken just before it is the
		// open's to report (it fails with EWOULDBLOCK), which this test does not look at.
		await new Promise((r) => setTimeout(r, 30));
		for (const resolver of [Resolver.Openat2, Resolver.Walk]) refusedBecause(await open('/data/leased', leased, resolver), /holds a lease on it/);
	} finally {
		holder.stdin.end();
		await exited;
	}
	assert.is(out, 'ready\nheld\n', 'the holder was never asked to give its lease up (SIGIO)');
});

testUnless(isRoot ? null : 'mounting autofs needs root', test, 'a directory on autofs is refused by its file system, without asking its daemon', async () => {
	const mount = path.join(root, 'auto');
	mkdirSync(mount);
	// A mount whose daemon (the pipe's reader) never answers: any lookup inside it would hang.
	const r = spawnSync('sh', ['-c', `mkfifo "$1.pipe" && exec 3<>"$1.pipe" && mount -t autofs -o fd=3,pgrp=$$,minproto=5,maxproto=5,indirect hotcache-test-$$ "$1"`, 'sh', mount], { encoding: 'utf8' });
	assert.is(r.status, 0, r.stderr);
	try {
		refusedBecause(await open('/auto', inRootFile, Resolver.Openat2), /^on autofs, served by a process that could make open or read hang: not opened$/);
	} finally {
		spawnSync('umount', [mount]);
		rmSync(`${mount}.pipe`);
	}
});

testUnless(isRoot ? null : 'creating a device node needs root', test, 'a device is refused without being opened', async () => {
	refusedBecause(await open('/null', inRootFile), /is a character device, not a regular file/);
});

test('a file whose size or mtime changed since the capture is skipped with the reason', async () => {
	const entryBefore = imageFile(inRootFile, '/data/file', [hot(0, 1)]);
	const rootFd = await openRoot(root);
	try {
		utimesSync(inRootFile, new Date(), new Date(Date.now() + 5000));
		refusedBecause(await openInRoot(rootFd, entryBefore, true), /modified since capture/);
		const entryNow = imageFile(inRootFile, '/data/file', [hot(0, 1)]);
		truncateSync(inRootFile, 4096);
		refusedBecause(await openInRoot(rootFd, entryNow, true), /size changed: captured 12288 bytes, now 4096/);
	} finally {
		await closeFd(rootFd);
		writeFile(inRootFile, 3 * 4096);
	}
});

test('a capture without an mtime (0) matches only a file whose mtime is 0', async () => {
	const rootFd = await openRoot(root);
	try {
		const noMtime = (): ImageFile => {
			const entry = imageFile(inRootFile, '/data/file', [hot(0, 1)]);
			return { ...entry, identity: { ...entry.identity, mtimeNs: 0n } };
		};
		refusedBecause(await openInRoot(rootFd, noMtime(), true), /modified since capture \(mtime 0 ns, now \d+ ns\)/);
		utimesSync(inRootFile, 0, 0);
		const outcome = await openInRoot(rootFd, noMtime(), true);
		assert.ok(outcome.ok, outcome.ok ? '' : outcome.reason);
		if (outcome.ok) closeSync(outcome.file.fd);
	} finally {
		await closeFd(rootFd);
		writeFile(inRootFile, 3 * 4096);
	}
});

test.run();
